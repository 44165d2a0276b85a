"""Pipeline step that makes a synthetic observation (used by ``nuskybgd simulate`` and ``demo``)."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.constants import MODULES
from nuskybgd.pipeline.step import Reporter, Step, StepResult


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

    def __init__(self, outdir: str | Path, seqid: str = "90000000002", exposure: float = 50e3,
                 seed: int = 1, source: str = "point", calibration: str = "nominal",
                 caldb_tree: str | Path | None = None, modules: tuple[str, ...] = MODULES,
                 overwrite: bool = False, **options) -> None:
        self.outdir = Path(outdir)
        self.seqid = str(seqid)
        self.exposure = exposure
        self.seed = seed
        self.source = source
        self.calibration = calibration
        self.caldb_tree = Path(caldb_tree) if caldb_tree is not None else None
        self.modules = tuple(modules)
        self.overwrite = overwrite
        self.options = options

    def inputs(self) -> list[Path]:
        return []

    def outputs(self) -> list[Path]:
        from nuskybgd.simulate.core import output_paths

        out = output_paths(self.outdir, self.seqid, self.modules)
        if self.caldb_tree is not None:
            out.append(self.caldb_tree / "data" / "nustar" / "fpm" / "caldb.indx")
        return out

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.simulate.core import check_options, simulate_observation

        rep = reporter or Reporter()
        check_options(self.seqid, self.exposure, self.source,
                      self.options.get("components", ("apbgd",)), self.modules,
                      self.options.get("convention", "physical"), self.seed, self.calibration)
        rep.log(f"simulating {self.exposure:g} s of FPM{'/'.join(self.modules)} "
                f"(seqid {self.seqid}, seed {self.seed}, source {self.source}, "
                f"calibration {self.calibration})")
        res = simulate_observation(
            self.outdir, seqid=self.seqid, exposure=self.exposure, seed=self.seed,
            source=self.source, calibration=self.calibration, caldb_tree=self.caldb_tree,
            modules=self.modules, overwrite=self.overwrite, reporter=rep, **self.options)
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
