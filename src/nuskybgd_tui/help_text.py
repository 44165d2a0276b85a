"""Help texts the wizard adds to each step's own help: why the walkthrough does it this way.

The pipeline's stage help says what a step does; these paragraphs say why, in the spirit of the
walkthrough, for a first-time user.
"""

from __future__ import annotations

WHY = {
    "observation": "Start here: the wizard reads the observation's event_cl folder (events, "
                   "GTIs, DET1 files) and keeps every choice in nuskybgd-session.toml beside "
                   "them, so you can stop and come back at the same step.",
    "images": "Counts images in 3–20 keV and 20–40 keV are what you draw regions on. Look at "
              "the 20–40 keV image too: transmitted stray light from a bright binary nearby "
              "shows up there.",
    "instrmap": "The instrument map says where on the focal plane each detector pixel is live "
                "(bad pixels and gaps removed); the background model needs it to know how much "
                "detector area each region covers.",
    "aspecthist": "The aspect histogram records how the optical axis wandered during the "
                  "observation; it smears the detector footprints onto the sky.",
    "projbgd": "Projected background images put the aperture (stray CXB through the open "
               "top) and the per-detector footprints on the sky image. Background regions are "
               "cut from these footprints next.",
    "regions": "Make background regions per detector: a region that spans two detectors mixes "
               "their responses and their internal background, which is hard to diagnose "
               "later. Avoid stray light and keep the source (and its wings) excluded.",
    "spectra": "One spectrum per background region (bgd<det><module>), plus the source "
               "spectrum. These are what the background model is fitted to.",
    "config": "bgdinfo.json ties the spectra to their regions and to the projected "
                     "images. Keep intbgd_fix_line_ratios on (the internal lines are tied "
                     "together; short observations cannot constrain them one by one).",
    "fit": "The recipe: C-statistic; the solar components (apec and the 3.5, 4.5, 10.2 keV "
           "lines) zeroed and frozen — they describe flares better removed with GTIs; the "
           "focused CXB frozen — it is hard to constrain, keep it fixed unless you have a "
           "reason. Then thaw the 24 keV and 88 keV lines if the residuals ask for it (the "
           "24 keV line follows SAA passages, the 88 keV line varies with time).",
    "spec": "Project the fitted background model into the source region: the background "
            "spectrum your source fit will use, and the energy above which the background "
            "dominates.",
    "simplify": "Keep only the fixed background model projected into the source region, so "
                "a source model can be added on top (model 1 stays reserved for it).",
}

KEYS = ("Keys: 1–9 and 0 open steps 1–10 (or up/down in the steps list; esc returns the keys "
        "to that list from a form, editor or product view), tab moves between panes, r runs "
        "the step, R runs it for every module, c cancels, m switches module, e edits the "
        "parameters (ctrl+o on a file parameter opens a file picker), o shows the products, y copies the command line, ctrl+p opens the "
        "command palette, q quits (a running step is cancelled first).")


#: the region editor's keys (regions stage, o shows the editor)
REGION_KEYS = (
    "Region editor (o): n / N select the next / previous shape: the source circle, its "
    "exclusion (the PSF-based radius until you resize it), then your shapes. shift+arrows "
    "move it one sky pixel (2.46″), ctrl+arrows ten; [ ] shrink / grow it (a box's width), "
    "{ } a box's height. a adds an exclusion circle and b an exclusion box at the centre of "
    "the view; i turns the selected shape from exclusion (x) into a hand-drawn background "
    "area (+: the regions are cut only inside such areas) and back; x or delete deletes it "
    "(on the source exclusion: back to the PSF-based radius). The selected shape is drawn "
    "with #. W saves srcA.reg, excludeA.reg and drawnA.reg in bgd/ as ds9 fk5 files and "
    "sets the step's --exclude, --within and --radius: the step turns stale, r cuts the "
    "per-detector regions again. If one of those files was saved elsewhere meanwhile (ds9), "
    "W says so and writes nothing: ctrl+r loads the files, W again replaces them. "
    "I imports a ds9 file (fk5, or image coordinates of the "
    "3–20 keV image), E exports everything to one ds9 file; +/- zoom, arrows pan.")


def help_for(stage_id: str, stage_help: str, step_help: str = "") -> str:
    """The help screen's text for a stage: its own help, why, the editor's keys, and the keys."""
    parts = [stage_help.strip(), step_help.strip(), WHY.get(stage_id, ""),
             REGION_KEYS if stage_id == "regions" else "", KEYS]
    return "\n\n".join(p for p in parts if p)
