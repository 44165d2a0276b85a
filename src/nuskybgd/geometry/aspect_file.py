"""Make the aspect-histogram file from a DET1 reference-point file and GTIs (the work of the
``aspecthist`` step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import InputError
from nuskybgd.events import Reporter
from nuskybgd.geometry.aspect import AspectHistogram, aspect_histogram
from nuskybgd.io.atomic import check_writable, write_fits_atomic
from nuskybgd.modules import module_of
from nuskybgd.products.headers import aspect_histogram_header
from nuskybgd.provenance import stamp_header

__all__ = ["make_aspect_histogram"]


def make_aspect_histogram(det1_file: Path, gti_file: Path, out: Path, *, clip_to_gti: bool, overwrite: bool,
                          reporter: Reporter) -> tuple[AspectHistogram, float, str | None]:
    """Write the aspect histogram; return it, the GTI total (s) and the module."""
    from nuskybgd.io.events import read_det1_refpoint, read_gti

    check_writable(out, overwrite)
    ref = read_det1_refpoint(det1_file)
    mod = module_of(ref.header.get("INSTRUME"), det1_file, "DET1 reference-point file")
    gti = read_gti(gti_file)
    if len(gti) == 0 or not np.any(gti.stop > gti.start):
        raise InputError(f"GTI file {gti_file} holds no good time interval; give the observation's "
                         "nu<seqid><A|B>01_gti.fits.", gti_file)
    try:
        h = aspect_histogram(ref.time, ref.x_det1, ref.y_det1, gti.start, gti.stop, clip_to_gti=clip_to_gti)
    except ValueError as exc:
        raise InputError(f"{det1_file} with GTI {gti_file}: {exc}; check that both files "
                         "belong to the same observation.", det1_file) from None
    if h.dropped_exposure > 0:
        reporter.warning(f"{h.dropped_exposure:.1f} s of GTI samples lie off the 1000×1000 sky grid and "
                         "were left out")
    hdr = aspect_histogram_header(ref.header, h, clip_to_gti)
    stamp_header(hdr, inputs=[det1_file, gti_file], task="aspecthist")
    write_fits_atomic(out, fits.HDUList([fits.PrimaryHDU(h.image, header=hdr)]), overwrite)
    return h, float(np.sum(gti.stop - gti.start)), mod
