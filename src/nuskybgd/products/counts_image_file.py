"""Make a counts-image file from an event file (the work of the ``mkimgs`` step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.constants import DET1_SIZE
from nuskybgd.errors import InputError
from nuskybgd.events import Reporter
from nuskybgd.io.atomic import check_writable, write_fits_atomic
from nuskybgd.products.headers import counts_image_header
from nuskybgd.products.images import OBS_KEYWORDS, counts_image
from nuskybgd.provenance import stamp_header

__all__ = ["make_counts_image", "tlmax_key"]


def tlmax_key(header: fits.Header, column: str) -> str:
    """The ``TLMAXn`` keyword of ``column`` in a table header (``TLMAX_NONE`` if absent)."""
    for k in range(1, int(header.get("TFIELDS", 0)) + 1):
        if str(header.get(f"TTYPE{k}", "")).strip().upper() == column:
            return f"TLMAX{k}"
    return "TLMAX_NONE"


def _gti_hdu(gti) -> fits.BinTableHDU:
    cols = [fits.Column("START", "1D", unit="s", array=gti.start),
            fits.Column("STOP", "1D", unit="s", array=gti.stop)]
    g = fits.BinTableHDU.from_columns(cols, name="GTI")
    g.header["HDUCLASS"] = "OGIP"
    g.header["HDUCLAS1"] = "GTI"
    g.header["HDUCLAS2"] = "STANDARD"
    return g


def make_counts_image(event_file: Path, outfile: Path, pi_range: tuple[int, int], *, det1: bool,
                      binning: int, band_text: str, overwrite: bool, reporter: Reporter) -> tuple[int, int]:
    """Write the counts image of ``event_file`` in PI channels ``pi_range`` (inclusive) to ``outfile``.

    Returns
    -------
    (int, int)
        Total counts in the image and the number of events selected.
    """
    from nuskybgd.io.events import read_events

    pi_min, pi_max = pi_range
    check_writable(outfile, overwrite)
    xcol, ycol = ("DET1X", "DET1Y") if det1 else ("X", "Y")
    ev = read_events(event_file, columns=["PI", xcol, ycol])
    sel = ev.valid("PI") & (ev["PI"] >= pi_min) & (ev["PI"] <= pi_max)
    sel &= ev.valid(xcol) & ev.valid(ycol)
    size = DET1_SIZE
    wcs = None
    if not det1:
        if ev.wcs is None:
            raise InputError(
                f"event file {event_file} has no sky WCS (TCTYP/TCRPX/TCRVL/TCDLT of X and Y); "
                "it cannot give a sky image.", event_file)
        size = int(ev.header.get(tlmax_key(ev.header, "X"), 1000) or 1000)
        w = ev.wcs.wcs
        wcs = {"ctype": list(w.ctype), "crpix": list(w.crpix), "crval": list(w.crval),
               "cdelt": list(w.cdelt), "cunit": [str(u) for u in w.cunit]}
    reporter.check_cancelled()
    img = counts_image(ev[xcol][sel], ev[ycol][sel], size, binning)
    observation = {k: ev.header.get(k, ev.primary_header.get(k)) for k in OBS_KEYWORDS}
    if observation.get("PA_PNT") is None:
        reporter.warning(f"{event_file} has no PA_PNT; projbgd will need the roll from elsewhere.")
    hdr = counts_image_header(observation, wcs, binning, pi_range, band_text, int(img.sum()))
    stamp_header(hdr, inputs=[event_file], task="mkimgs")
    hdul = fits.HDUList([fits.PrimaryHDU(img, header=hdr)])
    if ev.gti is not None:
        hdul.append(_gti_hdu(ev.gti))
    write_fits_atomic(outfile, hdul, overwrite)
    return int(img.sum()), int(np.count_nonzero(sel))
