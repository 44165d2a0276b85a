"""Compare two folders of FITS products as ARCHITECTURE §10 defines "identical products": the same
data arrays and header values, except DATE, CHECKSUM and DATASUM.

    python scripts/compare_products.py DIR_A DIR_B

Prints one line per difference and exits 1 when any file differs or is missing on one side.
"""

from __future__ import annotations

import sys
from pathlib import Path

IGNORED = {"DATE", "CHECKSUM", "DATASUM"}
FITS_SUFFIXES = (".fits", ".evt", ".pha", ".rmf", ".arf", ".fits.gz", ".evt.gz")


def fits_files(root: Path) -> dict[str, Path]:
    """FITS files under ``root`` by relative path."""
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and p.name.endswith(FITS_SUFFIXES)}


def differences(a: Path, b: Path) -> list[str]:
    """How two FITS files differ (empty when identical in the §10 sense)."""
    import numpy as np
    from astropy.io import fits

    out: list[str] = []
    with fits.open(a) as ha, fits.open(b) as hb:
        if len(ha) != len(hb):
            return [f"{len(ha)} vs {len(hb)} HDUs"]
        for i, (x, y) in enumerate(zip(ha, hb, strict=True)):
            kx = [(k, v) for k, v in x.header.items() if k not in IGNORED]
            ky = [(k, v) for k, v in y.header.items() if k not in IGNORED]
            if kx != ky:
                dx, dy = dict(kx), dict(ky)
                keys = sorted({k for k in dx.keys() | dy.keys() if dx.get(k) != dy.get(k)} or {"(order)"})
                out.append(f"HDU {i} header differs: {', '.join(keys[:8])}")
            if x.data is None or y.data is None:
                if (x.data is None) != (y.data is None):
                    out.append(f"HDU {i}: data on one side only")
                continue
            if isinstance(x, fits.BinTableHDU):
                same = x.data.tobytes() == y.data.tobytes()
            else:
                same = np.array_equal(np.asarray(x.data), np.asarray(y.data), equal_nan=True)
            if not same:
                out.append(f"HDU {i}: data differ")
    return out


def main(argv: list[str]) -> int:
    root_a, root_b = Path(argv[0]), Path(argv[1])
    fa, fb = fits_files(root_a), fits_files(root_b)
    status = 0
    for rel in sorted(fa.keys() | fb.keys()):
        if rel not in fa or rel not in fb:
            print(f"{rel}: only in {root_a if rel in fa else root_b}")
            status = 1
            continue
        for line in differences(fa[rel], fb[rel]):
            print(f"{rel}: {line}")
            status = 1
    print(f"{len(fa.keys() & fb.keys())} files compared")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
