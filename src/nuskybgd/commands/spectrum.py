"""``nuskybgd spectrum``: spectra of ds9 regions with RMFs, a source ARF and grouped copies."""

from __future__ import annotations

SUMMARY = "spectra nu<seq><m>01_<reg>_sr.pha of ds9 regions, with .rmf, source .arf and _g30 copies"
DESCRIPTION = """Extract the spectra of regions of one cleaned event file (read once).

  nuskybgd spectrum nu10601407002A01_cl.evt bgd/bgd0A.reg,bgd/bgd1A.reg --src bgd/srcA.reg
  nuskybgd spectrum nu10601407002A01_cl.evt bgd/bgd0A.reg --usrgti flare_gti.fits --optimal

Writes into --outdir (default bgd/ beside the event file), per region <reg>.reg:
nu<seq><m>01_<reg>_sr.pha (BACKSCAL = region pixels / 1e6), _sr.rmf (the detectors' RMFs mixed
by the region's events), _sr.arf for the --src region only, _sr_g<N>.pha grouped to at least
--group-min counts (0: none) and, with --optimal, _sr_opt.pha.  A --usrgti file adds _<gti> to
the names.  --nuproducts runs HEASoft's nuproducts for the extraction instead."""

STEP = "nuskybgd.pipeline.steps.spectrum:SpectrumStep"
