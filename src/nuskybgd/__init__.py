"""nuskybgd: NuSTAR background modelling without HEASoft or XSPEC.

The library is layered (see ``docs/`` and the architecture notes): ``io`` and ``calib`` at the
bottom, ``geometry``, ``spectral`` and ``products`` above them, ``workflow`` and ``pipeline`` on
top, ``simulate`` beside them.  The library never imports Textual.
"""

__version__ = "0.1.0"

from nuskybgd.errors import NuskybgdError  # noqa: E402

__all__ = ["NuskybgdError", "__version__"]

import logging as _logging  # noqa: E402

# Library messages reach users through pipeline-step reporters; applications that want the
# logging records too configure a handler for "nuskybgd" themselves.
_logging.getLogger("nuskybgd").addHandler(_logging.NullHandler())
