"""Writing an extracted spectrum as nuproducts does: SPECTRUM, GTI and REG00101 extensions.

The SPECTRUM extension is written by :func:`nuskybgd.io.ogip.write_pha` (every keyword ftchkpha
requires); this module adds the observation keywords, the data-subspace keywords and the
``REG00101`` region table (ASC-FITS REGION, shapes in sky pixels, 1-based), inside one atomic
write so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from nuskybgd.products.spectra import Extraction

__all__ = ["region_table_hdu", "write_region_spectrum"]


def _shape_row(reg, wcs) -> tuple[str, list, list, list, list]:
    """(SHAPE, X, Y, R, ROTANG) of one shape in 1-based sky pixels."""
    if not hasattr(reg, "to_mask"):
        reg = reg.to_pixel(wcs)
    name = type(reg).__name__
    sign = "" if int(reg.meta.get("include", 1)) else "!"
    if name == "PolygonPixelRegion":
        xs, ys = reg.vertices.x + 1.0, reg.vertices.y + 1.0
        return sign + "POLYGON", list(xs), list(ys), [], []
    cx, cy = float(reg.center.x) + 1.0, float(reg.center.y) + 1.0
    if name == "CirclePixelRegion":
        return sign + "CIRCLE", [cx], [cy], [float(reg.radius)], []
    if name == "CircleAnnulusPixelRegion":
        return sign + "ANNULUS", [cx], [cy], [float(reg.inner_radius), float(reg.outer_radius)], []
    angle = float(reg.angle.to_value("deg"))
    if name == "EllipsePixelRegion":
        return sign + "ELLIPSE", [cx], [cy], [reg.width / 2.0, reg.height / 2.0], [angle]
    return sign + "ROTBOX", [cx], [cy], [float(reg.width), float(reg.height)], [angle]


def region_table_hdu(shapes: Iterable, wcs, header: dict | None = None):
    """The ``REG00101`` extension (ASC-FITS region table) for a region's shapes.

    Parameters
    ----------
    shapes : iterable of regions.Region
        Sky or (0-based) pixel shapes.
    wcs : astropy.wcs.WCS
        Sky WCS of the event file (used for sky shapes).
    header : dict, optional
        Keywords copied into the extension (TELESCOP, INSTRUME, OBJECT, …).
    """
    from astropy.io import fits

    rows = [_shape_row(r, wcs) for r in shapes]

    def vla(values: list[list], code: str) -> fits.Column:
        width = max((len(v) for v in values), default=1)
        arr = np.empty(len(values), dtype=object)
        arr[:] = [np.asarray(v, dtype=np.float64) for v in values]
        return code, width, arr

    cols = []
    for name, idx, unit in (("X", 1, "pixel"), ("Y", 2, "pixel")):
        _, w, arr = vla([r[idx] for r in rows], "D")
        cols.append(fits.Column(name, f"PD({max(w, 1)})", unit=unit, array=arr))
    cols.append(fits.Column("SHAPE", "16A", array=np.array([r[0] for r in rows])))
    _, w, arr = vla([r[3] for r in rows], "D")
    cols.append(fits.Column("R", f"PD({max(w, 1)})", unit="pixel", array=arr))
    _, w, arr = vla([r[4] for r in rows], "D")
    cols.append(fits.Column("ROTANG", f"PD({max(w, 1)})", unit="degree", array=arr))
    cols.append(fits.Column("COMPONENT", "I", array=np.ones(len(rows), dtype=np.int16)))
    hdu = fits.BinTableHDU.from_columns(cols, name="REG00101")
    h = hdu.header
    h["EXTVER"] = 1
    h["HDUNAME"] = ("REGION", "ASCDM block name")
    h["HDUCLASS"] = ("ASC", "Region extension")
    h["HDUCLAS1"] = ("REGION", "Region extension")
    h["HDUCLAS2"] = ("STANDARD", "Region extension")
    h["HDUVERS"] = "1.0.0"
    h["CONTENT"] = ("REGION", "CXC Content Key")
    h["MTYPE1"] = ("pos", "DM Keyword: Descriptor name.")
    h["MFORM1"] = ("X,Y", "DM Keyword: Descriptor value.")
    for k, v in (header or {}).items():
        if k in ("TELESCOP", "INSTRUME", "OBJECT", "DATE-OBS", "DATE-END", "TSTART", "TSTOP"):
            h[k] = v
    return hdu


def write_region_spectrum(
    extraction: Extraction,
    name: str,
    path: str | Path,
    *,
    respfile: str | None = None,
    ancrfile: str | None = None,
    backfile: str | None = None,
    overwrite: bool = False,
    calibration: str | None = None,
    calibration_detail: str | None = None,
) -> Path:
    """Write the spectrum of region ``name`` as a nuproducts-style PHA file.

    Parameters
    ----------
    extraction : Extraction
        From :func:`nuskybgd.products.spectra.extract_spectra`.
    name : str
        Region stem in ``extraction.spectra``.
    path : path
        Output ``.pha`` (refused when it exists, unless ``overwrite``).
    respfile, ancrfile, backfile : str, optional
        Names written as RESPFILE, ANCRFILE, BACKFILE (``'none'`` when not given).
    calibration, calibration_detail : str, optional
        Provenance of the responses named in the header.

    Returns
    -------
    Path
    """
    from astropy.io import fits

    from nuskybgd.io.atomic import atomic_path
    from nuskybgd.io.ogip import write_pha
    from nuskybgd.io.ogip_types import Pha

    spec = extraction.spectra[name]
    header = dict(extraction.header)
    gti_start, gti_stop = extraction.gti_start, extraction.gti_stop
    if extraction.usrgti_file is not None and gti_start.size:
        header["TSTART"] = float(gti_start.min())
        header["TSTOP"] = float(gti_stop.max())
        header["TELAPSE"] = float(gti_stop.max() - gti_start.min())
    described = {
        "ONTIME": (extraction.ontime, "On-source time (sum of GTIs used, s)"),
        "LIVETIME": (extraction.exposure, "Deadtime corrected on-source time (s)"),
        "DEADC": (extraction.deadc, "Deadtime correction"),
        "HDUCLAS2": ("TOTAL", "Gross PHA Spectrum (source + bkgd)"),
        "NPIXSOU": (float(spec.npix), "Number of sky pixels in selected region"),
        "SPECDELT": (1, "Binning factor for spectrum"),
        "SPECPIX": (0, "The rebinned channel corresponding to SPECVAL"),
        "SPECVAL": (0.0, "Original channel value at center of SPECPIX"),
        "NUBACKSC": (False, "BACKSCAL = pixels/1e6, no nubackscale"),
        "FILIN001": (extraction.event_file.name, "Input event file"),
        "NSBREGFN": (spec.region_file.name, "ds9 region file of this spectrum"),
    }
    header.update({k: v for k, (v, _) in described.items()})
    header.setdefault("DETNAM", "NONE")
    header.setdefault("DATAMODE", "NONE")
    header.setdefault("DSTYP1", "GRADE")
    header.setdefault("DSVAL1", "0:26")
    pha = Pha(channels=np.arange(spec.counts.size), counts=spec.counts, exposure=extraction.exposure,
              backscal=spec.backscal, areascal=1.0, respfile=respfile, ancrfile=ancrfile,
              backfile=backfile, header=header)
    inputs = [extraction.event_file, spec.region_file]
    if extraction.usrgti_file is not None:
        inputs.append(extraction.usrgti_file)
    with atomic_path(path, overwrite) as tmp:
        write_pha(pha, tmp, overwrite=True, gti=(gti_start, gti_stop), calibration=calibration,
                  calibration_detail=calibration_detail, inputs=inputs, task="spectrum")
        with fits.open(tmp, mode="update") as hdul:
            sh = hdul["SPECTRUM"].header
            for k, (_, comment) in described.items():
                sh.comments[k] = comment
            sh["DSTYP2"] = ("POS(X,Y)", "Data subspace descriptor: name")
            sh["DSREF2"] = (":REG00101", "Data subspace descriptor: reference")
            sh["DSVAL2"] = ("TABLE", "Data subspace descriptor: value")
            gh = hdul["GTI"].header
            gh["EXTNAME"] = "GTI"
            gh["ONTIME"] = extraction.ontime
            gh["LIVETIME"] = extraction.exposure
            gh["EXPOSURE"] = extraction.exposure
            gh["DEADC"] = extraction.deadc
            for k in ("TELESCOP", "INSTRUME", "OBJECT", "TIMEREF", "TSTART", "TSTOP"):
                if k in sh:
                    gh[k] = sh[k]
            hdul.append(region_table_hdu(spec.shapes, extraction.wcs, dict(sh)))
            hdul.flush(output_verify="exception")
            for hdu in hdul:
                hdu.add_checksum()
    return Path(path)
