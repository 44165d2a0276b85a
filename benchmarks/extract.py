"""Benchmark: 8 spectra from a 10⁶-event file, read once, against a plain per-region reference.

    python benchmarks/extract.py [--events 1e6] [--keep DIR]

Makes a simulated FPMA observation with a bright point source (about 10⁶ events), draws eight
ds9 fk5 regions (circles, an annulus, a box, an ellipse and a polygon about the field) and times
:func:`nuskybgd.products.spectra.extract_spectra` on all eight (the event file is read once).
The reference is what one writes first: for each region, read the event file, build the region's
mask, then look every event up in it one by one and add it to its PI channel.  Prints both times,
their ratio, and checks that the spectra are identical.  Target: under 1 s in total.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from nuskybgd.io.events import read_events
from nuskybgd.products.regions import region_mask
from nuskybgd.products.spectra import extract_spectra
from nuskybgd.simulate.core import simulate_observation

REGIONS = [
    'circle({ra},{dec},60")',
    'circle({ra},{dec},30")',
    'annulus({ra},{dec},90",150")',
    'box({ra2},{dec2},120",80",30)',
    'ellipse({ra3},{dec3},70",40",45)',
    'polygon({ra},{dec3},{ra2},{dec3},{ra2},{dec})',
    'circle({ra2},{dec3},100")',
    'circle({ra3},{dec2},100")',
]


def reference(event_file: Path, regions: dict[str, Path]) -> dict[str, np.ndarray]:
    """Per region: read the events, build the mask, then one event at a time."""
    out = {}
    for name, path in regions.items():
        ev = read_events(event_file, columns=["X", "Y", "PI", "TIME"])
        mask = region_mask(path, (1000, 1000), ev.wcs)
        x, y, pi, t = ev["X"].tolist(), ev["Y"].tolist(), ev["PI"].tolist(), ev["TIME"].tolist()
        starts, stops = ev.gti.start.tolist(), ev.gti.stop.tolist()
        counts = np.zeros(4096, dtype=np.int64)
        for xi, yi, pii, ti in zip(x, y, pi, t, strict=True):
            if xi < 1 or yi < 1 or not mask[int(round(yi)) - 1, int(round(xi)) - 1]:
                continue
            if any(s <= ti < e for s, e in zip(starts, stops, strict=True)):
                counts[pii] += 1
        out[name] = counts
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=float, default=1e6, help="approximate number of events")
    ap.add_argument("--keep", type=Path, help="folder for the observation (default: temporary)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nsb_extract_"))
    # in 50 ks: ≈7·10⁴ background events and ≈1·10⁴ source events per 2e-3 of source norm
    norm = 2e-3 * max(args.events - 7e4, 1e4) / 1e4
    sim = simulate_observation(folder / "sim", exposure=50e3, seed=2, modules=("A",),
                               source_params={"norm": norm}, overwrite=True)
    evt = sim.modules["A"].event_file
    src = sim.modules["A"].truth["source"]
    ra, dec = src["ra"], src["dec"]
    pos = {"ra": ra, "dec": dec, "ra2": ra + 0.04, "dec2": dec + 0.03, "ra3": ra - 0.03, "dec3": dec - 0.04}
    regions = {}
    for k, shape in enumerate(REGIONS):
        p = folder / f"reg{k}.reg"
        p.write_text("fk5\n" + shape.format(**pos) + "\n")
        regions[f"reg{k}"] = p
    n = sim.modules["A"].n_events
    t0 = time.perf_counter()
    ours = extract_spectra(evt, regions)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = reference(evt, regions)
    t_ref = time.perf_counter() - t0
    same = all(np.array_equal(ours.spectra[k].counts, ref[k]) for k in regions)
    print(f"{n:,} events, {len(regions)} regions")
    print(f"nuskybgd extract_spectra (events read once): {t_ours:.3f} s  (target < 1 s)")
    print(f"plain per-region reference:                  {t_ref:.3f} s")
    print(f"ratio: {t_ref / t_ours:.1f}x   spectra identical: {same}")
    print("counts per region:", {k: int(v.counts.sum()) for k, v in ours.spectra.items()})


if __name__ == "__main__":
    main()
