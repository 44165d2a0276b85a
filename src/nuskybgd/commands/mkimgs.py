"""``nuskybgd mkimgs``: counts images (sky or DET1) of a cleaned event file in an energy band."""

from __future__ import annotations

SUMMARY = "counts images (sky 1000×1000 or DET1 360×360) of an event file in an energy band"
DESCRIPTION = """Make a counts image of a cleaned event file, as xselect/nustar-gen-utils do.

  nuskybgd mkimgs nu10601407002A01_cl.evt --elow 3 --ehigh 20          # sky image
  nuskybgd mkimgs nu10601407002A01_cl.evt --elow 3 --ehigh 20 --det1   # DET1 image
  nuskybgd mkimgs nu10601407002A01_cl.evt elow=3 ehigh=20              # original syntax

Output next to the event file: nu<seq>A01_cl_3to20keV.fits (or ..._det1.fits).  The band
selects the PI channels wholly inside [elow, ehigh) keV (3-20 keV = PI 35-459)."""

STEP = "nuskybgd.pipeline.steps.mkimgs:MkImgsStep"
