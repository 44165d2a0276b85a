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
        from nuskybgd.simulate.core import simulate_observation

        rep = reporter_or_default(reporter)
        calibration = self.calibration
        rep.log(f"simulating {self.exposure:g} s of FPM{'/'.join(self.modules)} "
                f"(seqid {self.seqid}, seed {self.seed}, source {self.source}, "
                f"calibration {calibration})")
        res = simulate_observation(
            self.outdir, seqid=self.seqid, exposure=self.exposure, seed=self.seed,
            source=self.source, calibration=calibration, caldb_tree=self.caldb_tree,
            modules=self.modules, solar=self.solar, convention=self.convention,
            overwrite=self.overwrite, reporter=rep)
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
