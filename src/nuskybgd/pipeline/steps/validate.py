"""Check OGIP spectra and responses (``nuskybgd validate``), in the spirit of ftchkpha/ftchkrmf."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import Reporter, Step, StepResult


def ogip_kind(path: str | Path) -> str:
    """``"PHA"``, ``"RMF"`` or ``"ARF"`` from a file's extensions (EXTNAME / HDUCLAS1/2).

    Raises
    ------
    InputError
        Not a readable FITS file, or none of the three OGIP kinds.
    """
    from nuskybgd.io.ogip import open_fits

    p = Path(path)
    with open_fits(p, "OGIP file") as hdul:
        for hdu in hdul[1:]:
            h = hdu.header
            name = str(h.get("EXTNAME", "")).strip().upper()
            c1 = str(h.get("HDUCLAS1", "")).strip().upper()
            c2 = str(h.get("HDUCLAS2", "")).strip().upper()
            if name == "SPECTRUM" or c1 == "SPECTRUM":
                return "PHA"
            if name in ("MATRIX", "SPECRESP MATRIX") or (c1 == "RESPONSE" and c2 == "RSP_MATRIX"):
                return "RMF"
            if name == "SPECRESP" or (c1 == "RESPONSE" and c2 == "SPECRESP"):
                return "ARF"
    from nuskybgd.io.fitscheck import fits_truncated

    if fits_truncated(p):
        raise InputError(f"{p} is truncated (incomplete download or copy?); fetch or write it again.", p)
    raise InputError(f"{p} is not an OGIP spectrum, RMF or ARF (no SPECTRUM, MATRIX or SPECRESP "
                     "extension); give a .pha, .rmf or .arf file.", p)


class ValidateStep(Step):
    """Report what OGIP files lack (mandatory keywords, columns, grids, normalisation)."""

    name = "validate"
    title = "Check OGIP files"
    help = ("Check spectra (PHA), response matrices (RMF) and effective-area files (ARF) against "
            "the OGIP standards XSPEC and Sherpa rely on, and say what each file lacks.")

    params = (
        Param("paths", "paths", positional=True, role="input", help="PHA, RMF or ARF files (.gz is fine)"),
    )

    def outputs(self) -> list[Path]:
        """Nothing is written."""
        return []

    def run(self, reporter: Reporter | None = None) -> StepResult:
        """Check every file; ``values`` maps each path to (kind, problems)."""
        from nuskybgd.io.validate import validate_arf, validate_pha, validate_rmf

        validators = {"PHA": validate_pha, "RMF": validate_rmf, "ARF": validate_arf}
        rep = reporter or Reporter()
        kinds = {p: ogip_kind(p) for p in self.paths}  # refuse unknown files before checking any
        results: dict[str, tuple[str, list[str]]] = {}
        for p, kind in kinds.items():
            problems = validators[kind](p)
            results[str(p)] = (kind, problems)
            if problems:
                rep.warning(f"{p} ({kind}): {len(problems)} problem(s)")
            else:
                rep.log(f"{p} ({kind}): OK")
        return StepResult(values={"results": results})
