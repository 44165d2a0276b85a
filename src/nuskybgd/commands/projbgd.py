"""``nuskybgd projbgd``: project the detector masks and the aperture image onto the sky."""

from __future__ import annotations

SUMMARY = "projected background images bgdap<m>.fits and det{0..3}<m>im.fits"
DESCRIPTION = """Project the instrument map and the aperture image onto the sky frame.

  nuskybgd projbgd refimg=../nu10601407002A01_cl_3to20keV.fits out=bgdapA.fits \\
      mod=A det=1234 chipmap=../newinstrmapA.fits aspect=../aspecthistA.fits

Writes out (bgdap<m>.fits: 10-15 keV aperture counts per 100 ks per sky pixel) and
det{k-1}<m>im.fits for each k in det (exposure fraction on detector k-1), all in the folder
of out.  DET1 is laid on the sky as the events say when --evtfile and --det1-file
(nu<seq><m>_det1.fits) are given: the roll and reference point are fitted to the events'
DET1 and sky positions (--mapping events; the session does this).  Otherwise nuskybgd-py's
effective mapping is used, its images exactly: roll PA_PNT + 1 deg, the (2.7, 0.8) nudge.
Without refimg, --evtfile also gives the sky grid (the event file's WCS)."""

STEP = "nuskybgd.pipeline.steps.projbgd:ProjBgdStep"
