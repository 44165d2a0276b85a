"""``spec`` and ``simplify``: the fitted background projected into a source region.

``spec`` (background-model.md §6) appends the source spectrum as data group N+1 and gives it
the four background sources with the formulas of a non-reference spectrum (apbgd, intbgd and
intn ratio-linked to the module reference's fitted norms, fcxb at its nominal preset, intn
shapes reset), writes ``bgd_<src>.xcm`` (``backgrnd N none`` everywhere: the background is
modelled, not subtracted) and a background spectrum ``bgd_<src>_bk.pha`` for the source region
(model counts × the source exposure, the source's BACKSCAL, so a plain subtraction with any
OGIP tool uses scale 1; optionally a Poisson realisation).  The user's PHA is never modified.

``simplify`` (§7) resolves every link of the source groups to its value, freezes everything
and drops the background spectra: ``bgd_only_<src>.xcm`` with model 1 left for the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from nuskybgd.errors import InputError

__all__ = ["Projection", "crossover_energy", "project_source", "project_sources", "projection_names",
           "simplify", "simplify_name", "simplify_projection", "simplify_state_name"]


@dataclass
class Projection:
    """What :func:`project_source` wrote and computed.

    ``components`` maps source name → expected counts per channel in the source region over the
    source exposure; ``total`` is their sum; ``crossover_keV`` the energy above which the
    projected background exceeds the net source counts (None if it never does below 79 keV).
    """

    xcm: Path
    background_pha: Path
    components: dict[str, np.ndarray] = field(repr=False)
    total: np.ndarray = field(repr=False)
    crossover_keV: float | None = None
    problem: object | None = field(default=None, repr=False)


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _check_order(problem, info, sess) -> None:
    where = sess.path or "the fitted model"
    if len(problem.spectra) != info.n_spectra:
        raise InputError(f"{where} holds {len(problem.spectra)} spectra but {info.path} lists "
                         f"{info.n_spectra} bgfiles; use the fit made from this configuration.", sess.path)
    for s, (spec, bg) in enumerate(zip(problem.spectra, info.bgfiles, strict=True), start=1):
        here = sess._file(spec.name)
        if not _same_file(here, bg):
            raise InputError(f"spectrum {s} of {where} is {spec.name}, not {bg}; keep the spectra in "
                             "the order of bgfiles.", sess.path)


def _rel(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(Path(path).resolve())


def _relocate(problem, sess, out: Path) -> None:
    """Rewrite file names of ``problem`` (read from ``sess``) relative to folder ``out``."""
    for spec in problem.spectra:
        spec.name = _rel(sess._file(spec.name), out)
        for resp in spec.responses.values():
            if resp.rmf_path and not getattr(resp, "_relocated", False):
                resp.rmf_path = _rel(sess._file(resp.rmf_path), out)
                if resp.arf_path:
                    resp.arf_path = _rel(sess._file(resp.arf_path), out)
                resp._relocated = True


def read_source_spectrum(src_pha: Path):
    """A source spectrum and the RMF its RESPFILE names (relative to the spectrum's folder).

    Returns
    -------
    (Pha, Path)
        The spectrum and its RMF's path.

    Raises
    ------
    InputError
        No RESPFILE, or the RMF it names does not exist.
    """
    from nuskybgd.io.ogip import read_pha

    src_pha = Path(src_pha)
    pha = read_pha(src_pha)
    if not pha.respfile:
        raise InputError(f"source spectrum {src_pha} names no RESPFILE; set it to its RMF.", src_pha)
    rmf = Path(pha.respfile)
    rmf = rmf if rmf.is_absolute() else src_pha.parent / rmf
    if not rmf.is_file():
        raise InputError(f"source spectrum {src_pha} names RESPFILE {pha.respfile}, which does not "
                         "exist next to it; put the RMF there or fix the keyword.", src_pha)
    return pha, rmf


def _source_spectrum(src_pha: Path, module: str, ref_spec, group: int, base: Path, grouped: bool):
    from nuskybgd.spectral import Response, Spectrum

    pha, rmf = read_source_spectrum(src_pha)
    plain = Response(rmf, rmf_path=_rel(rmf, base))
    r2, r4 = ref_spec.responses[2], ref_spec.responses[4]
    responses = {2: plain.with_arf(r2.arf, arf_path=r2.arf_path), 3: plain,
                 4: plain.with_arf(r4.arf, arf_path=r4.arf_path), 5: ref_spec.responses[5]}
    if not grouped:
        pha = replace(pha, grouping=None, quality=None)
    return Spectrum(pha, responses, group=group, name=_rel(src_pha, base)), pha


def crossover_energy(source_counts: np.ndarray, background: np.ndarray, e_lo: np.ndarray,
                     e_hi: np.ndarray, band: tuple[float, float] = (3.0, 79.0), n_bins: int = 24
                     ) -> float | None:
    """Lowest energy (keV) above which the background exceeds the net source counts in every
    logarithmic bin of ``band`` up to its end (None when the source dominates everywhere).

    ``source_counts`` and ``background`` are counts per channel whose bounds are ``e_lo``–``e_hi``.
    """
    edges = np.geomspace(band[0], band[1], n_bins + 1)
    centre = 0.5 * (np.asarray(e_lo) + np.asarray(e_hi))
    idx = np.digitize(centre, edges) - 1
    ok = (idx >= 0) & (idx < n_bins)
    src = np.bincount(idx[ok], weights=np.asarray(source_counts, float)[ok], minlength=n_bins)
    bkg = np.bincount(idx[ok], weights=np.asarray(background, float)[ok], minlength=n_bins)
    dominated = bkg >= (src - bkg)
    if not dominated[-1]:
        return None
    first = n_bins - 1
    while first > 0 and dominated[first - 1]:
        first -= 1
    return float(edges[first])


def projection_names(src_regs: list, savefile: str | None, outdir: str | Path) -> tuple[Path, list[Path]]:
    """Output paths of ``spec``: ``bgd_<first region stem>.xcm`` and one ``bgd_<stem>_bk.pha`` per
    region (with ``savefile``: ``<savefile>.xcm``, ``<savefile>_bk.pha``, ``<savefile>_2_bk.pha`` …)."""
    regs = [Path(r) for r in src_regs]
    out = Path(outdir)
    stem = savefile[:-4] if savefile and savefile.endswith(".xcm") else (savefile or f"bgd_{regs[0].stem}")
    if savefile:
        bk = [out / (f"{stem}_bk.pha" if k == 0 else f"{stem}_{k + 1}_bk.pha") for k in range(len(regs))]
    else:
        bk = [out / f"bgd_{r.stem}_bk.pha" for r in regs]
    return out / f"{stem}.xcm", bk


def simplify_name(projected_xcm: str | Path, savefile: str | None = None,
                  outdir: str | Path | None = None) -> Path:
    """Output path of ``simplify``: ``bgd_`` → ``bgd_only_`` in the input's name (else prepended)."""
    src_path = Path(projected_xcm)
    stem = src_path.stem
    name = savefile or (stem.replace("bgd_", "bgd_only_") if "bgd_" in stem else f"bgd_only_{stem}")
    name = name[:-4] if name.endswith(".xcm") else name
    return (Path(outdir) if outdir is not None else src_path.parent) / f"{name}.xcm"


def simplify_state_name(simplified_xcm: str | Path) -> Path:
    """The native state written beside ``bgd_only_<src>.xcm``: ``bgd_only_<src>.json`` (loadable
    wherever a fit's ``NAME_fit.json`` is, e.g. :func:`nuskybgd.workflow.fit.load_fitted`)."""
    return Path(simplified_xcm).with_suffix(".json")


def project_source(config: str | Path, fitted: str | Path, src_reg: str | Path, src_pha: str | Path,
                   savefile: str | None = None, outdir: str | Path | None = None, poisson: bool = False,
                   seed: int | None = None, overwrite: bool = False, reporter=None) -> Projection:
    """Project the fitted background into one source region (``nuskybgd spec``).

    Parameters
    ----------
    config : path
        ``bgdinfo.json`` of the fit.
    fitted : path
        ``NAME_fit.json`` or an ``.xcm`` (ours, or one XSPEC saved).
    src_reg, src_pha : path
        Source region (ds9) and source spectrum (its RESPFILE must exist).
    savefile : str, optional
        Output stem; default ``bgd_<region stem>``.
    poisson : bool
        Write a Poisson realisation instead of the expected counts in the background PHA.
    """
    return project_sources(config, fitted, [src_reg], [src_pha], savefile, outdir, poisson, seed,
                           overwrite, reporter)[0]


def project_sources(config: str | Path, fitted: str | Path, src_regs: list, src_phas: list,
                    savefile: str | None = None, outdir: str | Path | None = None, poisson: bool = False,
                    seed: int | None = None, overwrite: bool = False, reporter=None) -> list[Projection]:
    """Several source regions at once (the original's ``src.reg,src2.reg src.pha,src2.pha``).

    The sources become data groups N+1, N+2 … of one ``bgd_<first region stem>.xcm``; each gets
    its own ``bgd_<region stem>_bk.pha`` (with ``savefile``: ``<savefile>_bk.pha``, then
    ``<savefile>_<k>_bk.pha`` for the k-th source after the first).
    """
    from nuskybgd.events import Silent
    from nuskybgd.io.atomic import check_writable
    from nuskybgd.io.staging import atomic_set
    from nuskybgd.spectral import FitProblem, export_xcm
    from nuskybgd.workflow.config import _instrume, load_bgdinfo
    from nuskybgd.workflow.fit import calibrations_for, load_fitted
    from nuskybgd.workflow.geometry_weights import load_geometry, weights_for_region
    from nuskybgd.workflow.model import WING_NAME, WING_NUMBER, apply_setting
    from nuskybgd.workflow.presets import source_region_settings

    rep = reporter if reporter is not None else Silent()
    info = load_bgdinfo(config)
    regs, phas = [Path(r) for r in src_regs], [Path(p) for p in src_phas]
    if not regs or len(regs) != len(phas):
        raise InputError(f"{len(regs)} source regions and {len(phas)} source spectra given; give one "
                         "spectrum per region, in the same order.")
    for f, what in [(r, "source region") for r in regs] + [(p, "source spectrum") for p in phas]:
        if not f.is_file():
            raise InputError(f"{what} {f} does not exist; check the path.", f)
    out = Path(outdir) if outdir is not None else Path(config).parent
    xcm_path, bk_paths = projection_names(regs, savefile, out)
    for p in [xcm_path, *bk_paths]:
        check_writable(p, overwrite)
    sess = load_fitted(fitted)
    problem = sess.build()
    _check_order(problem, info, sess)
    _relocate(problem, sess, out)
    geom = load_geometry(info)
    cals = calibrations_for(info)
    n_bg = len(problem.spectra)
    grouped_all, flat_all, settings = [], [], {}
    for k, (reg, pha) in enumerate(zip(regs, phas, strict=True)):
        module = _instrume(pha, str(pha), "source spectrum")
        r = info.reference(module)
        wq = weights_for_region(geom, module, reg, pha)
        wr = weights_for_region(geom, module, info.regfiles[r], info.bgfiles[r])
        settings = source_region_settings(wq, wr, r, module, cals[module].presets())
        n = n_bg + k + 1
        for src in problem.sources:
            if src.name in settings:
                src.set_groups(n)
                for par, text in zip(src.groups[n - 1], settings[src.name], strict=True):
                    par.link = None
                    apply_setting(par, text)
        grouped_all.append(_source_spectrum(pha, module, problem.spectra[r], n, out, True)[0])
        flat_all.append(_source_spectrum(pha, module, problem.spectra[r], n, out, False))
    # a fitted source-wing term (source 1) is the source itself in a source region: left out, and
    # source 1 left to the user's model as in any projection
    background = [s for s in problem.sources if s.name != WING_NAME]
    if len(background) < len(problem.sources):
        for spec in problem.spectra:
            spec.responses.pop(WING_NUMBER, None)
    projected = FitProblem(problem.spectra + grouped_all, background, statistic=problem.statistic_name,
                           maxit=problem.maxit, crit_delta=problem.crit_delta)
    per_channel = FitProblem(problem.spectra + [f for f, _ in flat_all], background,
                             statistic=problem.statistic_name)
    results = []
    # every product at once or none; the .xcm names the final paths (relative to ``out``)
    with atomic_set([xcm_path, *bk_paths], overwrite=overwrite) as stage:
        export_xcm(projected, stage[xcm_path])
        for k, ((flat, flat_pha), reg, pha, bk) in enumerate(zip(flat_all, regs, phas, bk_paths, strict=True)):
            rep.check_cancelled()
            n = n_bg + k + 1
            comps = {s.name: per_channel.model_counts(n, source=s.name) for s in problem.sources
                     if s.name in settings}
            total = np.sum(list(comps.values()), axis=0)
            _write_background(stage[bk], flat_pha, total, poisson, None if seed is None else seed + k, pha,
                              False, info, cals[_instrume(pha, str(pha), "source spectrum")])
            lo, hi = flat.responses[3].channel_lo, flat.responses[3].channel_hi
            cross = crossover_energy(np.asarray(flat_pha.counts, float), total, lo, hi)
            results.append((Projection(xcm_path, bk, comps, total, cross, projected), reg, lo, hi))
    rep.output(xcm_path, f"wrote {xcm_path} (background projected into {', '.join(r.name for r in regs)})")
    for proj, reg, lo, hi in results:
        rep.output(proj.background_pha, f"wrote {proj.background_pha} (background spectrum of {reg.name})")
        cross, total = proj.crossover_keV, proj.total
        text = (f"{reg.name}: the background exceeds the source above {cross:.1f} keV" if cross is not None
                else f"{reg.name}: the source exceeds the background up to 79 keV")
        rep.result({"region": reg.name, "crossover_keV": cross,
                    "background_counts_3_79keV": float(total[(lo >= 3.0) & (hi <= 79.0)].sum())}, text)
    return [proj for proj, *_ in results]


def _write_background(path: Path, src, total: np.ndarray, poisson: bool, seed, src_pha: Path,
                      overwrite: bool, info, cal) -> None:
    from nuskybgd.io.ogip import write_pha
    from nuskybgd.io.ogip_types import Pha

    hdr = {k: v for k, v in src.header.items() if k in ("TELESCOP", "INSTRUME", "OBJECT", "DATE-OBS",
                                                         "DATE-END", "TSTART", "TSTOP", "RA_OBJ", "DEC_OBJ")}
    hdr["HDUCLAS2"] = "BKG"
    if poisson:
        counts = np.random.default_rng(seed).poisson(np.maximum(total, 0.0)).astype(np.int64)
        pha = Pha(channels=src.channels, counts=counts, exposure=src.exposure, backscal=src.backscal,
                  header=hdr)
        rate = False
    else:
        hdr["STAT_ERR"] = np.zeros(total.size)
        pha = Pha(channels=src.channels, counts=total, exposure=src.exposure, backscal=src.backscal,
                  poisserr=False, header=hdr)
        rate = True
    write_pha(pha, path, overwrite=overwrite, rate=rate, inputs=[src_pha, *info.bgfiles], task="spec",
              calibration=cal.source, calibration_detail=cal.detail)


def simplify(projected_xcm: str | Path, n_background: int, savefile: str | None = None,
             outdir: str | Path | None = None, overwrite: bool = False, reporter=None) -> Path:
    """Freeze the projected background and drop the background spectra (``nuskybgd simplify``).

    Parameters
    ----------
    projected_xcm : path
        ``bgd_<src>.xcm`` from :func:`project_source`.
    n_background : int
        Number of background spectra (``len(bgfiles)``); they are the first ones.
    savefile : str, optional
        Output stem; default: ``bgd_`` → ``bgd_only_`` in the input's name (prepended otherwise).

    Returns
    -------
    Path
        The written ``bgd_only_<src>.xcm``; beside it ``bgd_only_<src>.json``, the native state
        (:func:`simplify_state_name`), written in the same all-or-nothing set.
    """
    import json

    from nuskybgd.events import Silent
    from nuskybgd.io.atomic import check_writable, write_text_atomic
    from nuskybgd.io.staging import atomic_set
    from nuskybgd.spectral import FitProblem, Source, export_xcm, read_xcm
    from nuskybgd.workflow.fit import STATE_VERSION

    rep = reporter if reporter is not None else Silent()
    src_path = Path(projected_xcm)
    out = simplify_name(src_path, savefile, outdir)
    state_path = simplify_state_name(out)
    for p in (out, state_path):
        check_writable(p, overwrite)
    sess = read_xcm(src_path)
    problem = sess.build()
    _relocate(problem, sess, out.parent)
    if not 0 < n_background < len(problem.spectra):
        raise InputError(f"{src_path} holds {len(problem.spectra)} spectra; it needs the "
                         f"{n_background} background spectra followed by at least one source "
                         "spectrum (run spec first).", src_path)
    problem.resolve()
    kept = problem.spectra[n_background:]
    groups = sorted({s.group for s in kept})
    sources = []
    for src in problem.sources:
        new = Source(src.expression, name=src.name, number=src.number,
                     labels={c.name: c.label for c in src.components if c.label})
        new.set_groups(len(groups))
        for g_new, g_old in enumerate(groups, start=1):
            for p_new, p_old in zip(new.groups[g_new - 1], src.groups[g_old - 1], strict=True):
                p_new.link = None
                p_new.value, p_new.delta = p_old.value, p_old.delta
                p_new.soft_min, p_new.soft_max = min(p_old.soft_min, p_old.value), max(p_old.soft_max,
                                                                                      p_old.value)
                p_new.frozen = True
        sources.append(new)
    for s in kept:
        s.group = groups.index(s.group) + 1
    text = export_xcm(FitProblem(kept, sources, statistic=problem.statistic_name))
    state = {"nuskybgd_fit_state": STATE_VERSION, "kind": "simplified",
             "projected": str(src_path.resolve()), "n_background": int(n_background), "xcm": text}
    with atomic_set([out, state_path], overwrite=overwrite) as stage:  # names relative to out's folder
        write_text_atomic(stage[out], text)
        write_text_atomic(stage[state_path], json.dumps(state, indent=1) + "\n")
    rep.output(out, f"wrote {out} (projected background only, frozen; model 1 is yours)")
    rep.output(state_path, f"wrote {state_path} (native state of {out.name})")
    return out



def simplify_projection(config: str | Path, projected_xcm: str | Path, savefile: str | None = None,
                        outdir: str | Path | None = None, overwrite: bool = False, reporter=None) -> Path:
    """``nuskybgd simplify bgdinfo.json bgd_<src>.xcm``: :func:`simplify` with the number of
    background spectra taken from the configuration."""
    from nuskybgd.workflow.config import load_bgdinfo

    info = load_bgdinfo(config, check_files=False)
    return simplify(projected_xcm, info.n_spectra, savefile, outdir, overwrite, reporter)
