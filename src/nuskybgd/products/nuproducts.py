"""Spectra made by HEASoft's ``nuproducts`` instead of the Python extraction (``--nuproducts``).

One ``nuproducts`` run per region, as nustar-gen-utils' ``make_spectra`` writes it
(``stemout=nu<seq><m>01_<reg>[_<gti>]``, no background extraction, no image or light curve,
``runmkarf=yes`` only for source regions), in a scratch folder; its ``_sr.pha``, ``_sr.rmf`` and
``_sr.arf`` are then copied to the planned names and grouped by :mod:`nuskybgd.products.grouping`
(the same grouping as the Python path).  Needs HEASoft initialised (``nuproducts`` on PATH,
``$CALDB`` set); a failed run is an :class:`~nuskybgd.errors.InputError` quoting its last line.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.events import Reporter, Silent

__all__ = ["nuproducts_command", "nuproducts_spectra"]


def nuproducts_command(event_file: Path, region: Path, outdir: Path, stemout: str, seqid: str, module: str,
                       source: bool, usrgti: Path | None = None) -> list[str]:
    """The ``nuproducts`` argument list for one region (absolute paths)."""
    ev = Path(event_file).absolute()
    args = ["nuproducts", f"infile={ev}", f"indir={ev.parent}", f"outdir={Path(outdir).absolute()}",
            f"instrument=FPM{module}", f"steminputs=nu{seqid}", f"stemout={stemout}",
            f"srcregionfile={Path(region).absolute()}", "bkgextract=no", "imagefile=NONE", "lcfile=NONE",
            "bkglcfile=NONE", f"runmkarf={'yes' if source else 'no'}", "runmkrmf=yes", "clobber=yes"]
    if usrgti is not None:
        args.append(f"usrgtifile={Path(usrgti).absolute()}")
    return args


def nuproducts_spectra(event_file: str | Path, regions: Mapping[str, Path], outdir: str | Path,
                       plan: Mapping[str, Mapping[str, Path]], *, sources: Collection[str] = (),
                       usrgti: str | Path | None = None, group_min: int | None = 30, optimal: bool = False,
                       reporter: Reporter | None = None) -> None:
    """Run ``nuproducts`` for every region and write the files of ``plan`` into ``outdir``.

    Parameters
    ----------
    event_file : path
        Cleaned event file.
    regions : mapping name → path
        ds9 region files (sky coordinates).
    outdir : path
        Folder to write into (the step's staging folder); the plan's file names are kept.
    plan : mapping
        :func:`~nuskybgd.products.spectrum_products.planned_outputs` of the same regions, in
        their final folder (the grouped copies' provenance names the final spectra).
    sources, usrgti, group_min, optimal
        As :func:`~nuskybgd.products.spectrum_products.make_spectra`.
    reporter : Reporter, optional
        Messages and cancellation.
    """
    from nuskybgd.io.events import read_event_headers
    from nuskybgd.io.ogip import read_pha, read_rmf
    from nuskybgd.products.grouping import (
        fwhm_channels,
        group_min_counts,
        group_optimal,
        write_grouped,
    )

    rep = reporter or Silent()
    _, header, _ = read_event_headers(event_file)
    seqid = str(header.get("OBS_ID", "")).strip()
    from nuskybgd.modules import module_of

    module = module_of(header.get("INSTRUME"), event_file, "event file") or "A"
    with tempfile.TemporaryDirectory(prefix="nuproducts-", dir=outdir) as scratch:
        for name, region in regions.items():
            rep.check_cancelled()
            files = plan[name]
            stemout = files["pha"].name[:-len("_sr.pha")]
            cmd = nuproducts_command(Path(event_file), region, Path(scratch), stemout, seqid, module,
                                     name in sources, Path(usrgti) if usrgti is not None else None)
            rep.log(" ".join(cmd))
            run = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            tail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-1:] or [f"exit status {run.returncode}"]
            made = Path(scratch) / f"{stemout}_sr.pha"
            if run.returncode != 0 or not made.is_file():
                raise InputError(f"nuproducts failed on region {region}: {tail[0]}; check the HEASoft "
                                 "setup ($CALDB) or run without --nuproducts.", region)
            for kind in ("pha", "rmf", "arf"):
                if kind in files:
                    shutil.copyfile(Path(scratch) / f"{stemout}_sr.{kind}", Path(outdir) / files[kind].name)
            counts = read_pha(Path(outdir) / files["pha"].name).counts
            if group_min:
                g, q = group_min_counts(counts, group_min)
                write_grouped(Path(outdir) / files["pha"].name, Path(outdir) / files[f"g{group_min}"].name,
                              g, q, f"MINCOUNTS {group_min}", True, provenance_name=files["pha"])
            if optimal:
                g, q = group_optimal(counts, fwhm_channels(read_rmf(Path(outdir) / files["rmf"].name)))
                write_grouped(Path(outdir) / files["pha"].name, Path(outdir) / files["opt"].name, g, q,
                              "OPTIMAL (Kaastra & Bleeker 2016)", True, provenance_name=files["pha"])
