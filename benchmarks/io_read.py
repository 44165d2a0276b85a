"""Benchmark: reading a NuSTAR RMF into a sparse matrix, against a straightforward reader.

    python benchmarks/io_read.py [RMF]

Default RMF: the real CALDB det3 response in ../shared/data/caldb-pieces (4096 × 4096,
variable-length MATRIX); without it, a NuSTAR-sized Gaussian RMF written by the built-in
calibration.  The reference is what one writes first: loop over the MATRIX rows and their
channel groups in Python, filling a dense array.  Prints both times, their ratio and the
largest difference of the matrices (they must be identical).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

from nuskybgd.io.ogip import read_rmf

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "caldb-pieces" / "nuAdet3_20100101v002.rmf.gz"


def plain_read_rmf(path: Path) -> np.ndarray:
    """Dense matrix, row by row and group by group (the straightforward reader)."""
    with fits.open(path) as hdul:
        m = hdul["MATRIX"]
        ebounds = hdul["EBOUNDS"]
        nchan = len(ebounds.data)
        col = m.columns.names.index("F_CHAN") + 1
        first = int(m.header.get(f"TLMIN{col}", 1))
        out = np.zeros((len(m.data), nchan))
        for i, row in enumerate(m.data):
            k = 0
            fch = np.atleast_1d(row["F_CHAN"])
            nch = np.atleast_1d(row["N_CHAN"])
            values = np.atleast_1d(row["MATRIX"])
            for g in range(int(row["N_GRP"])):
                start = int(fch[g]) - first
                n = int(nch[g])
                out[i, start:start + n] = values[k:k + n]
                k += n
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rmf", nargs="?", default=None)
    args = ap.parse_args()
    path = Path(args.rmf) if args.rmf else DEFAULT
    tmp = None
    if not path.exists():
        from nuskybgd.calib.builtin import gaussian_rmf
        from nuskybgd.io.ogip import write_rmf

        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "gaussian.rmf"
        write_rmf(gaussian_rmf("A", 0), path)
        print(f"(real RMF not found; using a built-in Gaussian RMF written to {path})")
    def best_of(fn, repeat: int = 3):
        times, result = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = fn(path)
            times.append(time.perf_counter() - t0)
        return min(times), result

    t_ours, ours = best_of(read_rmf)
    t_plain, dense = best_of(plain_read_rmf)
    diff = float(np.max(np.abs(ours.matrix.toarray() - dense)))
    print(f"RMF {path.name}: {ours.n_energy} energies × {ours.n_channel} channels, "
          f"{ours.matrix.nnz} non-zeros")
    print(f"ours (sparse, vectorised): {t_ours:.2f} s (best of 3)")
    print(f"plain (row/group loop):    {t_plain:.2f} s (best of 3)")
    print(f"ratio: {t_plain / t_ours:.1f}x   max |difference|: {diff:.3g}")
    if tmp is not None:
        tmp.cleanup()
    return 0 if diff == 0.0 else 1


if __name__ == "__main__":
    sys.exit(main())
