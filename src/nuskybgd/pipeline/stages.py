"""The walkthrough's stages in the order every front end shows them (ARCHITECTURE §10)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Stage", "STAGES", "stage"]


@dataclass(frozen=True)
class Stage:
    """One stage of the walkthrough: an id, the label a user sees, and why it is done."""

    id: str
    title: str
    help: str


STAGES: tuple[Stage, ...] = (
    Stage("observation", "Observation",
          "Find the cleaned event files of both modules, the GTI and DET1 reference-point files, and check "
          "the exposure bookkeeping. Everything later is made from these files."),
    Stage("images", "Images",
          "Counts images in 3–20 and 20–40 keV on the sky. You look at them to place the source region and "
          "to see stray light; projbgd takes its sky grid and roll angle from the 3–20 keV image."),
    Stage("instrmap", "Instrument maps",
          "Which detector owns each DET1 pixel, minus gaps and bad pixels. NuSTAR's four detectors have "
          "different backgrounds, so every region is later split by detector."),
    Stage("aspecthist", "Aspect histograms",
          "Where the detector reference point spent its time on the sky: the mast wobbles, so each "
          "detector's footprint is smeared on the sky and the background model must be smeared the same way."),
    Stage("projbgd", "Projected background",
          "The aperture stray-light pattern (bgdap) and each detector's footprint (det*im) on the sky. The "
          "aperture background is not flat: a nearby blank patch is a biased background, which is why the "
          "nuskybgd method models it instead of subtracting it."),
    Stage("regions", "Regions",
          "Background regions per detector, avoiding the source's PSF wings and stray light. One region per "
          "detector lets the fit tell the detectors' internal backgrounds apart."),
    Stage("spectra", "Spectra",
          "Spectra of the background regions (and the source) with their responses. These are the data the "
          "background model is fitted to."),
    Stage("config", "Configuration",
          "bgdinfo.json ties the spectra to their regions and projected images, so each spectrum's model "
          "knows how much aperture, focused-CXB and detector background its region contains."),
    Stage("fit", "Fit",
          "Fit the background model to the background spectra with the walkthrough's recipe: cstat, solar "
          "components off (they vary and are rarely needed above 3 keV), the focused CXB frozen (it is "
          "degenerate with the aperture term in small regions), the internal continuum free."),
    Stage("spec", "Project into source",
          "Scale every fitted background component into the source region: the background your source "
          "spectrum contains, as a model and as a background spectrum."),
    Stage("simplify", "Simplify",
          "Freeze the projected background and drop the background spectra: a small .xcm with the source "
          "spectrum, its fixed background, and model 1 left for your source model."),
)


def stage(stage_id: str) -> Stage:
    """The stage ``stage_id``."""
    for s in STAGES:
        if s.id == stage_id:
            return s
    raise KeyError(stage_id)
