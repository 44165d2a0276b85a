"""nuskybgd: NuSTAR background modelling without HEASoft or XSPEC.

The library is layered (see ``docs/`` and the architecture notes): ``io`` and ``calib`` at the
bottom, ``geometry``, ``spectral`` and ``products`` above them, ``workflow`` and ``pipeline`` on
top, ``simulate`` beside them.  The library never imports Textual.
"""

__version__ = "0.1.0"

from nuskybgd.errors import NuskybgdError  # noqa: E402

__all__ = ["NuskybgdError", "__version__"]
