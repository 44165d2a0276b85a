"""``simulate``: make a synthetic observation with known truth (``nuskybgd simulate`` and ``demo``)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default

DEFAULT_SEQID = "90000000002"


class SimulateStep(Step):
    """Simulate a NuSTAR observation with known truth (see :func:`simulate_observation`)."""

    name = "simulate"
    title = "Simulate an observation"
    help = (
        "Make a synthetic NuSTAR observation from the nuskybgd background model (aperture "
        "stray light, instrumental lines and continuum, focused CXB) plus a point source or a "
        "cluster: cleaned event files, GTI files and DET1 reference-point files for FPMA and "
        "FPMB under OUTDIR/<seqid>/event_cl/, and truth.json with every injected parameter."
    )
    params = (
        Param("outdir", "path", positional=True, help="top folder; files go to OUTDIR/<seqid>/event_cl/"),
        Param("seqid", "str", DEFAULT_SEQID, help="11-digit observation ID"),
        Param("exposure", "float", 50e3, unit="s", minimum=1.0, maximum=1e7, help="livetime (EXPOSURE)"),
        Param("seed", "int", 1, minimum=0, help="random seed"),
        Param("source", "choice", "point", choices=("point", "cluster", "none"),
              help="astrophysical source at the field centre"),
        Param("calibration", "choice", "nominal", choices=("nominal", "auxil", "caldb"),
              help="calibration to simulate with; auxil and caldb refuse to fall back to the built-in one"),
        Param("caldb_tree", "path", None,
              help="also write a CALDB folder (data/nustar/fpm/caldb.indx …) from the calibration used"),
        Param("modules", "modules", ("A", "B"), help="modules to simulate: A, B or AB"),
        Param("solar", "bool", False, help="include the solar soft component (apec needs AtomDB)"),
        Param("convention", "choice", "physical", choices=("physical", "projbgd"), help="DET1↔sky mapping"),
        OVERWRITE,
    )

    def check(self) -> None:
        from nuskybgd.simulate.core import ALL_COMPONENTS, check_options

        check_options(self.seqid, self.exposure, self.source, ALL_COMPONENTS, self.modules,
                      self.convention, self.seed, self.calibration)

    def outputs(self) -> list[Path]:
        from nuskybgd.simulate.core import output_paths

        out = output_paths(self.outdir, self.seqid, self.modules)
        if self.caldb_tree is not None:
            out.append(self.caldb_tree / "data" / "nustar" / "fpm" / "caldb.indx")
        return out

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.simulate.core import output_paths

        rep = reporter_or_default(reporter)
        calibration = self.calibration
        rep.log(f"simulating {self.exposure:g} s of FPM{'/'.join(self.modules)} "
                f"(seqid {self.seqid}, seed {self.seed}, source {self.source}, "
                f"calibration {calibration})")
        created: list[Path] = []
        try:
            _make_folders([self.outdir] + ([self.caldb_tree] if self.caldb_tree is not None else []), created)
            res = self._simulate_as_a_set(output_paths(self.outdir, self.seqid, self.modules), rep)
        except BaseException:
            for folder in reversed(created):  # leave no empty folder behind either
                _remove_if_empty(folder)
            raise
        if "BUILTIN" in res.calibration.upper():
            rep.warning("simulated with the built-in nominal calibration (approximate); "
                        "the files say so in NSBCALIB")
        outs = list(res.outputs)
        if res.caldb_tree is not None:
            outs.append(res.caldb_tree)
        return StepResult(outputs=outs,
                          values={"n_events": res.n_events, "event_dir": str(res.event_dir),
                                  "truth": str(res.truth_file), "seqid": res.seqid,
                                  "per_module": {m: r.n_events for m, r in res.modules.items()}},
                          calibration=res.calibration)

    def _simulate_as_a_set(self, destinations: list[Path], rep: Reporter):
        """Simulate inside a staging folder and move the finished observation in as one set, so a
        kill at any moment leaves the previous state or the whole observation."""
        import dataclasses
        import os

        from nuskybgd.events import OutputEvent
        from nuskybgd.io.staging import atomic_set
        from nuskybgd.simulate.core import simulate_observation
        from nuskybgd.testhooks import checkpoint

        # files written inside the staging folder are announced at their final place, after the move
        staged = Reporter(lambda e: None if isinstance(e, OutputEvent) else rep.emit(e), cancel=rep.cancel)
        with atomic_set(destinations, overwrite=self.overwrite) as stage:
            work = stage.root / "work"
            res = simulate_observation(
                work, seqid=self.seqid, exposure=self.exposure, seed=self.seed, source=self.source,
                calibration=self.calibration, caldb_tree=self.caldb_tree, modules=self.modules,
                solar=self.solar, convention=self.convention, overwrite=self.overwrite, reporter=staged)
            checkpoint("simulate.staged")
            for dest in destinations:
                os.replace(work / dest.relative_to(self.outdir), stage[dest])
        for dest in destinations:
            rep.output(dest)
        event_dir = self.outdir / self.seqid / "event_cl"
        modules = {m: dataclasses.replace(r, event_file=event_dir / r.event_file.name,
                                          gti_file=event_dir / r.gti_file.name,
                                          det1_file=event_dir / r.det1_file.name)
                   for m, r in res.modules.items()}
        return dataclasses.replace(res, outdir=self.outdir, event_dir=event_dir, modules=modules,
                                   truth_file=self.outdir / self.seqid / "truth.json")


def _make_folders(folders: list[Path], created: list[Path]) -> None:
    """Create ``folders`` (and parents), appending to ``created`` the ones made; OutputError naming
    the folder when one cannot be made."""
    from nuskybgd.errors import OutputError
    from nuskybgd.io.atomic import output_error

    for folder in folders:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        probe = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if probe is not None and not probe.is_dir():
            raise OutputError(f"cannot write into {folder}: {probe} is a file, not a folder; choose another "
                              "folder or remove that file.", folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, folder) from None
        created.extend(reversed(missing))


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
