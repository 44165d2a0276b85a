"""Write a CALDB folder from the calibration used by the simulator.

With ``nuskybgd simulate … --caldb-tree DIR`` the CALDB code path can run end to end on the
synthetic observation: ``DIR`` becomes a CALDB root holding ``data/nustar/fpm/caldb.indx`` (a
CIF table, HEASARC column layout) and, per module m ∈ {A, B}:

=========  ===============================================================  ============================
CAL_CNAM   file (relative to DIR/data/nustar/fpm)                           content
=========  ===============================================================  ============================
PIXPOS     ``bcf/pixpos/nu<m>pixpos20100101v900.fits``                      4 × PIXPOS (rows:
                                                                            RAWX, RAWY, GRADE,
                                                                            REF_DET1X/Y, PDF 7×7)
INSTRMAP   ``bcf/instrmap/nu<m>instrmap20100101v900.fits``                  INSTRMAP image 360×360
BADPIX     ``bcf/badpix/nu<m>badpix20100101v900.fits``                      4 × BADPIX (no rows)
GRPRMF     ``cpf/rmf/nu<m>cutgrprmf20100101v900.fits``                      4 × GRPRMF → RMF names
(RMFs)     ``cpf/rmf/nu<m>cutdet<d>_20100101v900.rmf``                      per-detector RMF
SPECRESP   ``bcf/arf/nu<m>20100101v900.arf``                                on-axis effective area
DETABS     ``bcf/detabs/nu<m>detabs20100101v900.fits``                      4 × DETABS (the
                                                                            calibration's, unity
                                                                            if it has none)
BEABSPAR   ``bcf/instrument/nuCabsparBe20100101v900.fits`` (INSTRUME FPM)   Be transmission (ATT)
APERTURE   ``bcf/aperture/nu<m>aperture20100101v900.fits``                  aperture solid angle (deg²)
                                                                            on the 576×576 grid
=========  ===============================================================  ============================

The PIXPOS-like tables reproduce the calibration's DET1 ownership map: each RAW pixel's footprint
is tiled with 7×7 windows, one GRADE row per window, with a uniform PDF over the owned sub-pixels,
so the mkinstrmap argmax recovers the map exactly.  Version ``v900`` marks the files as synthetic; every file
carries the nuskybgd provenance keywords.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.io.atomic import write_fits_atomic
from nuskybgd.io.ogip_types import Arf
from nuskybgd.provenance import Provenance

VERSION = "20100101v900"
VALID_FROM = ("2010-01-01", "00:00:00")



def _for_detector(hdu: fits.BinTableHDU, det: int) -> None:
    """Label a per-detector CALDB extension as CALDB files do (EXTVER = det + 1, DETNAM)."""
    hdu.header["EXTVER"] = det + 1
    hdu.header["DETNAM"] = f"DET{det}"


def _provenance(cal) -> Provenance:
    return Provenance.of_calibration(cal, task="simulate --caldb-tree")


def _stamp(h: fits.Header, cal, what: str) -> None:
    _provenance(cal).stamp(h)
    h["TELESCOP"] = "NuSTAR"
    h["INSTRUME"] = f"FPM{cal.module}"
    h.add_comment(f"Synthetic CALDB {what} written by nuskybgd from the calibration used.")


def _detabs(cal, det: int, n: int) -> np.ndarray:
    """Detector absorption of the calibration (unity when it has none)."""
    if hasattr(cal, "detabs"):
        return np.asarray(cal.detabs(det).specresp, np.float32)
    return np.ones(n, np.float32)


def _pixpos_hdus(cal) -> list[fits.BinTableHDU]:
    """PIXPOS-like tables that reproduce the calibration's DET1 ownership map.

    Each RAW pixel's footprint is tiled with 7×7 windows; window i becomes the row of GRADE i
    (a uniform PDF over the owned sub-pixels in it).  mkinstrmap sums the grade-weighted PDFs
    of a RAW pixel and gives each sub-pixel to the largest sum, which recovers the map exactly
    because no two RAW pixels deposit on the same sub-pixel.
    """
    pm = cal.pixel_map()
    det_map = np.asarray(pm.det)
    rx_map, ry_map = np.asarray(pm.rawx), np.asarray(pm.rawy)
    yy, xx = np.mgrid[0:det_map.shape[0], 0:det_map.shape[1]]
    hdus = []
    for d in range(4):
        sel = det_map == d
        key = ry_map[sel].astype(np.int64) * 32 + rx_map[sel].astype(np.int64)
        xs, ys = xx[sel], yy[sel]
        minx = np.full(1024, 10**6)
        miny = np.full(1024, 10**6)
        maxx = np.full(1024, -1)
        np.minimum.at(minx, key, xs)
        np.minimum.at(miny, key, ys)
        np.maximum.at(maxx, key, xs)
        nx = np.where(maxx >= 0, (maxx - minx) // 7 + 1, 1)
        tx, ty = (xs - minx[key]) // 7, (ys - miny[key]) // 7
        g = ty * nx[key] + tx
        ngrade = int(g.max()) + 1 if g.size else 1
        llx = minx[key] + 7 * tx
        lly = miny[key] + 7 * ty
        pdf = np.zeros((ngrade, 1024, 7, 7), np.float32)
        pdf[g, key, ys - lly, xs - llx] = 1.0
        ref_x = np.full((ngrade, 1024), -1, np.int16)
        ref_y = np.full((ngrade, 1024), -1, np.int16)
        ref_x[g, key] = llx + 1  # 1-based DET1X of the window's lower-left sub-pixel
        ref_y[g, key] = lly + 1
        tot = pdf.sum(axis=(2, 3))
        pdf /= np.maximum(tot, 1)[..., None, None]
        pdf[ref_x < 0] = np.nan
        k = np.tile(np.arange(1024), ngrade)
        cols = [
            fits.Column("RAWX", "1B", array=(k % 32).astype(np.uint8)),
            fits.Column("RAWY", "1B", array=(k // 32).astype(np.uint8)),
            fits.Column("GRADE", "1I", array=np.repeat(np.arange(ngrade), 1024).astype(np.int16)),
            fits.Column("REF_DET1X", "1I", array=ref_x.ravel()),
            fits.Column("REF_DET1Y", "1I", array=ref_y.ravel()),
            fits.Column("PDF", "49E", dim="(7,7)", array=pdf.reshape(-1, 7, 7)),
        ]
        hdu = fits.BinTableHDU.from_columns(cols, name="PIXPOS")
        _for_detector(hdu, d)
        _stamp(hdu.header, cal, "PIXPOS")
        hdus.append(hdu)
    return hdus


def _index_row(instrume: str, cnam: str, cal_dir: str, cal_file: str, xno: int = 1,
               detnam: str = "-", cbd: str = "NONE", desc: str = "") -> dict:
    return {"TELESCOP": "NUSTAR", "INSTRUME": instrume, "DETNAM": detnam, "FILTER": "-",
            "CAL_DEV": "ONLINE", "CAL_DIR": cal_dir, "CAL_FILE": cal_file, "CAL_CLAS": "BCF",
            "CAL_DTYP": "DATA", "CAL_CNAM": cnam, "CAL_CBD": cbd, "CAL_XNO": xno,
            "CAL_VSD": VALID_FROM[0], "CAL_VST": VALID_FROM[1], "REF_TIME": 55197.0,
            "CAL_QUAL": 0, "CAL_DATE": "2026-01-01", "CAL_DESC": desc[:70]}


def _detector_rows(instrume: str, cnam: str, cal_dir: str, cal_file: str, desc: str,
                   cbd: str | None = None) -> list[dict]:
    """One index row per detector (extensions 1–4, DETNAM DET0–DET3) of a per-detector file."""
    extra = {"cbd": cbd} if cbd is not None else {}
    return [_index_row(instrume, cnam, cal_dir, cal_file, d + 1, f"DET{d}", desc=desc, **extra)
            for d in range(4)]


def _write(path: Path, hdul: fits.HDUList, overwrite: bool, rows: list, row: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_fits_atomic(path, hdul, overwrite=overwrite)
    rows.extend(row if isinstance(row, list) else [row])


def _write_pixpos(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    rel = "data/nustar/fpm/bcf/pixpos"
    prim = fits.PrimaryHDU()
    _stamp(prim.header, cal, "PIXPOS")
    _write(fpm / "bcf/pixpos" / f"nu{m}pixpos{VERSION}.fits",
           fits.HDUList([prim, *_pixpos_hdus(cal)]), overwrite, rows,
           _detector_rows(f"FPM{m}", "PIXPOS", rel, f"nu{m}pixpos{VERSION}.fits",
                          desc="PIXPOS-like ownership (synthetic)"))


def _write_instrmap(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    im = fits.ImageHDU(np.asarray(cal.active_area(), np.float32), name="INSTRMAP")
    h = im.header
    h["CTYPE1"], h["CTYPE2"] = "DET1X", "DET1Y"
    h["CRPIX1"] = h["CRPIX2"] = 180.5
    h["CRVAL1"] = h["CRVAL2"] = 0.0
    h["CDELT1"] = h["CDELT2"] = 6.828076e-4
    h["CUNIT1"] = h["CUNIT2"] = "deg"
    h["CONTENT"] = f"NuSTAR FPM{m} DET1 Instrument Map"
    h["CCNM0001"] = "INSTRMAP"
    _stamp(h, cal, "INSTRMAP")
    _write(fpm / "bcf/instrmap" / f"nu{m}instrmap{VERSION}.fits",
           fits.HDUList([fits.PrimaryHDU(), im]), overwrite, rows,
           _index_row(f"FPM{m}", "INSTRMAP", "data/nustar/fpm/bcf/instrmap",
                      f"nu{m}instrmap{VERSION}.fits", 1, "-", desc="instrument map"))


def _write_aperture(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    """Solid angle (deg²) on the 576×576 ray-trace grid: DET1 idx k at k + 108, so the nomapbgd
    shift moves real values in, as with the calibration used."""
    ap = fits.ImageHDU(np.asarray(cal.aperture_image_full(), np.float32), name="APERTURE")
    ap.header["BUNIT"] = "deg**2"
    ap.header["CCNM0001"] = "APERTURE"
    _stamp(ap.header, cal, "APERTURE")
    _write(fpm / "bcf/aperture" / f"nu{m}aperture{VERSION}.fits",
           fits.HDUList([fits.PrimaryHDU(), ap]), overwrite, rows,
           _index_row(f"FPM{m}", "APERTURE", "data/nustar/fpm/bcf/aperture",
                      f"nu{m}aperture{VERSION}.fits", 1, "-",
                      desc="aperture solid angle, 576x576 grid (deg2)"))


def _write_badpix(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    """CALDB bad pixels: one empty BADPIX extension per detector."""
    bps = [fits.PrimaryHDU()]
    _stamp(bps[0].header, cal, "BADPIX")
    for d in range(4):
        b = fits.BinTableHDU.from_columns([
            fits.Column("TIME", "1D", unit="s", array=np.zeros(0)),
            fits.Column("RAWX", "1B", array=np.zeros(0, np.uint8)),
            fits.Column("RAWY", "1B", array=np.zeros(0, np.uint8)),
            fits.Column("BADFLAG", "16X", array=np.zeros((0, 16), bool))], name="BADPIX")
        _for_detector(b, d)
        bps.append(b)
    _write(fpm / "bcf/badpix" / f"nu{m}badpix{VERSION}.fits", fits.HDUList(bps), overwrite,
           rows, _detector_rows(f"FPM{m}", "BADPIX", "data/nustar/fpm/bcf/badpix",
                                f"nu{m}badpix{VERSION}.fits", desc="CALDB bad pixels (none)"))


def _write_rmfs(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    """The per-detector RMFs and the GRPRMF file that points at them."""
    from nuskybgd.io.rmf import write_rmf

    instr = f"FPM{m}"
    rmfdir = fpm / "cpf/rmf"
    rmfdir.mkdir(parents=True, exist_ok=True)
    grp = [fits.PrimaryHDU()]
    _stamp(grp[0].header, cal, "GRPRMF")
    for d in range(4):
        r = cal.rmf(d)
        r.header = {**r.header, "DETNAM": f"DET{d}", "INSTRUME": instr, "TELESCOP": "NuSTAR"}
        name = f"nu{m}cutdet{d}_{VERSION}.rmf"
        write_rmf(r, rmfdir / name, overwrite=overwrite, provenance=_provenance(cal))
        g = fits.BinTableHDU.from_columns([
            fits.Column("RAWX", "1B", array=np.array([0], np.uint8)),
            fits.Column("RAWY", "1B", array=np.array([0], np.uint8)),
            fits.Column("XEXTENT", "1B", array=np.array([32], np.uint8)),
            fits.Column("YEXTENT", "1B", array=np.array([32], np.uint8)),
            fits.Column("RMFFILE", "40A", array=np.array([name]))], name="GRPRMF")
        _for_detector(g, d)
        grp.append(g)
    _write(rmfdir / f"nu{m}cutgrprmf{VERSION}.fits", fits.HDUList(grp), overwrite, rows,
           _detector_rows(instr, "GRPRMF", "data/nustar/fpm/cpf/rmf", f"nu{m}cutgrprmf{VERSION}.fits",
                          cbd="DEPTHCUT(NOMINAL)", desc="grouping of RMFs"))


def _write_arf(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    """SPECRESP: the on-axis ARF."""
    from nuskybgd.io.arf import write_arf

    instr = f"FPM{m}"
    arf = cal.onaxis_arf()
    arf = Arf(arf.energ_lo, arf.energ_hi, arf.specresp,
              {**arf.header, "INSTRUME": instr, "TELESCOP": "NuSTAR"})
    (fpm / "bcf/arf").mkdir(parents=True, exist_ok=True)
    write_arf(arf, fpm / "bcf/arf" / f"nu{m}{VERSION}.arf", overwrite=overwrite,
              provenance=_provenance(cal))
    rows.append(_index_row(instr, "SPECRESP", "data/nustar/fpm/bcf/arf", f"nu{m}{VERSION}.arf",
                           1, "-", desc="on-axis effective area"))


def _energy_columns(cal) -> list[fits.Column]:
    r0 = cal.rmf(0)
    return [fits.Column("ENERG_LO", "E", unit="keV", array=np.asarray(r0.energ_lo, np.float32)),
            fits.Column("ENERG_HI", "E", unit="keV", array=np.asarray(r0.energ_hi, np.float32))]


def _write_detabs(fpm: Path, m: str, cal, overwrite: bool, rows: list) -> None:
    dab = [fits.PrimaryHDU()]
    _stamp(dab[0].header, cal, "DETABS")
    n = cal.rmf(0).n_energy
    for d in range(4):
        t = fits.BinTableHDU.from_columns(
            [*_energy_columns(cal), fits.Column("DETABS", "E", array=_detabs(cal, d, n))],
            name="DETABS")
        _for_detector(t, d)
        dab.append(t)
    _write(fpm / "bcf/detabs" / f"nu{m}detabs{VERSION}.fits", fits.HDUList(dab), overwrite,
           rows, _detector_rows(f"FPM{m}", "DETABS", "data/nustar/fpm/bcf/detabs",
                                f"nu{m}detabs{VERSION}.fits", desc="detector absorption"))


def _write_beabspar(fpm: Path, cal, overwrite: bool, rows: list) -> None:
    """BEABSPAR: one Be-window file for both modules (INSTRUME FPM)."""
    be = cal.be_transmission()
    t = fits.BinTableHDU.from_columns(
        [*_energy_columns(cal), fits.Column("ATT", "E", array=np.asarray(be.specresp, np.float32))],
        name="BEABSPAR")
    t.header.add_comment("ATT = transmission of the Be window (+MLI), applied by row.")
    _stamp(t.header, cal, "BEABSPAR")
    t.header["INSTRUME"] = "FPM"
    _write(fpm / "bcf/instrument" / f"nuCabsparBe{VERSION}.fits",
           fits.HDUList([fits.PrimaryHDU(), t]), overwrite, rows,
           _index_row("FPM", "BEABSPAR", "data/nustar/fpm/bcf/instrument",
                      f"nuCabsparBe{VERSION}.fits", 1, "-", desc="Be window transmission"))


#: Columns of ``caldb.indx`` (CIF) and their FITS formats.
_CIF_COLUMNS = [("TELESCOP", "10A"), ("INSTRUME", "10A"), ("DETNAM", "20A"), ("FILTER", "10A"),
                ("CAL_DEV", "20A"), ("CAL_DIR", "70A"), ("CAL_FILE", "40A"), ("CAL_CLAS", "3A"),
                ("CAL_DTYP", "4A"), ("CAL_CNAM", "20A"), ("CAL_CBD", "630A70"),
                ("CAL_XNO", "1I"), ("CAL_VSD", "10A"), ("CAL_VST", "8A"), ("REF_TIME", "1D"),
                ("CAL_QUAL", "1I"), ("CAL_DATE", "10A"), ("CAL_DESC", "70A")]


def _write_index(fpm: Path, cals: dict, overwrite: bool, rows: list) -> Path:
    """``caldb.indx``: one CIF row per file and detector written above."""
    cols = []
    for name, fmt in _CIF_COLUMNS:
        vals = [r[name] for r in rows]
        if name == "CAL_CBD":
            arr = np.array([v.ljust(70) + "NONE".ljust(70) * 8 for v in vals])
            cols.append(fits.Column(name, "630A", array=arr))
        elif fmt.endswith("A"):
            cols.append(fits.Column(name, fmt, array=np.array(vals)))
        elif fmt == "1I":
            cols.append(fits.Column(name, fmt, array=np.array(vals, np.int16)))
        else:
            cols.append(fits.Column(name, fmt, array=np.array(vals, float)))
    cif = fits.BinTableHDU.from_columns(cols, name="CIF")
    cif.header["CALDBVER"] = ("nuskybgd-sim", "synthetic CALDB written by nuskybgd simulate")
    Provenance(calibration=",".join(sorted({c.source for c in cals.values()})),
               task="simulate --caldb-tree").stamp(cif.header)
    idx = fpm / "caldb.indx"
    write_fits_atomic(idx, fits.HDUList([fits.PrimaryHDU(), cif]), overwrite=overwrite)
    return idx


def write_caldb_tree(root: str | Path, cals: dict, overwrite: bool = False, reporter=None) -> Path:
    """Write a CALDB tree under ``root`` for the given per-module calibrations.

    Parameters
    ----------
    root : path
        CALDB root to create (``$CALDB``).
    cals : dict
        Module letter → :class:`nuskybgd.calib.base.Calibration`.
    overwrite : bool
        Replace existing files.
    reporter : nuskybgd.events.Reporter, optional
        Told about the index file written.

    Returns
    -------
    Path
        The root folder.
    """
    root = Path(root)
    fpm = root / "data" / "nustar" / "fpm"
    rows: list[dict] = []
    for k, (m, cal) in enumerate(cals.items()):
        for write in (_write_pixpos, _write_instrmap, _write_aperture, _write_badpix, _write_rmfs,
                      _write_arf, _write_detabs):
            write(fpm, m, cal, overwrite, rows)
        if k == 0:
            _write_beabspar(fpm, cal, overwrite, rows)
    idx = _write_index(fpm, cals, overwrite, rows)
    if reporter is not None:
        reporter.output(idx, f"wrote CALDB tree {root} ({len(rows)} index rows)")
    return root
