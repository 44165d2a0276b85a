"""Print how well nuskybgd's built-in nominal calibration matches the real calibration files.

Usage: ``python benchmarks/calibration_figures.py [SHARED_DATA]`` (default ``../shared/data``).
The real files are read for measurement only; every number printed here is quoted in
``docs/calibration.md`` and asserted (with margins) by ``tests/test_calib_builtin.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nuskybgd.calib import builtin
from nuskybgd.calib.measure import (
    aperture_agreement,
    area_agreement,
    be_agreement,
    layout_agreement,
    rmf_line_figures,
)
from nuskybgd.calib.pixpos import pixel_map_from_pixpos
from nuskybgd.io.ogip import read_arf, read_rmf


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
    pieces, auxil = root / "caldb-pieces", root / "nuskybgd-auxil"
    for mod in "AB":
        t = time.perf_counter()
        real = pixel_map_from_pixpos(pieces / f"nu{mod}pixpos20100101v007.fits.gz")
        dt = time.perf_counter() - t
        f = layout_agreement(builtin.detector_layout(mod), real)
        print(f"layout FPM{mod}: same detector {f['same_det']:.4f}, same det+RAW {f['same_raw']:.4f} "
              f"(PIXPOS map in {dt:.2f} s)")
    t = time.perf_counter()
    rmf = read_rmf(pieces / "nuAdet3_20100101v002.rmf.gz")
    print(f"read real det3 RMF in {time.perf_counter() - t:.2f} s")
    model = builtin.gaussian_rmf("A", 3)
    for e in (6.0, 20.0, 60.0):
        r = rmf_line_figures(rmf, e)
        m = rmf_line_figures(model, e)
        print(f"RMF {e:4.0f} keV: real centroid {r['centroid']:.4f} FWHM {r['fwhm']:.4f}; "
              f"built-in centroid {m['centroid']:.4f} FWHM {m['fwhm']:.4f} "
              f"(FWHM ratio {m['fwhm'] / r['fwhm']:.3f})")
    for mod in "AB":
        a = area_agreement(builtin.onaxis_arf(mod), read_arf(auxil / f"fcxb{mod}.arf"))
        print(f"on-axis area FPM{mod} 3-79 keV: rms relative {a['rms_rel']:.4f}, "
              f"rms/mean {a['rms_over_mean']:.4f}, max |rel| {a['max_rel']:.3f}, "
              f"{a['n_off_5pct']} of {a['n_rows']} rows off by > 5 %")
    b = be_agreement(builtin.be_transmission("A"), read_arf(auxil / "be.arf"))
    print(f"Be transmission 3-79 keV: rms abs {b['rms_abs']:.5f}, max abs {b['max_abs']:.4f}; "
          f"1.6-3 keV max abs {b['max_abs_low']:.4f}")
    for mod in "AB":
        ap = aperture_agreement(builtin.aperture_solid_angle(mod), auxil / f"det{mod}_det1.img.gz")
        print(f"aperture FPM{mod} (360x360): correlation {ap['corr']:.4f}, rms/mean after "
              f"normalisation {ap['rms_norm']:.4f}, mean model/real {ap['mean_ratio']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
