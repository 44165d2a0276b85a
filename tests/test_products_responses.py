"""Responses for a region (issue 10, item 4): the detector-mixed RMF and the source ARF, with
per-detector CALDB responses that really differ (a CALDB tree written in the test)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from astropy.io import fits

from nuskybgd.io.ogip import read_arf, read_rmf
from nuskybgd.io.ogip_types import Arf, Rmf
from nuskybgd.io.validate import validate_arf, validate_rmf
from nuskybgd.products.responses import write_region_responses
from nuskybgd.products.spectra import extract_spectra


class _DetectorShifted:
    """The nominal calibration with detector d's RMF moved up by 4·d channels and its absorption
    scaled by (1 − 0.1·d): four responses that clearly differ."""

    def __init__(self, cal):
        self._cal = cal

    def __getattr__(self, name):
        return getattr(self._cal, name)

    def rmf(self, det: int) -> Rmf:
        r = self._cal.rmf(det)
        m = r.matrix.tocoo()
        col = np.clip(m.col + 4 * det, 0, r.n_channel - 1)
        matrix = sp.csr_matrix((m.data, (m.row, col)), shape=m.shape)
        return Rmf(r.energ_lo, r.energ_hi, matrix, r.channels, r.e_min, r.e_max, dict(r.header))

    def detabs(self, det: int) -> Arf:
        a = self._cal.detabs(det)
        return Arf(a.energ_lo, a.energ_hi, np.asarray(a.specresp) * (1.0 - 0.1 * det), dict(a.header))


@pytest.fixture(scope="module")
def caldb(region_observation, tmp_path_factory):
    from nuskybgd.calib import resolve
    from nuskybgd.simulate.caldb_tree import write_caldb_tree

    root = tmp_path_factory.mktemp("caldb")
    write_caldb_tree(root, {"A": _DetectorShifted(resolve("A", prefer="builtin"))})
    date = fits.getheader(region_observation.event_file, "EVENTS")["DATE-OBS"]
    cal = resolve("A", date_obs=date, caldb=root)
    assert cal.source_for("rmf") == "CALDB"
    rmfs = {d: read_rmf(next((root / "data/nustar/fpm/cpf/rmf").glob(f"nuAcutdet{d}_*.rmf")))
            for d in range(4)}
    return cal, rmfs


def test_single_detector_region_gets_that_detectors_rmf(region_observation, caldb, tmp_path):
    o = region_observation
    cal, rmfs = caldb
    d = sorted(o.auto.files)[0]
    ex = extract_spectra(o.event_file, {"bgd": o.auto.files[d]})
    out = write_region_responses(ex, "bgd", cal, tmp_path / "bgd_sr")
    assert set(out) == {"rmf"}  # no ARF for a background region
    got = read_rmf(out["rmf"])
    assert abs(got.matrix - rmfs[d].matrix).max() < 1e-7
    other = (d + 1) % 4
    assert abs(got.matrix - rmfs[other].matrix).max() > 0.01  # the detectors really differ
    h = fits.getheader(out["rmf"], "MATRIX")
    assert h[f"DETFRAC{d}"] == 1.0 and h[f"DETFRAC{other}"] == 0.0
    assert h["NSBCALIB"] == "CALDB"
    assert validate_rmf(out["rmf"]) == []


def test_two_detector_source_region_gets_the_count_weighted_mix(region_observation, caldb, tmp_path):
    o = region_observation
    cal, rmfs = caldb
    ex = extract_spectra(o.event_file, {"srcA": o.src_reg})
    spec = ex.spectra["srcA"]
    # the source straddles detectors 0 and 3: count each detector's events independently
    with fits.open(o.event_file) as hdul:
        e = hdul["EVENTS"].data
        x, y, det = (np.asarray(e[c]).astype(int) for c in ("X", "Y", "DET_ID"))
    ok = (x > 0) & (y > 0)
    inside = np.zeros(x.size, bool)
    inside[ok] = spec.mask[y[ok] - 1, x[ok] - 1]
    n = np.bincount(det[inside], minlength=4).astype(float)
    assert (n > 0).sum() == 2, n
    f = n / n.sum()
    src_xy = tuple(v - 1.0 for v in o.truth["source"]["sky_xy"])
    out = write_region_responses(ex, "srcA", cal, tmp_path / "src_sr", source_xy=src_xy)
    got = read_rmf(out["rmf"])
    expected = sum(f[d] * rmfs[d].matrix for d in range(4) if f[d] > 0)
    assert abs(got.matrix - expected).max() < 1e-6
    h = fits.getheader(out["rmf"], "MATRIX")
    for d in range(4):
        assert h[f"DETFRAC{d}"] == pytest.approx(f[d], abs=1e-12)
    # the ARF: on-axis area × mixed detector absorption × the region's PSF fraction
    arf = read_arf(out["arf"])
    ah = fits.getheader(out["arf"], "SPECRESP")
    from nuskybgd.calib import resolve

    nominal = resolve("A", prefer="builtin")
    absorption = sum(f[d] * (1.0 - 0.1 * d) * nominal.detabs(d).specresp for d in range(4))
    np.testing.assert_allclose(arf.specresp, nominal.onaxis_arf().specresp * absorption * ah["EEFRAC"], rtol=1e-6)
    assert "vignetting" in str(ah["COMMENT"]) and "energy" in str(ah["COMMENT"])
    assert validate_arf(out["arf"], got) == []


def test_psf_fraction_of_the_source_region_against_the_simulator(region_observation, tmp_path):
    """EEFRAC of the 60″ circle against the simulator's own source photons: the share of the
    source-only observation's events that fall in the circle."""
    o = region_observation
    cal = o.calibration
    ex = extract_spectra(o.event_file, {"srcA": o.src_reg})
    src_xy = tuple(v - 1.0 for v in o.truth["source"]["sky_xy"])
    out = write_region_responses(ex, "srcA", cal, tmp_path / "src_sr", source_xy=src_xy)
    eef = fits.getheader(out["arf"], "SPECRESP")["EEFRAC"]
    only = extract_spectra(o.src_only.modules["A"].event_file, {"srcA": o.src_reg})
    drawn = o.src_only.modules["A"].truth["source"]["photons_drawn"]
    share = only.spectra["srcA"].total / drawn
    # photons lost in the detector gap inside the circle lower the share slightly
    assert share == pytest.approx(eef, abs=0.03), (share, eef)
    # King profile, HPD 58″: the 60″-radius circle holds about three quarters of the photons
    rc, index, rmax = 17.39991157907966, 1.5, 600.0
    analytic = (1 - (1 + (60 / rc) ** 2) ** (1 - index)) / (1 - (1 + (rmax / rc) ** 2) ** (1 - index))
    assert eef == pytest.approx(analytic, rel=0.01)


def test_calibration_of_the_other_module_is_refused(region_observation, tmp_path):
    from nuskybgd.calib import resolve
    from nuskybgd.errors import InputError

    o = region_observation
    ex = extract_spectra(o.event_file, {"srcA": o.src_reg})
    with pytest.raises(InputError, match="is FPMA but the calibration is for FPMB"):
        write_region_responses(ex, "srcA", resolve("B", prefer="builtin"), tmp_path / "x_sr")
    assert not list(tmp_path.iterdir())
