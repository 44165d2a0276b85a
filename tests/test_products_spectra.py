"""Spectrum extraction on a simulated observation, checked against the event list, the
simulator's truth and the real Vela X-1 nuproducts spectra (issue 10, item 3)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits

from conftest import shared_path
from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.events import Reporter
from nuskybgd.io.validate import validate_pha
from nuskybgd.products.spectra import extract_spectra, spectrum_name
from nuskybgd.products.spectrum_files import write_region_spectrum

#: Keywords of the real nuproducts SPECTRUM header that record the pipeline run itself, not the
#: spectrum: the software and user that made it, its own date and checksums, and barycentring
#: keywords that exist only when the events were barycentred (copied when the events have them).
PIPELINE_PROVENANCE = {"CREATOR", "DATE", "USER", "CHECKSUM", "DATASUM", "HISTORY", "COMMENT",
                       "SOFTVER", "CALDBVER", "DATETLM", "TLM2FITS", "TREFPOS", "TREFDIR", "PLEPHEM",
                       "TIERRELA", "TIERABSO", "CLOCKAPP", ""}


@pytest.fixture(scope="module")
def extracted(region_observation, tmp_path_factory):
    o = region_observation
    regions = {"srcA": o.src_reg, **{f"bgd{d}A": p for d, p in o.auto.files.items()}}
    messages = []
    ex = extract_spectra(o.event_file, regions, reporter=Reporter(lambda e: messages.append(e.message)))
    out = tmp_path_factory.mktemp("spectra")
    files = {}
    for name in ex.spectra:
        files[name] = write_region_spectrum(ex, name, out / spectrum_name(ex.seqid, "A", name),
                                            respfile=f"nu{ex.seqid}A01_{name}_sr.rmf")
    return ex, files, out


def _events(path):
    with fits.open(path) as hdul:
        d = hdul["EVENTS"].data
        cols = {c: np.asarray(d[c]) for c in ("X", "Y", "PI", "TIME", "DET_ID")}
        from astropy.wcs import WCS  # noqa: F401

        from nuskybgd.io.events import read_events

        wcs = read_events(path, columns=["X"]).wcs
        gti = hdul["GTI"].data
        return cols, wcs, np.asarray(gti["START"]), np.asarray(gti["STOP"])


def test_names_follow_nustar_gen_utils():
    assert spectrum_name("30002041016", "A", "bgd0A") == "nu30002041016A01_bgd0A_sr.pha"
    assert spectrum_name("30002041016", "B", "src", gti_stem="usrgti") == "nu30002041016B01_src_usrgti_sr.pha"


def test_source_spectrum_holds_exactly_the_events_in_the_circle(region_observation, extracted):
    o = region_observation
    ex, files, _ = extracted
    ev, wcs, start, stop = _events(o.event_file)
    # independent selection: the angular distance of each event's pixel centre from the centre
    ra, dec = wcs.wcs_pix2world(ev["X"].astype(float), ev["Y"].astype(float), 1)
    src = o.truth["source"]
    sep = SkyCoord(ra, dec, unit="deg").separation(SkyCoord(src["ra"], src["dec"], unit="deg")).arcsec
    in_gti = ((ev["TIME"][:, None] >= start[None, :]) & (ev["TIME"][:, None] < stop[None, :])).any(axis=1)
    sel = (sep <= 60.0) & in_gti & (ev["X"] > 0)
    expected = np.bincount(ev["PI"][sel].astype(int), minlength=4096)
    with fits.open(files["srcA"]) as hdul:
        counts = hdul["SPECTRUM"].data["COUNTS"]
        assert np.array_equal(counts, expected)
        assert counts.sum() > 5000
        h = hdul["SPECTRUM"].header
        ontime = float(np.sum(stop - start))
        assert h["ONTIME"] == pytest.approx(ontime, rel=1e-9)
        assert h["EXPOSURE"] == pytest.approx(ontime * h["DEADC"], rel=1e-12)
        assert h["LIVETIME"] == h["EXPOSURE"]
        assert h["EXPOSURE"] == pytest.approx(50e3, rel=1e-9)  # the simulated livetime
        assert h["BACKSCAL"] == pytest.approx(h["NPIXSOU"] / 1e6)
        # a 60" circle: π (60/2.458)² = 1872 sky pixels
        assert abs(h["NPIXSOU"] - 1872) < 15


def test_background_spectra_hold_the_events_of_their_masks(region_observation, extracted):
    o = region_observation
    ex, files, _ = extracted
    ev, _, _, _ = _events(o.event_file)
    for d, mask in o.auto.masks.items():
        x, y = ev["X"].astype(int), ev["Y"].astype(int)
        ok = (x > 0) & (y > 0)
        inside = np.zeros(x.size, bool)
        inside[ok] = mask[y[ok] - 1, x[ok] - 1]
        expected = np.bincount(ev["PI"][inside].astype(int), minlength=4096)
        counts = fits.getdata(files[f"bgd{d}A"], "SPECTRUM")["COUNTS"]
        assert np.array_equal(counts, expected)
        assert np.array_equal(ex.spectra[f"bgd{d}A"].det_counts, np.bincount(ev["DET_ID"][inside], minlength=4))


def test_background_counts_agree_with_the_simulator_truth(region_observation, extracted):
    """Each region's counts against the truth's expected counts per component, shared out by the
    projected images: flat components by the detector image, apbgd by the aperture image."""
    o = region_observation
    ex, _, _ = extracted
    exp = o.truth["expected_counts"]
    dets = {d: fits.getdata(p) for d, p in enumerate(o.det_images)}
    cover = sum(dets.values())
    bgdap = fits.getdata(o.bgd / "bgdapA.fits")
    for d, mask in o.auto.masks.items():
        flat_share = dets[d][mask].sum() / dets[d].sum()
        own = np.divide(dets[d], cover, out=np.zeros_like(cover), where=cover > 0)
        ap_share = bgdap[mask].sum() / (bgdap * own).sum()
        e = exp[str(d)]
        predicted = (e["intbgd"] + e["intn"] + e["fcxb"]) * flat_share + e["apbgd"] * ap_share
        observed = ex.spectra[f"bgd{d}A"].total
        assert abs(observed - predicted) < 4 * np.sqrt(predicted) + 0.01 * predicted + 0.01 * observed, \
            (d, observed, predicted)


def test_pha_files_pass_the_validator_and_carry_the_nuproducts_keywords(extracted):
    ex, files, _ = extracted
    with fits.open(shared_path("real", "vela_x1", "nu90402339002A01_sr.pha")) as real:
        wanted = set(real["SPECTRUM"].header) - PIPELINE_PROVENANCE
        real_ext = [h.name for h in real[1:]]
    for name, path in files.items():
        assert validate_pha(path) == []
        with fits.open(path) as hdul:
            assert [h.name for h in hdul[1:]] == real_ext  # SPECTRUM, GTI, REG00101
            h = hdul["SPECTRUM"].header
            missing = wanted - set(h)
            assert not missing, (name, sorted(missing))
            assert h["DSREF2"] == ":REG00101" and h["DSTYP2"] == "POS(X,Y)"
            assert h["RESPFILE"] == f"nu{ex.seqid}A01_{name}_sr.rmf"
            assert h["HDUCLAS2"] == "TOTAL"
            g = hdul["GTI"].data
            assert np.array_equal(g["START"], ex.gti_start) and np.array_equal(g["STOP"], ex.gti_stop)
            reg = hdul["REG00101"].data
            assert len(reg) >= 1 and hdul["REG00101"].header["HDUCLAS1"] == "REGION"
    reg = fits.getdata(files["srcA"], "REG00101")
    assert reg["SHAPE"][0].strip() == "CIRCLE"
    assert reg["X"][0][0] == pytest.approx(500.5, abs=0.01)  # the source's sky pixel, 1-based
    assert reg["R"][0][0] == pytest.approx(60.0 / 2.45810736, rel=1e-3)


@pytest.mark.parametrize("module", ["A", "B"])
def test_backscal_definition_against_the_real_vela_x1_spectra(module, tmp_path):
    """BACKSCAL = sky pixels in the region / 10⁶; nubackscale's correction is ≤ 0.9 % here."""
    from nuskybgd.products.regions import region_mask

    for kind in ("sr", "bk"):
        path = shared_path("real", "vela_x1", f"nu90402339002{module}01_{kind}.pha")
        with fits.open(path) as hdul:
            reg = hdul["REG00101"].data
            backscal = hdul["SPECTRUM"].header["BACKSCAL"]
            npixsou = hdul[0].header.get("NPIXSOU")
        x, y, r = float(np.ravel(reg["X"][0])[0]), float(np.ravel(reg["Y"][0])[0]), float(np.ravel(reg["R"][0])[0])
        ds9 = tmp_path / f"{module}{kind}.reg"
        ds9.write_text(f"image\ncircle({x},{y},{r})\n")  # sky pixels = image pixels of the 1000² grid
        npix = int(region_mask(ds9, (1000, 1000)).sum())
        if npixsou is not None and kind == "sr":
            assert abs(npix - npixsou) <= 2
        assert npix / 1e6 == pytest.approx(backscal, rel=0.01)


def test_user_gti_is_intersected(region_observation, tmp_path):
    o = region_observation
    ev, _, start, stop = _events(o.event_file)
    cut = 0.5 * (start[0] + stop[-1])
    usr = tmp_path / "usrgti.fits"
    cols = [fits.Column("START", "D", array=[start[0] - 100.0]), fits.Column("STOP", "D", array=[cut])]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="GTI")]).writeto(usr)
    ex = extract_spectra(o.event_file, {"srcA": o.src_reg}, usrgti=usr)
    s, e = np.minimum(start, cut), np.minimum(stop, cut)
    assert ex.ontime == pytest.approx(np.sum(np.clip(e - s, 0, None)), rel=1e-12)
    full = extract_spectra(o.event_file, {"srcA": o.src_reg})
    assert 0 < ex.spectra["srcA"].total < full.spectra["srcA"].total
    late = tmp_path / "late.fits"
    cols = [fits.Column("START", "D", array=[stop[-1] + 10]), fits.Column("STOP", "D", array=[stop[-1] + 20])]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="GTI")]).writeto(late)
    with pytest.raises(InputError, match="late.fits does not overlap"):
        extract_spectra(o.event_file, {"srcA": o.src_reg}, usrgti=late)


def test_zero_count_spectrum_is_written_with_a_warning(region_observation, tmp_path):
    o = region_observation
    empty = tmp_path / "corner.reg"
    empty.write_text("image\ncircle(30,30,10)\n")  # on the sky grid, far from every detector
    warnings = []
    ex = extract_spectra(o.event_file, {"corner": empty},
                         reporter=Reporter(lambda e: warnings.append(e.message)))
    assert ex.spectra["corner"].total == 0
    assert any("corner.reg holds no event" in w for w in warnings)
    out = write_region_spectrum(ex, "corner", tmp_path / "corner.pha")
    assert validate_pha(out) == []


def test_bad_inputs_and_refused_overwrite(region_observation, extracted, tmp_path):
    o = region_observation
    ex, files, _ = extracted
    off = tmp_path / "off.reg"
    off.write_text("image\ncircle(5000,5000,10)\n")
    with pytest.raises(InputError, match="off.reg selects no sky pixel"):
        extract_spectra(o.event_file, {"off": off})
    bad = tmp_path / "bad.reg"
    bad.write_text("fk5\npoint(150.1,2.2)\n")
    with pytest.raises(InputError, match="bad.reg holds a point shape"):
        extract_spectra(o.event_file, {"bad": bad})
    before = files["srcA"].read_bytes()
    with pytest.raises(OutputExistsError):
        write_region_spectrum(ex, "srcA", files["srcA"])
    assert files["srcA"].read_bytes() == before
    assert not [p for p in files["srcA"].parent.iterdir() if p.name.startswith(".")]


def test_make_spectra_writes_every_product_and_refuses_to_replace_them(region_observation, tmp_path):
    from nuskybgd.products.spectrum_products import make_spectra

    o = region_observation
    regions = {"srcA": o.src_reg, "bgd1A": o.auto.files[1]}
    seen = []
    plan = make_spectra(o.event_file, regions, tmp_path, o.calibration, sources=["srcA"], optimal=True,
                        reporter=Reporter(lambda e: seen.append(e.message)))
    seq = o.sim.seqid
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"nu{seq}A01_bgd1A_sr.pha", f"nu{seq}A01_bgd1A_sr.rmf",
                            f"nu{seq}A01_bgd1A_sr_g30.pha", f"nu{seq}A01_bgd1A_sr_opt.pha",
                            f"nu{seq}A01_srcA_sr.pha", f"nu{seq}A01_srcA_sr.rmf", f"nu{seq}A01_srcA_sr.arf",
                            f"nu{seq}A01_srcA_sr_g30.pha", f"nu{seq}A01_srcA_sr_opt.pha"])
    src = fits.getheader(plan["srcA"]["pha"], "SPECTRUM")
    assert src["RESPFILE"] == f"nu{seq}A01_srcA_sr.rmf" and src["ANCRFILE"] == f"nu{seq}A01_srcA_sr.arf"
    assert fits.getheader(plan["bgd1A"]["pha"], "SPECTRUM")["ANCRFILE"] == "none"
    assert fits.getheader(plan["srcA"]["arf"], "SPECRESP")["EEFRAC"] == pytest.approx(0.74, abs=0.02)
    for files in plan.values():
        for kind in ("pha", "g30", "opt"):
            assert validate_pha(files[kind]) == []
        g = fits.getdata(files["g30"], "SPECTRUM")
        assert np.array_equal(g["COUNTS"], fits.getdata(files["pha"], "SPECTRUM")["COUNTS"])
    assert sum("wrote" in m for m in seen) == 9
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(OutputExistsError):
        make_spectra(o.event_file, regions, tmp_path, o.calibration, sources=["srcA"], optimal=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
