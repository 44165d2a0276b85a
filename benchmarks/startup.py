"""Start-up time of the command line, against a bare interpreter measured in the same run.

Prints the median wall time (s) of

* ``python -c pass``                 (the reference: interpreter start-up alone),
* ``nuskybgd --help``,
* a usage error (``nuskybgd mkimgs --elow``: an option without its value),

each over several subprocess runs, their ratio to the reference, and which heavy modules
(astropy, scipy, regions, textual, numpy, …) ``nuskybgd --help`` and the usage error import.
The goal (issue 9) is under 0.3 s for both.

Usage: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("numpy", "astropy", "scipy", "regions", "textual", "rich", "tomlkit", "matplotlib")

PROBE = r"""
import sys
from nuskybgd.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = {HEAVY!r}
print("IMPORTED:" + ",".join(m for m in heavy if m in sys.modules))
"""


def _median_wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _heavy_imports(args: list[str]) -> list[str]:
    r = subprocess.run([sys.executable, "-c", PROBE.replace("{HEAVY!r}", repr(HEAVY)), *args],
                       capture_output=True, text=True)
    line = next((s for s in r.stdout.splitlines() if s.startswith("IMPORTED:")), "IMPORTED:?")
    return [m for m in line.split(":", 1)[1].split(",") if m]


def _slowest_imports(args: list[str], n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` slowest cumulative imports (s) from ``python -X importtime``."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "nuskybgd", *args],
                       capture_output=True, text=True)
    rows = []
    for line in r.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if not name.startswith("  "):  # top-level imports only (not nested)
                rows.append((name.strip(), int(parts[1]) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="subprocess runs per command (median)")
    runs = ap.parse_args().runs
    py = [sys.executable]
    cases = {
        "nuskybgd --help": ["--help"],
        "usage error (mkimgs --elow)": ["mkimgs", "--elow"],
    }
    ref = _median_wall([*py, "-c", "pass"], runs)
    print(f"reference  python -c pass: {ref:.3f} s (median of {runs})")
    for label, args in cases.items():
        t = _median_wall([*py, "-m", "nuskybgd", *args], runs)
        heavy = _heavy_imports(args)
        verdict = "ok" if t < 0.3 else "over the 0.3 s goal"
        print(f"{label:<30} {t:.3f} s  = {t / ref:5.1f} × reference  ({verdict})")
        print(f"{'':<30} heavy modules imported: {', '.join(heavy) or 'none'}")
        slow = ", ".join(f"{name} {s:.3f} s" for name, s in _slowest_imports(args))
        print(f"{'':<30} slowest imports: {slow}")


if __name__ == "__main__":
    main()
