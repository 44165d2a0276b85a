"""OGIP ancillary responses: read and write :class:`~nuskybgd.io.ogip_types.Arf` (SPECRESP, cm²)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.errors import InputError
from nuskybgd.io.atomic import write_fits_atomic
from nuskybgd.io.fitsfile import (
    find_hdu,
    float_format,
    header_to_dict,
    open_fits,
    put_header,
    require_columns,
)
from nuskybgd.io.ogip_types import Arf
from nuskybgd.provenance import Provenance


def read_arf(path: str | Path) -> Arf:
    """Read an OGIP ARF (extension SPECRESP): energies in keV, SPECRESP in cm²."""
    p = Path(path)
    with open_fits(p, "ARF") as hdul:
        hdu = find_hdu(hdul, ("SPECRESP",), "RESPONSE", "SPECRESP")
        if hdu is None:
            raise InputError(f"ARF {p} has no SPECRESP extension; it is not an OGIP ARF.", p)
        require_columns(hdu, ("ENERG_LO", "ENERG_HI", "SPECRESP"), p, "ARF")
        d = hdu.data
        arf = Arf(
            energ_lo=np.asarray(d["ENERG_LO"], dtype=np.float64).ravel(),
            energ_hi=np.asarray(d["ENERG_HI"], dtype=np.float64).ravel(),
            specresp=np.asarray(d["SPECRESP"], dtype=np.float64).ravel(),
            header=header_to_dict(hdu.header),
        )
    if not (arf.energ_lo.size == arf.energ_hi.size == arf.specresp.size):
        raise InputError(f"ARF {p} has columns of different lengths; the file is malformed.", p)
    return arf


def write_arf(
    arf: Arf,
    path: str | Path,
    overwrite: bool = False,
    provenance: Provenance | None = None,
    **provenance_keywords,
) -> Path:
    """Write ``arf`` as an OGIP ARF (extension SPECRESP, ENERG_LO/ENERG_HI keV, SPECRESP cm²).

    ``provenance`` (or the keywords ``calibration``, ``calibration_detail``, ``inputs``,
    ``task`` of :class:`nuskybgd.provenance.Provenance`) is stamped into the header.
    """
    prov = Provenance.coerce(provenance, **provenance_keywords)
    efmt, etype = float_format(arf.energ_lo, arf.energ_hi)
    sfmt, stype = float_format(arf.specresp)
    hdu = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", efmt, unit="keV", array=np.asarray(arf.energ_lo, etype)),
        fits.Column("ENERG_HI", efmt, unit="keV", array=np.asarray(arf.energ_hi, etype)),
        fits.Column("SPECRESP", sfmt, unit="cm**2", array=np.asarray(arf.specresp, stype)),
    ], name="SPECRESP")
    h = hdu.header
    put_header(h, arf.header)
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    h["HDUCLAS1"] = ("RESPONSE", "dataset is a response function")
    h["HDUCLAS2"] = ("SPECRESP", "extension contains an ARF")
    h.setdefault("HDUVERS", "1.1.0")
    h.setdefault("TELESCOP", "NuSTAR")
    h.setdefault("INSTRUME", "UNKNOWN")
    prov.stamp(h)
    return write_fits_atomic(path, fits.HDUList([fits.PrimaryHDU(), hdu]), overwrite=overwrite)
