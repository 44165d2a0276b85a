"""The walkthrough's background steps through the Python API (config → fit → spec → simplify → image).

    python examples/walkthrough.py BGD_DIR SRC_REG SRC_PHA [MODULE]
    python examples/walkthrough.py --demo [DIR] [EXPOSURE_S]

With ``--demo`` it first makes the demo observation in DIR (default walkthrough-demo; the same
simulation as ``nuskybgd demo``), runs the image, region and spectrum steps through the
session runner, and then the background steps below on FPMA with the source region the demo
draws on the simulated source.

BGD_DIR is an observation's ``event_cl/bgd`` folder holding what the earlier steps made:
``bgdap{m}.fits`` and ``det{d}{m}im.fits`` (projbgd), the background regions ``bgd{d}{m}.reg``
and their spectra ``*_bgd{d}{m}_sr.pha`` (with their RMFs), and a source region and spectrum.
Each step is one library call; the command-line steps wrap the same calls.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nuskybgd.events import Reporter
from nuskybgd.workflow.config import generate_bgdinfo, write_bgdinfo
from nuskybgd.workflow.fit import fit_background
from nuskybgd.workflow.image import write_model_images
from nuskybgd.workflow.project import project_source, simplify
from nuskybgd.workflow.recipe import Recipe
from nuskybgd.workflow.report import report_text


def main(bgd_dir: str, src_reg: str, src_pha: str, module: str = "A") -> None:
    bgd = Path(bgd_dir)
    rep = Reporter()                                   # prints log lines and written files

    # 1. bgdinfoA.json from the earlier steps' outputs (paths relative to bgd/)
    info = generate_bgdinfo(bgd, (module,))
    config = write_bgdinfo(info, info.path, overwrite=True)

    # 2. the fit with the walkthrough's recipe: cstat, solar components off, fCXB frozen,
    #    and (optional) the 24 keV lines untied and thawed in a second stage
    recipe = Recipe(thaw_lines=("24keV",))
    fit = fit_background(config, f"bgdparams{module}", recipe=recipe, n_sim=20, seed=1,
                         overwrite=True, reporter=rep)
    print(report_text(fit.report))

    # 3. spec: the fitted background projected into the source region, and its background PHA
    proj = project_source(config, fit.state_json, src_reg, src_pha, overwrite=True, reporter=rep)
    print(f"background in the source region, 3-79 keV: {proj.total.sum():.1f} counts; "
          + (f"it exceeds the source above {proj.crossover_keV:.1f} keV" if proj.crossover_keV
             else "the source dominates up to 79 keV"))

    # 4. simplify: frozen background only, model 1 left for the source (XSPEC: @bgd_only_<src>.xcm)
    simplify(proj.xcm, info.n_spectra, overwrite=True, reporter=rep)

    # 5. model background images in 3-20 keV
    write_model_images(config, fit.state_json, 3.0, 20.0, overwrite=True, reporter=rep)


def demo(folder: str = "walkthrough-demo", exposure: float = 1e5) -> None:
    """The walkthrough on the demo observation: simulate, the earlier steps, then :func:`main`."""
    from nuskybgd.commands.demo import DEMO_SEQID, write_source_regions
    from nuskybgd.pipeline import Runner, Session
    from nuskybgd.pipeline.steps.simulate import SimulateStep
    from nuskybgd.products.spectra import spectrum_name

    ev = Path(folder) / DEMO_SEQID / "event_cl"
    if not (ev / f"nu{DEMO_SEQID}A01_cl.evt").is_file():
        SimulateStep(folder, seqid=DEMO_SEQID, exposure=exposure, seed=1, source="point",
                     calibration="nominal").run()
    write_source_regions(ev)                           # bgd/src{m}.reg on the simulated source
    with Session.open(ev, observation={"seqid": DEMO_SEQID, "modules": ["A", "B"]}) as session:
        Runner(session).run_all(Reporter(lambda e: None), until="spectra")
    bgd = ev / "bgd"
    main(str(bgd), str(bgd / "srcA.reg"), str(bgd / spectrum_name(DEMO_SEQID, "A", "srcA")), "A")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--demo":
        demo(*sys.argv[2:3], *[float(x) for x in sys.argv[3:4]])
    elif len(sys.argv) >= 4:
        main(*sys.argv[1:5])
    else:
        sys.exit(__doc__)
