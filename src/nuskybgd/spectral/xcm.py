"""XSPEC command files (``.xcm``): export a fit problem, import what XSPEC's ``save all`` writes.

One place to import them from; the work is done by

* :mod:`nuskybgd.spectral.xcm_export` — :func:`export_xcm` (and :func:`model_lines`,
  :func:`link_to_xspec`);
* :mod:`nuskybgd.spectral.xcm_parse` — :func:`parse_xcm`, :func:`read_xcm`;
* :mod:`nuskybgd.spectral.xcm_session` — :class:`XcmSession` and its ``build()`` into a
  :class:`~nuskybgd.spectral.fit.FitProblem`.
"""

from __future__ import annotations

from nuskybgd.spectral.xcm_export import export_xcm, link_to_xspec, model_lines
from nuskybgd.spectral.xcm_parse import parse_xcm, read_xcm
from nuskybgd.spectral.xcm_session import XcmSession

__all__ = ["XcmSession", "export_xcm", "link_to_xspec", "model_lines", "parse_xcm", "read_xcm"]
