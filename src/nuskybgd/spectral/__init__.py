"""nuskybgd.spectral: the spectral engine (XSPEC conventions without XSPEC).

* :func:`model_flux` — one XSPEC model component on energy bin edges (photons cm⁻² s⁻¹ per bin).
* :class:`Response`, :class:`Spectrum` — responses (RMF × ARF by row) and data (grouping,
  quality, notice/ignore), several sources per spectrum.
* :class:`Source` — an XSPEC (named) model with parameters per data group; :class:`FitProblem`
  — spectra + sources + statistic, with the linear-norms fast path and a bounded LM.
* :func:`goodness_of_fit` — parametric bootstrap p-value.
* :func:`export_xcm`, :func:`read_xcm`, :func:`parse_xcm` — XSPEC command files.

See ``docs/spectral.md``.
"""

from nuskybgd.spectral.bootstrap import GoodnessResult, goodness_of_fit
from nuskybgd.spectral.components import COMPONENTS, get_component, model_flux
from nuskybgd.spectral.data import Spectrum
from nuskybgd.spectral.fit import FitProblem, FitResult
from nuskybgd.spectral.model import Component, Source, find_parameter
from nuskybgd.spectral.parameters import LinkExpr, Parameter, parse_link
from nuskybgd.spectral.response import Response, diagonal_rmf
from nuskybgd.spectral.stats import chi_terms, cstat_terms
from nuskybgd.spectral.xcm import XcmSession, export_xcm, parse_xcm, read_xcm

__all__ = [
    "COMPONENTS", "Component", "FitProblem", "FitResult", "GoodnessResult", "LinkExpr",
    "Parameter", "Response", "Source", "Spectrum", "XcmSession", "chi_terms", "cstat_terms",
    "diagonal_rmf", "export_xcm", "find_parameter", "get_component", "goodness_of_fit",
    "model_flux", "parse_link", "parse_xcm", "read_xcm",
]
