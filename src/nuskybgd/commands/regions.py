"""``nuskybgd regions``: automatic per-detector background regions ``bgd{d}{m}.reg``."""

from __future__ import annotations

SUMMARY = "per-detector background regions bgd{0..3}<m>.reg avoiding the source and stray light"
DESCRIPTION = """Cut one background region per detector from projbgd's detector footprints.

  nuskybgd regions nu10601407002A01_cl.evt --src bgd/srcA.reg
  nuskybgd regions nu10601407002A01_cl.evt --src bgd/srcA.reg --det1-exclude StrayCatsI_704.reg

Reads det0..3<m>im.fits from --outdir (default bgd/ beside the event file) and writes
bgd<d><m>.reg there (ds9, fk5) for every detector that keeps --min-pixels usable sky pixels
after a --border along edges and gaps, the source exclusion (its region, and a circle out to
where the PSF wings fall below --fraction of the background per pixel, or --radius arcsec) and
your exclusions (--exclude: sky regions; --det1-exclude: DET1 image regions such as StrayCats',
swept over the sky by the aspect track).  The source region is yours: draw it on the source in
ds9 (3-20 keV image) and save it, e.g. as bgd/srcA.reg."""

STEP = "nuskybgd.pipeline.steps.regions:RegionsStep"
