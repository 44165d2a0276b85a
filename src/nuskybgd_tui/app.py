"""Entry point of ``nuskybgd-tui``.

The step-by-step wizard is being built on top of the library's pipeline steps.  Until it lands,
``nuskybgd-tui`` runs the demo pipeline in the terminal so that the quick start works end to end.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the wizard (for now: the terminal demo pipeline); returns the exit status."""
    import subprocess

    argv = list(sys.argv[1:] if argv is None else argv)
    print("nuskybgd-tui: the interactive wizard is not available in this version; "
          "running the demo pipeline in the terminal instead.", file=sys.stderr)
    return subprocess.call([sys.executable, "-m", "nuskybgd", "demo", *argv])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
