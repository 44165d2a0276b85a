"""The nuskybgd background model on the spectral engine (background-model.md §3).

Four XSPEC sources per background spectrum s (source 1 is left for the user):

=====  =======  ==========================  =====================================
 k      name     expression                  response k:s
=====  =======  ==========================  =====================================
 2      apbgd    cutoffpl                    spectrum RMF + Be-window ARF (``be.arf``)
 3      intbgd   apec + 29 × lorentz         spectrum RMF, no ARF
 4      fcxb     cutoffpl                    spectrum RMF + on-axis ARF (``fcxb{m}.arf``)
 5      intn     bknpower                    diagonal RMF (``diag.rmf``), no ARF
=====  =======  ==========================  =====================================

With a source region and spectrum, source 1 is the point source's **PSF wings** in the
background regions (``srcwing``, :func:`add_source_wings`): a power law through the spectrum's
RMF and the on-axis ARF, frozen at the source spectrum's fit scaled by the PSF's share of each
region (:mod:`nuskybgd.workflow.wings`).  The projection into a source region leaves it out: there
it is the source itself.

Presets, ratio links, fixed line ratios and fCXB links come from
:func:`nuskybgd.workflow.presets.model_settings` as the original's ``setPars`` strings and are
applied here verbatim.  The calibration response files the ``.xcm`` names are written (or
reused when identical) beside it by :func:`write_calibration_files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError, OutputExistsError
from nuskybgd.workflow.presets import INTBGD_COMPONENTS, SOURCE_NUMBERS, module_presets

__all__ = ["BAND_KEV", "WING_NAME", "WING_NUMBER", "add_source_wings", "apply_setting", "build_problem", "build_sources",
           "calibration_file_names", "calibration_jobs", "make_spectrum", "write_calibration_files"]

BAND_KEV = (3.0, 150.0)          # ignore **-3. 150.-**
WING_NAME = "srcwing"            # source 1: the source's PSF wings in the background regions
WING_NUMBER = 1


def _expression(name: str) -> str:
    if name == "intbgd":
        return "apec + " + " + ".join(["lorentz"] * 29)
    return {"apbgd": "cutoffpl", "fcxb": "cutoffpl", "intn": "bknpower"}[name]


def apply_setting(p, text: str) -> None:
    """Apply one ``setPars`` string (``"v, δ"``, ``"v"`` or ``"=expr"``) to a Parameter."""
    from nuskybgd.spectral import parse_link

    t = text.strip()
    if t.startswith("="):
        p.link = parse_link(t[1:])
        return
    parts = [x.strip() for x in t.split(",")]
    p.set(float(parts[0]))
    if len(parts) > 1 and parts[1]:
        d = float(parts[1])
        p.frozen = d < 0
        p.delta = abs(d)


def build_sources(settings: dict[str, list[str]], table: dict, module: str = "A") -> list:
    """The four sources with every group's parameters set from ``settings``.

    ``table``/``module`` give the line energies for the component labels
    (``line_19.65keV``, the project's parameter names).
    """
    from nuskybgd.spectral import Source

    p = module_presets(table, module)
    labels = {c: f"line_{e:.2f}keV" for c, e in zip(INTBGD_COMPONENTS[1:], p.line_energy, strict=True)}
    sources = []
    for name, number in SOURCE_NUMBERS.items():
        src = Source(_expression(name), name=name, number=number,
                     labels=labels if name == "intbgd" else None)
        values = settings[name]
        src.set_groups(len(values) // src.npar)
        for par, text in zip(src.parameters, values, strict=True):
            par.link = None
            apply_setting(par, text)
        sources.append(src)
    return sources


def calibration_file_names(modules: Sequence[str]) -> dict[str, str]:
    """File names of the calibration responses a fit names: ``be.arf``, ``fcxb{m}.arf``, ``diag.rmf``."""
    names = {"be": "be.arf", "diag": "diag.rmf"}
    for m in dict.fromkeys(modules):
        names[f"fcxb{m}"] = f"fcxb{m}.arf"
    return names


def _same_arf(path: Path, arf) -> bool:
    from nuskybgd.io.ogip import read_arf

    try:
        old = read_arf(path)
    except InputError:
        return False
    return old.specresp.shape == arf.specresp.shape and np.allclose(old.specresp, arf.specresp,
                                                                    rtol=1e-6, atol=0)


def _same_rmf(path: Path, rmf) -> bool:
    from nuskybgd.io.ogip import read_rmf

    try:
        old = read_rmf(path)
    except InputError:
        return False
    return old.matrix.shape == rmf.matrix.shape and abs(old.matrix - rmf.matrix).max() < 1e-6


def calibration_jobs(calibrations: dict, outdir: str | Path,
                     overwrite: bool = False) -> tuple[dict[str, Path], dict[Path, tuple]]:
    """The calibration responses a fit names and those still to write.

    Parameters
    ----------
    calibrations : dict
        Module → :class:`~nuskybgd.calib.base.Calibration` (the one that made the spectra).
    outdir : path
        Folder of the responses.
    overwrite : bool
        Replace a file holding a different response (otherwise refuse).

    Returns
    -------
    files : dict
        Key (``be``, ``diag``, ``fcxbA``, ``fcxbB``) → path in ``outdir``.
    jobs : dict
        Path → (writer, response, provenance keywords) of the files to write; a file already
        holding the same response is reused and not listed.

    Raises
    ------
    OutputExistsError
        A file holds a different response and ``overwrite`` is False.
    """
    from nuskybgd.io.ogip import write_arf, write_rmf

    out = Path(outdir)
    mods = list(calibrations)
    first = calibrations[mods[0]]
    items = [("be", first.be_transmission(), first), ("diag", first.identity_rmf(), first)]
    items += [(f"fcxb{m}", calibrations[m].onaxis_arf(), calibrations[m]) for m in mods]
    names = calibration_file_names(mods)
    files: dict[str, Path] = {}
    jobs: dict[Path, tuple] = {}
    for key, item, cal in items:
        path = out / names[key]
        files[key] = path
        is_rmf = key == "diag"
        if path.exists() and not overwrite:
            if (_same_rmf(path, item) if is_rmf else _same_arf(path, item)):
                continue
            raise OutputExistsError(path)
        jobs[path] = (write_rmf if is_rmf else write_arf, item,
                      {"calibration": cal.source, "calibration_detail": cal.detail, "task": "fit"})
    return files, jobs


def write_calibration_files(calibrations: dict, outdir: str | Path, overwrite: bool = False,
                            reporter=None) -> dict[str, Path]:
    """Write the Be-window ARF, the on-axis ARF of each module and the diagonal RMF into ``outdir``
    (the jobs of :func:`calibration_jobs`), provenance-stamped with their calibration source.

    Returns
    -------
    dict
        Key (``be``, ``diag``, ``fcxbA``, ``fcxbB``) → path.
    """
    files, jobs = calibration_jobs(calibrations, outdir, overwrite)
    for path, (write, item, kw) in jobs.items():
        write(item, path, overwrite=overwrite, **kw)
        if reporter is not None:
            reporter.output(path)
            if "BUILTIN" in str(kw["calibration"]).upper():
                reporter.warning(f"{path.name} is the built-in approximate calibration.")
    return files


def _rel(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(Path(path).resolve())


def make_spectrum(pha: str | Path, group: int, module: str, cal_files: dict[str, Path], base: Path,
                  cache: dict | None = None, wing: bool = False):
    """A :class:`~nuskybgd.spectral.Spectrum` with the four background responses (and, with
    ``wing``, source 1's: the spectrum's RMF with the on-axis ARF).

    File names (as written in ``.xcm`` files) are relative to ``base`` (the ``.xcm`` folder).
    The spectrum's own RMF is its header ``RESPFILE`` (relative to the PHA's folder).
    """
    from nuskybgd.io.ogip import read_pha
    from nuskybgd.spectral import Response, Spectrum

    cache = {} if cache is None else cache
    pha = Path(pha)
    data = read_pha(pha)
    if not data.respfile:
        raise InputError(f"spectrum {pha} names no RESPFILE; set it to the spectrum's RMF (nuproducts "
                         "does).", pha)
    rmf_path = Path(data.respfile)
    rmf_path = rmf_path if rmf_path.is_absolute() else pha.parent / rmf_path
    if not rmf_path.is_file():
        raise InputError(f"spectrum {pha} names RESPFILE {data.respfile}, which does not exist next to "
                         "it; put the RMF there or fix the keyword.", pha)

    def resp(rmf: Path, arf: Path | None = None):
        key = (str(rmf), None if arf is None else str(arf))
        if key not in cache:
            base_resp = cache.get((str(rmf), None)) or Response(rmf, rmf_path=_rel(rmf, base))
            cache[(str(rmf), None)] = base_resp
            if arf is not None:
                cache[key] = base_resp.with_arf(arf, arf_path=_rel(arf, base))
        return cache[key]

    responses = {2: resp(rmf_path, cal_files["be"]), 3: resp(rmf_path),
                 4: resp(rmf_path, cal_files[f"fcxb{module}"]), 5: resp(cal_files["diag"])}
    if wing:
        responses[WING_NUMBER] = responses[4]     # the source seen through the on-axis ARF
    spec = Spectrum(data, responses, group=group, name=_rel(pha, base))
    spec.notice_band(*BAND_KEV)
    return spec


def build_problem(info, weights, table: dict, cal_files: dict[str, Path], base: str | Path,
                  statistic: str = "chi", wings=None):
    """The starting :class:`~nuskybgd.spectral.FitProblem` of ``fit`` (before any recipe action).

    Parameters
    ----------
    info : BgdInfo
        Loaded configuration (spectra, modules, ties).
    weights : list of RegionWeights
        One per spectrum (:func:`~nuskybgd.workflow.geometry_weights.spectrum_weights`).
    table : dict
        Presets (``Calibration.presets()``).
    cal_files : dict
        From :func:`write_calibration_files`.
    base : path
        Folder of the ``.xcm`` (file names are written relative to it).
    statistic : str
        ``chi``, as the original's starting file; the recipe switches to cstat.
    wings : SourceWings, optional
        A point source's PSF wings in each region (:func:`nuskybgd.workflow.wings.estimate_source_wings`):
        adds the frozen source-wing term (:func:`add_source_wings`).
    """
    from nuskybgd.spectral import FitProblem
    from nuskybgd.workflow.presets import model_settings

    settings = model_settings(weights, info.modules, table, info.fix_line_ratios, info.fcxb_links)
    cache: dict = {}
    wing = wings is not None
    spectra = [make_spectrum(f, s, m, cal_files, Path(base), cache, wing=wing)
               for s, (f, m) in enumerate(zip(info.bgfiles, info.modules, strict=True), start=1)]
    sources = build_sources(settings, table, info.modules[0])
    if wing:
        sources.insert(0, add_source_wings(wings))
    return FitProblem(spectra, sources, statistic=statistic, maxit=30000, crit_delta=1e-4)


def add_source_wings(wings) -> object:
    """Source 1, ``srcwing``: the source's PSF wings in each background spectrum, frozen.

    ``wings`` is a :class:`~nuskybgd.workflow.wings.SourceWings`: per spectrum the power law's
    photon index and norm (the source spectrum's fit scaled by the PSF share of the region).
    """
    from nuskybgd.spectral import Source

    src = Source("powerlaw", name=WING_NAME, number=WING_NUMBER)
    src.set_groups(len(wings.norm))
    for s, (gamma, norm) in enumerate(zip(wings.photon_index, wings.norm, strict=True)):
        index, k = src.groups[s]
        index.link = k.link = None
        apply_setting(index, f"{gamma:.6g}, -0.01")
        apply_setting(k, f"{norm:.6e}, -1e-6")
    return src
