"""The walkthrough's steps, one module each.  Importing this package imports no heavy library
(each step imports astropy, scipy or regions inside ``run``)."""

from nuskybgd.pipeline.steps.aspecthist import AspectHistStep
from nuskybgd.pipeline.steps.info import ObservationInfoStep
from nuskybgd.pipeline.steps.mkimgs import MkImgsStep
from nuskybgd.pipeline.steps.mkinstrmap import MkInstrMapStep
from nuskybgd.pipeline.steps.projbgd import ProjBgdStep
from nuskybgd.pipeline.steps.regions import RegionsStep
from nuskybgd.pipeline.steps.simulate import SimulateStep
from nuskybgd.pipeline.steps.spectrum import SpectrumStep

__all__ = ["AspectHistStep", "MkImgsStep", "MkInstrMapStep", "ObservationInfoStep", "ProjBgdStep",
           "RegionsStep", "SimulateStep", "SpectrumStep"]
