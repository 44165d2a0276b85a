"""Every spectral product of a set of regions in one call (what a ``spectrum`` step wraps).

For each region ``<reg>`` of an event file ``nu<seq><m>01_cl.evt``, in ``outdir``:

* ``nu<seq><m>01_<reg>_sr.pha`` — the spectrum (:mod:`nuskybgd.products.spectra`);
* ``nu<seq><m>01_<reg>_sr.rmf`` — the detector-mixed RMF; ``…_sr.arf`` for source regions
  (:mod:`nuskybgd.products.responses`);
* ``nu<seq><m>01_<reg>_sr_g<N>.pha`` — the minimum-count grouped copy (``group_min``, default 30,
  the walkthrough's ``_g30``) and, with ``optimal=True``, ``…_sr_opt.pha``
  (:mod:`nuskybgd.products.grouping`).

Every output is checked before anything is written, so an existing file stops the run with
nothing changed (unless ``overwrite``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from nuskybgd.events import Reporter, Silent

__all__ = ["make_spectra", "planned_outputs"]


def planned_outputs(seqid: str, module: str, names: Collection[str], outdir: str | Path,
                    sources: Collection[str] = (), group_min: int | None = 30,
                    optimal: bool = False, gti_stem: str | None = None) -> dict[str, dict[str, Path]]:
    """The files :func:`make_spectra` writes, per region name and kind (pha, rmf, arf, grouped…)."""
    from nuskybgd.products.spectra import spectrum_name

    out: dict[str, dict[str, Path]] = {}
    for name in names:
        pha = Path(outdir) / spectrum_name(seqid, module, name, gti_stem=gti_stem)
        stem = str(pha)[:-4]
        files = {"pha": pha, "rmf": Path(stem + ".rmf")}
        if name in sources:
            files["arf"] = Path(stem + ".arf")
        if group_min:
            files[f"g{group_min}"] = Path(f"{stem}_g{group_min}.pha")
        if optimal:
            files["opt"] = Path(stem + "_opt.pha")
        out[name] = files
    return out


def make_spectra(
    event_file: str | Path,
    regions: Mapping[str, str | Path],
    outdir: str | Path,
    calibration,
    *,
    sources: Collection[str] = (),
    usrgti: str | Path | None = None,
    group_min: int | None = 30,
    optimal: bool = False,
    overwrite: bool = False,
    reporter: Reporter | None = None,
    final_outdir: str | Path | None = None,
) -> dict[str, dict[str, Path]]:
    """Extract, write responses and group the spectra of several regions (events read once).

    Parameters
    ----------
    event_file : path
        Cleaned event file.
    regions : mapping name → path
        ds9 region files; the name is the ``<reg>`` of the output names (usually the file stem).
    outdir : path
        Output folder (``event_cl/bgd/``).
    calibration : nuskybgd.calib.base.Calibration
        The event file's module calibration (``nuskybgd.calib.resolve``).
    sources : collection of str
        Names of source regions (they get an ARF; the source position is the centre of the
        region's first include shape).
    usrgti : path, optional
        User GTI intersected with the event file's.
    group_min : int or None
        Minimum counts per group of the grouped copy (None: no such copy).
    optimal : bool
        Also write a Kaastra & Bleeker optimally binned copy.
    overwrite : bool
        Replace existing outputs.
    reporter : Reporter, optional
        Messages, progress, outputs and cancellation.
    final_outdir : path, optional
        Where the products end up when ``outdir`` is a staging folder: the grouped copies'
        provenance names their ungrouped spectrum there (default ``outdir``).

    Returns
    -------
    dict
        As :func:`planned_outputs`.
    """
    from nuskybgd.io.atomic import check_writable
    from nuskybgd.io.events import read_event_headers
    from nuskybgd.products.background_regions import _source_centre
    from nuskybgd.products.grouping import (
        fwhm_channels,
        group_min_counts,
        group_optimal,
        write_grouped,
    )
    from nuskybgd.products.regions import read_regions
    from nuskybgd.products.responses import write_region_responses
    from nuskybgd.products.spectra import extract_spectra
    from nuskybgd.products.spectrum_files import write_region_spectrum

    rep = reporter or Silent()
    _, events_header, _ = read_event_headers(event_file)
    seqid = str(events_header.get("OBS_ID", "")).strip()
    from nuskybgd.modules import module_of

    module = module_of(events_header.get("INSTRUME"), event_file, "event file") or "A"
    gti_stem = Path(usrgti).name.split(".")[0] if usrgti is not None else None
    plan = planned_outputs(seqid, module, list(regions), outdir, sources, group_min, optimal, gti_stem)
    for files in plan.values():
        for path in files.values():
            check_writable(path, overwrite)
    ex = extract_spectra(event_file, regions, usrgti=usrgti, reporter=rep)
    label = getattr(calibration, "source_for", lambda *i: None)
    for name, files in plan.items():
        rep.check_cancelled()
        spec = ex.spectra[name]
        centre = _source_centre(read_regions(spec.region_file), ex.wcs) if name in sources else None
        written = write_region_responses(ex, name, calibration, str(files["pha"])[:-4],
                                         source_xy=centre, overwrite=overwrite)
        write_region_spectrum(ex, name, files["pha"], respfile=written["rmf"].name,
                              ancrfile=written["arf"].name if "arf" in written else None,
                              overwrite=overwrite, calibration=label("rmf"))
        final_pha = Path(final_outdir) / files["pha"].name if final_outdir is not None else files["pha"]
        if group_min:
            g, q = group_min_counts(spec.counts, group_min)
            write_grouped(files["pha"], files[f"g{group_min}"], g, q, f"MINCOUNTS {group_min}", overwrite,
                          provenance_name=final_pha)
        if optimal:
            from nuskybgd.io.ogip import read_rmf

            g, q = group_optimal(spec.counts, fwhm_channels(read_rmf(written["rmf"])))
            write_grouped(files["pha"], files["opt"], g, q, "OPTIMAL (Kaastra & Bleeker 2016)", overwrite,
                          provenance_name=final_pha)
        for path in files.values():
            rep.output(path)
    return plan
