"""Fit a background-like spectrum with the spectral engine, then write an XSPEC .xcm file.

    python examples/fit_with_the_spectral_engine.py [OUTDIR]

A spectrum is drawn (Poisson) from a continuum + line model folded through the built-in
nominal NuSTAR response; the engine fits it with cstat (shapes frozen, norms free: the
linear fast path), prints the fit report and the 90 % confidence interval of the line norm,
writes the spectrum, response and an .xcm that XSPEC loads with ``@fit.xcm``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from nuskybgd.calib import resolve
from nuskybgd.io.ogip import write_pha, write_rmf
from nuskybgd.io.ogip_types import Pha
from nuskybgd.spectral import FitProblem, Response, Source, Spectrum, export_xcm


def main(outdir: str = "example-fit") -> None:
    out = Path(outdir)
    out.mkdir(exist_ok=True)
    cal = resolve("A", prefer="builtin")
    rmf = cal.rmf(0)
    response = Response(rmf)

    model = Source("powerlaw + lorentz", name="bgd", number=1)
    true = {"bgd:1": 1.3, "bgd:2": 2e-3, "bgd:3": 19.65, "bgd:4": 0.5, "bgd:5": 4e-4}

    # draw the "observed" spectrum (Poisson, 50 ks) from the true model
    exposure = 50e3
    template = Pha(channels=rmf.channels, counts=np.zeros(rmf.n_channel), exposure=exposure)
    truth_problem = FitProblem([Spectrum(template, {1: response})], [model], statistic="cstat")
    for address, value in true.items():
        truth_problem.set(address, value)
    counts = truth_problem.simulate(np.random.default_rng(1))[0]
    pha = Pha(channels=rmf.channels, counts=counts, exposure=exposure,
              respfile="example.rmf", header={"TELESCOP": "NuSTAR", "INSTRUME": "FPMA"})
    write_pha(pha, out / "example.pha", overwrite=True)
    write_rmf(rmf, out / "example.rmf", overwrite=True, calibration="BUILTIN")

    spectrum = Spectrum(out / "example.pha", {1: Response(out / "example.rmf")})
    spectrum.notice_band(3.0, 79.0)
    problem = FitProblem([spectrum], [model], statistic="cstat")
    for address in ("bgd:1", "bgd:3", "bgd:4"):
        problem.freeze(address)            # shapes frozen: norms only, the fast path
    problem.set("bgd:2", 1e-3)             # start away from the truth
    problem.set("bgd:5", 1e-4)
    result = problem.fit()
    print(result.report())
    (lo, hi), = problem.conf("bgd:5").values()
    print(f"line norm: {problem.par('bgd:5').value:.3e} (90 % interval {lo:.3e} – {hi:.3e}); "
          f"true {true['bgd:5']:.3e}")
    export_xcm(problem, out / "fit.xcm", overwrite=True)
    print(f"wrote {out / 'fit.xcm'} (load in XSPEC with @fit.xcm from {out})")


if __name__ == "__main__":
    main(*sys.argv[1:2])
