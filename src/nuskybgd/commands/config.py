"""``nuskybgd config``: write bgdinfo.json from the products in event_cl/bgd."""

from __future__ import annotations

SUMMARY = "write the background-fit configuration bgdinfo<m>.json (bgdinfo.json for --mod AB)"
DESCRIPTION = """Collect the projected images, background regions and their spectra into bgdinfo.json.

  cd event_cl/bgd && nuskybgd config --mod A        # writes bgdinfoA.json
  nuskybgd config event_cl/bgd --mod AB             # the joint configuration bgdinfo.json

Expects bgdap<m>.fits and det{0..3}<m>im.fits (projbgd), bgd<d><m>.reg (regions; detectors
without a region are skipped) and each region's spectrum *_bgd<d><m>_sr.pha.  Paths inside the
JSON are relative to its own folder."""

STEP = "nuskybgd.pipeline.steps.config:ConfigStep"
