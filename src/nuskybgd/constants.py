"""NuSTAR instrument numbers used throughout nuskybgd, each with its source.

Units are stated in every name or docstring.  Sources: ``nu_defs.h`` (HEASoft NuSTARDAS), the
CALDB INSTRMAP/PIXPOS headers, nupipeline defaults, and the OGIP response files (EBOUNDS).
"""

from __future__ import annotations

#: Modules (focal-plane modules) of NuSTAR.  Source: INSTRUME = FPMA/FPMB in every NuSTAR file.
MODULES: tuple[str, str] = ("A", "B")

#: Detectors per module (CZT hybrids), DET_ID 0..3.  Source: nu_defs.h.
N_DETECTORS: int = 4

#: RAW pixels per detector side (RAWX, RAWY in 0..31).  Source: nu_defs.h.
RAW_PIXELS_PER_SIDE: int = 32

#: RAW pixel pitch in mm (604.8 µm).  Source: nu_defs.h.
RAW_PIXEL_MM: float = 0.6048

#: DET1 sub-pixel size in mm (RAW pitch / 5).  Source: nu_defs.h, TCDLT of DET1X in event files.
DET1_PIXEL_MM: float = 0.12096

#: DET1 sub-pixel angular size in degrees (2.4581 arcsec).  Source: nu_defs.h / INSTRMAP header.
DET1_PIXEL_DEG: float = 6.828076e-4

#: DET1 sub-pixel angular size in arcsec (2.4581″).  Source: derived from DET1_PIXEL_DEG.
DET1_PIXEL_ARCSEC: float = DET1_PIXEL_DEG * 3600.0

#: Sky pixel size in degrees; sky pixel == DET1 sub-pixel (1:1).  Source: TCDLT of X/Y in event
#: files (±6.828076e-4 deg).
SKY_PIXEL_DEG: float = DET1_PIXEL_DEG

#: Focal length in mm implied by the DET1 pixel size (≈ 10.15 m).  Source: derived, mm / rad.
FOCAL_LENGTH_MM: float = DET1_PIXEL_MM / (DET1_PIXEL_DEG * 3.141592653589793 / 180.0)

#: DET1 frame size in sub-pixels (DET1X, DET1Y in 1..360).  Source: event file TLMIN/TLMAX.
DET1_SIZE: int = 360

#: DET1 reference pixel (1-based DET1X, DET1Y) tracked by the ``_det1.fits`` file.
#: Source: nupipeline/nuskypos ``det1xref=350 det1yref=350``.
DET1_REFPIX: tuple[int, int] = (350, 350)

#: Sky frame size in pixels (X, Y in 1..1000), reference pixel 500.5.  Source: event TC* keywords.
SKY_SIZE: int = 1000
SKY_REFPIX: float = 500.5

#: PI channel grid: channel k spans [PI_E0 + PI_DE*k, PI_E0 + PI_DE*(k+1)) keV.
#: Source: CALDB RMF EBOUNDS, nuskybgd-py diag.rmf.
PI_E0_KEV: float = 1.6
PI_DE_KEV: float = 0.04
N_PI: int = 4096
PI_EMAX_KEV: float = PI_E0_KEV + PI_DE_KEV * N_PI  # 165.44 keV

#: The good band of NuSTAR in keV (Pt K edge at 78.4 keV).  Source: the 3–79 keV band of the
#: NuSTAR mission papers (Harrison et al. 2013, ApJ 770, 103) and of nuskybgd-py fits.
GOOD_BAND_KEV: tuple[float, float] = (3.0, 79.0)

#: Null sentinels in cleaned event files (TNULL).  Source: real event files.
TNULL_PI: int = -4095
TNULL_DET: int = -4095
TNULL_SKY: int = -1

#: Mission time reference: MET seconds since 2010-01-01T00:00:00 UTC, in TT.  Source: MJDREFI /
#: MJDREFF keywords of every NuSTAR event file.
MJDREFI: int = 55197
MJDREFF: float = 0.00076601852

#: Grades kept by standard screening (inclusive).  Source: nuscreen default, DSVAL ``0:26`` of
#: GRADE in cleaned event files and products.
GRADE_RANGE: tuple[int, int] = (0, 26)

# ------------------------------------------------------------------------------------------------
# Calibration-related numbers (reviewed by the calibration area; see docs/calibration.md)
# ------------------------------------------------------------------------------------------------

#: DET1 sub-pixels per RAW pixel side (604.8 µm / 120.96 µm).  Source: nu_defs.h; PIXPOS header
#: comments "CELLSIZE is defined to be PIXSIZE / 5".
DET1_SUBPIX_PER_RAW: int = 5

#: Number of response energy rows and PI channels of NuSTAR RMFs/ARFs (same grid as N_PI).
#: Source: CALDB RMF nuAdet3_20100101v002 (MATRIX 4096 rows, EBOUNDS 4096 channels).
N_RESPONSE_ROWS: int = N_PI

#: Aperture ray-trace images (auxil ``det{A,B}_det1.img``): 576×576 grid, DET1 idx k at k + 108,
#: raw value × 3.1865e-5 = deg².  Source: nuskybgd-py projbgd (reference geometry §8, B.9.7).
APERTURE_GRID: int = 576
APERTURE_OFFSET: int = 108
APERTURE_RAW_TO_DEG2: float = 3.1865e-5

#: Aperture-model parameters of nuskybgd-py's ``nomapbgdparams.dat`` per module (reference
#: geometry-and-calibration §8): ``norm`` (10–15 keV aperture CXB counts per deg² per mm² per
#: 100 ks), constant offset, x/y translation of the aperture image in mm, rotation in degrees.
NOMINAL_APERTURE_PARAMS: dict[str, dict[str, float]] = {
    "A": {"norm": 0.32, "const": 0.0, "shift_x_mm": -3.4, "shift_y_mm": 2.0, "rotation_deg": 0.0},
    "B": {"norm": 0.32, "const": 0.0, "shift_x_mm": -3.5, "shift_y_mm": 1.6, "rotation_deg": 0.0},
}
#: Additive floor per DET1 pixel of projbgd's aperture image (0.00495·0.7, inherited from IDL).
APERTURE_FLOOR: float = 0.00495 * 0.7
#: Absorption-edge energies (keV) seen in the optics' effective area: W L3, Pt L3, W K, Pt K.
#: Source: X-ray Data Booklet (LBNL), table 1-1.
EDGE_W_L3_KEV: float = 10.207
EDGE_PT_L3_KEV: float = 11.564
EDGE_W_K_KEV: float = 69.525
EDGE_PT_K_KEV: float = 78.395

#: CALDB index location below $CALDB.  Source: HEASARC CALDB layout (caldb.indx per mission/instr).
CALDB_INDEX_RELPATH: str = "data/nustar/fpm/caldb.indx"

