"""A corpus of bad input a user can give, each run through the real entry point in a subprocess.

Every case must end with exit status 2, no traceback, exactly one error line that names the
offending file or option, and every file that existed in the work folder (and on the test
mounts) byte-for-byte unchanged, with nothing added (nothing half-written).

The table :data:`CASES` is the corpus: add a row per new mistake or new command.  A row is
``Case(id, argv, names)``: ``argv`` is a list of tokens formatted with the placeholders below,
``names`` the strings of which at least one must appear in the error line.  ``xfail`` marks a
case whose fix belongs in code being rewritten (argument parsing, steps), with what it needs.

Placeholders (all files live in the per-case work folder, the current directory):
``{evt} {evtB} {gti} {det1} {img} {chip} {chipB} {asp}`` a real short simulated observation and
its products; bad files ``{garbage} {empty} {trunc_evt} {trunc_gz} {adir} {afile}
{trunc_pha} {det1_empty} {det1_nan} {gti_empty} {ref_pa_garbage} {ref_no_pa} {ref_table}
{asp_xoff_garbage} {asp_nan}``; ``{proc}`` a folder even root cannot write; ``{ro}`` a read-only
and ``{full}`` a full tmpfs mount (cases using them skip when mounting is not possible).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

EVT, EVTB = "nu90000000002A01_cl.evt", "nu90000000002B01_cl.evt"
GTI, DET1 = "nu90000000002A01_gti.fits", "nu90000000002A_det1.fits"
IMG = "nu90000000002A01_cl_3to20keV.fits"

NAMES = {
    "evt": EVT, "evtB": EVTB, "gti": GTI, "det1": DET1, "img": IMG,
    "chip": "newinstrmapA.fits", "chipB": "newinstrmapB.fits", "asp": "aspecthistA.fits",
    "garbage": "garbage.fits", "empty": "empty.fits", "trunc_evt": "trunc_cl.evt",
    "trunc_gz": "trunc_cl.evt.gz", "adir": "adir.fits", "afile": "afile",
    "trunc_pha": "trunc.pha", "det1_empty": "det1_empty.fits", "det1_nan": "det1_nan.fits",
    "gti_empty": "gti_empty.fits", "ref_pa_garbage": "ref_pa_garbage.fits",
    "ref_no_pa": "ref_no_pa.fits", "ref_table": "ref_table.fits",
    "asp_xoff_garbage": "asp_xoff_garbage.fits", "asp_nan": "asp_nan.fits",
    "proc": "/proc/1",
    # the workflow steps: a small bgd folder (tests/workflow_obs.py), its configuration and fit
    **{k: f"wf/{v}" for k, v in {
        "cfg": "bgdinfoA.json", "fitted": "fitA_fit.json", "fitxcm": "fitA_fit.xcm", "fitstart": "fitA.xcm",
        "srcreg": "srcA.reg", "srcpha": "srcA.pha", "bgd0reg": "bgd0A.reg", "badjson": "bad.json",
        "nokeys": "nokeys.json", "unequal": "unequal.json", "wrongins": "wrongins.json",
        "wrongpha": "wrongins.pha", "wfoffreg": "offA.reg", "junkreg": "junk.reg"}.items()},
    "src": "bgd/srcA.reg", "badreg": "bad.reg", "offreg": "off.reg", "gapreg": "gap.reg",
    "nogrid": "nogrid.reg", "gti_late": "gti_late.fits",
    "dets": ",".join(f"bgd/det{d}Aim.fits" for d in range(4)),
}



@dataclass(frozen=True)
class Case:
    """One bad invocation: ``argv`` tokens (with placeholders) and the names it must mention."""

    id: str
    argv: tuple[str, ...]
    names: tuple[str, ...]
    xfail: str | None = None


def C(id: str, argv: str, *names: str, xfail: str | None = None) -> Case:  # noqa: N802
    """Row helper: ``argv`` is split on spaces (placeholders never contain spaces)."""
    return Case(id, tuple(argv.split()), tuple(names), xfail)


PROJ = "projbgd --refimg {img} --out bgdapA.fits --mod A --chipmap {chip} --aspect {asp}"

CASES: list[Case] = [
    # ---- info ---------------------------------------------------------------------------
    C("info-missing", "info nothere_cl.evt", "nothere_cl.evt"),
    C("info-garbage", "info {garbage}", "garbage.fits"),
    C("info-empty", "info {empty}", "empty.fits"),
    C("info-truncated", "info {trunc_evt}", "trunc_cl.evt"),
    C("info-truncated-gz", "info {trunc_gz}", "trunc_cl.evt.gz"),
    C("info-gti-as-events", "info {gti}", GTI),
    C("info-det1-as-events", "info {det1}", DET1),
    C("info-image-as-events", "info {img}", IMG),
    C("info-empty-folder", "info {adir}", "adir.fits"),
    C("info-unknown-option", "info {evt} --bogus", "--bogus"),
    C("info-indir-missing", "info --indir nothere", "nothere"),
    C("info-keyvalue-garbage", "info indir={garbage}", "garbage.fits"),
    C("info-bad-keyvalue", "info {evt} =3", "=3"),
    # ---- validate -----------------------------------------------------------------------
    C("validate-missing", "validate nothere.pha", "nothere.pha"),
    C("validate-garbage", "validate {garbage}", "garbage.fits"),
    C("validate-empty", "validate {empty}", "empty.fits"),
    C("validate-truncated-pha", "validate {trunc_pha}", "trunc.pha"),
    C("validate-truncated-pha-says-truncated", "validate {trunc_pha}", "truncated"),
    C("validate-folder", "validate {adir}", "adir.fits"),
    C("validate-event-file", "validate {evt}", EVT),
    C("validate-truncated-gz", "validate {trunc_gz}", "trunc_cl.evt.gz"),
    C("validate-nothing", "validate", "files", "paths"),
    C("validate-unknown-option", "validate {evt} --fix", "--fix"),
    # ---- mkimgs -------------------------------------------------------------------------
    C("mkimgs-missing", "mkimgs nothere_cl.evt --outdir .", "nothere_cl.evt"),
    C("mkimgs-garbage", "mkimgs {garbage}", "garbage.fits"),
    C("mkimgs-empty", "mkimgs {empty}", "empty.fits"),
    C("mkimgs-truncated", "mkimgs {trunc_evt}", "trunc_cl.evt"),
    C("mkimgs-truncated-gz", "mkimgs {trunc_gz}", "trunc_cl.evt.gz"),
    C("mkimgs-folder", "mkimgs {adir}", "adir.fits"),
    C("mkimgs-gti-as-events", "mkimgs {gti}", GTI),
    C("mkimgs-image-as-events", "mkimgs {img}", IMG),
    C("mkimgs-ehigh-inf", "mkimgs {evt} --ehigh inf --outdir out", "--ehigh", "ehigh"),
    C("mkimgs-elow-inf", "mkimgs {evt} --elow inf --outdir out", "--elow", "elow"),
    C("mkimgs-elow-nan", "mkimgs {evt} --elow nan --outdir out", "--elow", "elow"),
    C("mkimgs-ehigh-nan", "mkimgs {evt} --ehigh nan --outdir out", "--ehigh", "ehigh"),
    C("mkimgs-elow-huge", "mkimgs {evt} --elow 1e308 --outdir out", "--elow", "elow"),
    C("mkimgs-ehigh-huge", "mkimgs {evt} --ehigh 1e308 --outdir out", "--ehigh", "ehigh"),
    C("mkimgs-elow-negative", "mkimgs {evt} --elow -5 --outdir out", "--elow", "elow"),
    C("mkimgs-band-reversed", "mkimgs {evt} --elow 20 --ehigh 3 --outdir out", "--elow", "elow", "20"),
    C("mkimgs-band-empty", "mkimgs {evt} --elow 3 --ehigh 3 --outdir out", "--elow", "elow", "3"),
    C("mkimgs-elow-text", "mkimgs {evt} --elow abc", "--elow", "abc"),
    C("mkimgs-elow-keyvalue-inf", "mkimgs {evt} elow=3 ehigh=inf outdir=out", "ehigh"),
    C("mkimgs-bin-huge", "mkimgs {evt} --bin 99999999999999999999 --outdir out", "--bin", "bin"),
    C("mkimgs-bin-zero", "mkimgs {evt} --bin 0 --outdir out", "--bin", "bin"),
    C("mkimgs-bin-negative", "mkimgs {evt} --bin -2 --outdir out", "--bin", "bin"),
    C("mkimgs-bin-fraction", "mkimgs {evt} --bin 2.5", "--bin"),
    C("mkimgs-outdir-is-file", "mkimgs {evt} --outdir {afile}", "afile"),
    C("mkimgs-outdir-under-file", "mkimgs {evt} --outdir {afile}/sub", "afile"),
    C("mkimgs-outdir-proc", "mkimgs {evt} --outdir {proc}", "/proc/1"),
    C("mkimgs-outdir-missing", "mkimgs {evt} --outdir nowhere/deeper", "nowhere"),
    C("mkimgs-outdir-readonly", "mkimgs {evt} --outdir {ro}", "read-only"),
    C("mkimgs-outdir-full", "mkimgs {evt} --outdir {full}", "no space"),
    C("mkimgs-outname-is-folder", "mkimgs {evt} {adir}", "adir.fits"),
    C("mkimgs-outname-is-folder-overwrite", "mkimgs {evt} {adir} --overwrite", "adir.fits"),
    C("mkimgs-output-exists", "mkimgs {evt} --outdir .", IMG),
    C("mkimgs-clobber-maybe", "mkimgs {evt} clobber=maybe", "clobber=maybe"),
    C("mkimgs-unknown-key", "mkimgs {evt} colour=red", "--colour", "colour"),
    C("mkimgs-bare-equals", "mkimgs {evt} =3 --outdir out", "=3"),
    C("mkimgs-no-event-file", "mkimgs", "evtfile", "event_file"),
    # ---- mkinstrmap ---------------------------------------------------------------------
    C("mkinstrmap-missing", "mkinstrmap nothere_cl.evt --prefix x_", "nothere_cl.evt"),
    C("mkinstrmap-garbage", "mkinstrmap {garbage} --prefix x_", "garbage.fits"),
    C("mkinstrmap-empty", "mkinstrmap {empty} --prefix x_", "empty.fits"),
    C("mkinstrmap-truncated", "mkinstrmap {trunc_evt} --prefix x_", "trunc_cl.evt"),
    C("mkinstrmap-folder", "mkinstrmap {adir} --prefix x_", "adir.fits"),
    C("mkinstrmap-det1-as-events", "mkinstrmap {det1} --prefix x_", DET1),
    C("mkinstrmap-output-exists", "mkinstrmap {evt}", "newinstrmapA.fits"),
    C("mkinstrmap-usrbpix-missing", "mkinstrmap {evt} --prefix x_ --usrbpix nothere.fits", "nothere.fits"),
    C("mkinstrmap-usrbpix-garbage", "mkinstrmap {evt} --prefix x_ --usrbpix {garbage}", "garbage.fits"),
    C("mkinstrmap-usrbpix-empty", "mkinstrmap {evt} --prefix x_ --usrbpix {empty}", "empty.fits"),
    C("mkinstrmap-usrbpix-folder", "mkinstrmap {evt} --prefix x_ --usrbpix {adir}", "adir.fits"),
    C("mkinstrmap-usrbpix-no-badpix", "mkinstrmap {evt} --prefix x_ --usrbpix {gti}", GTI),
    C("mkinstrmap-usrbpix-other-module", "mkinstrmap {evt} --prefix x_ --usrbpix {evtB}", EVTB),
    C("mkinstrmap-prefix-into-file", "mkinstrmap {evt} --prefix {afile}/x_", "afile"),
    C("mkinstrmap-prefix-into-missing", "mkinstrmap {evt} --prefix nowhere/x_", "nowhere"),
    C("mkinstrmap-prefix-proc", "mkinstrmap {evt} --prefix {proc}/x_", "/proc/1"),
    C("mkinstrmap-dryrun-maybe", "mkinstrmap {evt} --prefix x_ dryrun=maybe", "dryrun"),
    C("mkinstrmap-clobber-maybe", "mkinstrmap {evt} clobber=maybe", "clobber=maybe"),
    # ---- aspecthist ---------------------------------------------------------------------
    C("aspecthist-missing", "aspecthist nothere.fits --gtifile {gti} --out o.fits", "nothere.fits"),
    C("aspecthist-garbage", "aspecthist {garbage} --gtifile {gti} --out o.fits", "garbage.fits"),
    C("aspecthist-empty-file", "aspecthist {empty} --gtifile {gti} --out o.fits", "empty.fits"),
    C("aspecthist-truncated", "aspecthist {trunc_evt} --gtifile {gti} --out o.fits", "trunc_cl.evt"),
    C("aspecthist-folder", "aspecthist {adir} --gtifile {gti} --out o.fits", "adir.fits"),
    C("aspecthist-events-as-det1", "aspecthist {evt} --gtifile {gti} --out o.fits", EVT),
    C("aspecthist-det1-no-rows", "aspecthist {det1_empty} --gtifile {gti} --out o.fits", "det1_empty.fits"),
    C("aspecthist-det1-all-nan", "aspecthist {det1_nan} --gtifile {gti} --out o.fits", "det1_nan.fits"),
    C("aspecthist-gti-missing", "aspecthist {det1} --gtifile nothere_gti.fits --out o.fits", "nothere_gti.fits"),
    C("aspecthist-gti-garbage", "aspecthist {det1} --gtifile {garbage} --out o.fits", "garbage.fits"),
    C("aspecthist-gti-no-gti", "aspecthist {det1} --gtifile {det1} --out o.fits", DET1),
    C("aspecthist-gti-no-rows", "aspecthist {det1} --gtifile {gti_empty} --out o.fits", "gti_empty.fits"),
    C("aspecthist-output-exists", "aspecthist {det1} --gtifile {gti} --out {asp}", "aspecthistA.fits"),
    C("aspecthist-output-folder", "aspecthist {det1} --gtifile {gti} --out {adir} --overwrite", "adir.fits"),
    C("aspecthist-output-under-file", "aspecthist {det1} --gtifile {gti} --out {afile}/o.fits", "afile"),
    C("aspecthist-output-proc", "aspecthist {det1} --gtifile {gti} --out {proc}/o.fits", "/proc/1"),
    C("aspecthist-output-readonly", "aspecthist {det1} --gtifile {gti} --out {ro}/o.fits", "read-only"),
    C("aspecthist-no-gtifile", "aspecthist {det1} --out o.fits", "gtifile"),
    # ---- projbgd ------------------------------------------------------------------------
    C("projbgd-refimg-missing", PROJ.replace("{img}", "nothere.fits"), "nothere.fits"),
    C("projbgd-refimg-garbage", PROJ.replace("{img}", "{garbage}"), "garbage.fits"),
    C("projbgd-refimg-empty", PROJ.replace("{img}", "{empty}"), "empty.fits"),
    C("projbgd-refimg-folder", PROJ.replace("{img}", "{adir}"), "adir.fits"),
    C("projbgd-refimg-table", PROJ.replace("{img}", "{ref_table}"), "ref_table.fits"),
    C("projbgd-refimg-no-pa", PROJ.replace("{img}", "{ref_no_pa}"), "ref_no_pa.fits"),
    C("projbgd-refimg-pa-garbage", PROJ.replace("{img}", "{ref_pa_garbage}"), "ref_pa_garbage.fits"),
    C("projbgd-refimg-events", PROJ.replace("{img}", "{evt}"), EVT),
    C("projbgd-chipmap-missing", PROJ.replace("{chip}", "nothere.fits"), "nothere.fits"),
    C("projbgd-chipmap-garbage", PROJ.replace("{chip}", "{garbage}"), "garbage.fits"),
    C("projbgd-chipmap-other-module", PROJ.replace("{chip}", "{chipB}"), "newinstrmapB.fits"),
    C("projbgd-chipmap-is-aspect", PROJ.replace("{chip}", "{asp}"), "aspecthistA.fits"),
    C("projbgd-aspect-missing", PROJ.replace("{asp}", "nothere.fits"), "nothere.fits"),
    C("projbgd-aspect-garbage", PROJ.replace("{asp}", "{garbage}"), "garbage.fits"),
    C("projbgd-aspect-xoff-garbage", PROJ.replace("{asp}", "{asp_xoff_garbage}"), "asp_xoff_garbage.fits"),
    C("projbgd-aspect-nan", PROJ.replace("{asp}", "{asp_nan}"), "asp_nan.fits"),
    C("projbgd-aspect-is-events", PROJ.replace("{asp}", "{evt}"), EVT),
    C("projbgd-mod-C", PROJ.replace("--mod A", "--mod C"), "--mod", "mod"),
    C("projbgd-det-5", PROJ + " --det 5", "--det", "det"),
    C("projbgd-mapping-unknown", PROJ + " --mapping sideways", "--mapping", "mapping"),
    C("projbgd-mapping-events-no-track", PROJ + " --mapping events --evtfile {evt}", "--det1-file"),
    C("projbgd-mapping-track-garbage", PROJ + " --evtfile {evt} --det1-file {garbage}", "garbage.fits"),
    C("projbgd-mapping-track-is-gti", PROJ + " --evtfile {evt} --det1-file {gti}", GTI),
    C("projbgd-mapping-events-are-images", PROJ + " --evtfile {img} --det1-file {det1}", IMG),
    C("projbgd-det-text", PROJ + " --det abc", "--det", "det"),
    C("projbgd-out-folder", PROJ.replace("bgdapA.fits", "{adir}") + " --overwrite", "adir.fits"),
    C("projbgd-out-under-file", PROJ.replace("bgdapA.fits", "{afile}/bgdapA.fits"), "afile"),
    C("projbgd-out-proc", PROJ.replace("bgdapA.fits", "{proc}/bgdapA.fits"), "/proc/1"),
    C("projbgd-out-missing-folder", PROJ.replace("bgdapA.fits", "nowhere/bgdapA.fits"), "nowhere"),
    C("projbgd-out-full", PROJ.replace("bgdapA.fits", "{full}/bgdapA.fits"), "no space"),
    C("projbgd-no-reference", "projbgd --out bgdapA.fits --mod A --chipmap {chip} --aspect {asp}",
      "--refimg", "refimg"),
    C("projbgd-evtfile-garbage", "projbgd --evtfile {garbage} --out bgdapA.fits --mod A --chipmap {chip} "
      "--aspect {asp}", "garbage.fits"),
    # ---- regions ------------------------------------------------------------------------
    C("regions-no-src", "regions {evt}", "--src", "src"),
    C("regions-src-missing", "regions {evt} --src bgd/nosrc.reg", "nosrc.reg"),
    C("regions-src-malformed", "regions {evt} --src {badreg}", "bad.reg"),
    C("regions-src-off-detectors", "regions {evt} --src {offreg}", "off.reg"),
    C("regions-src-on-gap", "regions {evt} --src {gapreg}", "gap.reg"),
    C("regions-src-off-grid", "regions {evt} --src {nogrid}", "nogrid.reg"),
    C("regions-other-module", "regions {evtB} --src {src} --det-images {dets}", EVTB, "FPMB"),
    C("regions-det-images-missing", "regions {evt} --src {src} --outdir .", "det0Aim.fits"),
    C("regions-exclude-malformed", "regions {evt} --src {src} --exclude {badreg}", "bad.reg"),
    C("regions-exclude-missing", "regions {evt} --src {src} --exclude nothere.reg", "nothere.reg"),
    C("regions-output-exists", "regions {evt} --src {src} --det-images {dets} --outdir odir", "bgd0A.reg"),
    C("regions-border-negative", "regions {evt} --src {src} --border -1", "--border"),
    C("regions-fraction-zero", "regions {evt} --src {src} --fraction 0", "--fraction"),
    C("regions-event-garbage", "regions {garbage} --src {src} --det-images {dets}", "garbage.fits"),
    # ---- spectrum -----------------------------------------------------------------------
    C("spectrum-no-region", "spectrum {evt}", "--src", "REG"),
    C("spectrum-region-missing", "spectrum {evt} nothere.reg", "nothere.reg"),
    C("spectrum-region-malformed", "spectrum {evt} {badreg}", "bad.reg"),
    C("spectrum-src-malformed", "spectrum {evt} --src {badreg}", "bad.reg"),
    C("spectrum-region-off-grid", "spectrum {evt} {nogrid}", "nogrid.reg"),
    C("spectrum-other-module", "spectrum {evtB} --src {src}", "srcA.reg"),
    C("spectrum-usrgti-no-overlap", "spectrum {evt} --src {src} --usrgti {gti_late}", "gti_late.fits"),
    C("spectrum-usrgti-empty", "spectrum {evt} --src {src} --usrgti {gti_empty}", "gti_empty.fits"),
    C("spectrum-usrgti-garbage", "spectrum {evt} --src {src} --usrgti {garbage}", "garbage.fits"),
    C("spectrum-output-exists", "spectrum {evt} --src {src} --outdir sdir", "srcA_sr.pha"),
    C("spectrum-same-names", "spectrum {evt} bgd/srcA.reg,sdir/srcA.reg", "srcA.reg"),
    C("spectrum-group-min-negative", "spectrum {evt} --src {src} --group-min -1", "--group-min"),
    C("spectrum-event-garbage", "spectrum {garbage} --src {src}", "garbage.fits"),
    C("spectrum-optimal-maybe", "spectrum {evt} --src {src} optimal=maybe", "optimal"),
    # ---- calib --------------------------------------------------------------------------
    C("calib-unknown-subcommand", "calib refresh", "refresh"),
    C("calib-status-mod-C", "calib status --mod C", "--mod", "mod"),
    C("calib-status-caldb-missing", "calib status --caldb nothere", "nothere"),
    C("calib-status-caldb-file", "calib status --caldb {garbage}", "garbage.fits"),
    C("calib-status-auxil-file", "calib status --auxil {garbage}", "garbage.fits"),
    C("calib-status-date-garbage", "calib status --date-obs yesterday", "yesterday", "--date-obs"),
    C("calib-status-prefer-bogus", "calib status --prefer cloud", "--prefer", "cloud"),
    C("calib-fetch-timeout-negative", "calib fetch --dest aux --base-url http://127.0.0.1:9/ --timeout -1",
      "--timeout"),
    C("calib-fetch-timeout-zero", "calib fetch --dest aux --base-url http://127.0.0.1:9/ --timeout 0",
      "--timeout"),
    C("calib-fetch-timeout-nan", "calib fetch --dest aux --base-url http://127.0.0.1:9/ --timeout nan",
      "--timeout"),
    C("calib-fetch-timeout-text", "calib fetch --dest aux --timeout soon", "--timeout"),
    C("calib-fetch-dest-is-file", "calib fetch --dest {afile} --base-url http://127.0.0.1:9/", "afile"),
    C("calib-fetch-dest-under-file", "calib fetch --dest {afile}/aux --base-url http://127.0.0.1:9/", "afile"),
    C("calib-fetch-bad-url", "calib fetch --dest aux --base-url notaurl --timeout 1", "notaurl"),
    # ---- simulate -----------------------------------------------------------------------
    C("simulate-exposure-negative", "simulate sim --exposure -5", "--exposure", "exposure"),
    C("simulate-exposure-zero", "simulate sim --exposure 0", "--exposure", "exposure"),
    C("simulate-exposure-inf", "simulate sim --exposure inf", "--exposure", "exposure"),
    C("simulate-exposure-nan", "simulate sim --exposure nan", "--exposure", "exposure"),
    C("simulate-exposure-huge", "simulate sim --exposure 1e308", "--exposure", "exposure"),
    C("simulate-exposure-text", "simulate sim --exposure long", "--exposure"),
    C("simulate-seqid-text", "simulate sim --seqid abc", "--seqid", "seqid", "abc"),
    C("simulate-seed-text", "simulate sim --seed abc", "--seed"),
    C("simulate-seed-negative", "simulate sim --seed -1 --exposure 100", "--seed", "seed"),
    C("simulate-source-quasar", "simulate sim --source quasar", "quasar"),
    C("simulate-modules-C", "simulate sim --modules C", "--modules", "modules", "C"),
    C("simulate-modules-empty", "simulate sim --modules=", "--modules", "modules"),
    C("simulate-calibration-bogus", "simulate sim --calibration best", "--calibration", "best"),
    C("simulate-convention-bogus", "simulate sim --convention odd", "--convention", "odd"),
    C("simulate-outdir-is-file", "simulate {afile} --exposure 100", "afile"),
    C("simulate-outdir-under-file", "simulate {afile}/sim --exposure 100", "afile"),
    C("simulate-outdir-proc", "simulate {proc}/sim --exposure 100", "/proc/1"),
    C("simulate-outdir-readonly", "simulate {ro}/sim --exposure 100", "read-only"),
    C("simulate-outdir-full", "simulate {full}/sim --exposure 2000", "no space"),
    C("simulate-caldb-tree-proc", "simulate sim --exposure 100 --caldb-tree {proc}/caldb", "/proc/1"),
    C("simulate-caldb-tree-file", "simulate sim --exposure 100 --caldb-tree {afile}", "afile"),
    C("simulate-caldb-without-caldb", "simulate sim --exposure 100 --calibration caldb", "CALDB", "caldb"),
    C("simulate-no-outdir", "simulate", "outdir"),
    # ---- demo ---------------------------------------------------------------------------
    C("demo-dir-is-file", "demo {afile}", "afile"),
    C("demo-dir-under-file", "demo {afile}/demo", "afile"),
    C("demo-dir-proc", "demo {proc}/demo", "/proc/1"),
    C("demo-dir-readonly", "demo {ro}/demo", "read-only"),
    C("demo-seed-text", "demo dm --seed abc", "--seed"),
    C("demo-seed-negative", "demo dm --seed -3", "--seed", "seed"),
    C("demo-unknown-option", "demo dm --fast", "--fast"),
    # ---- config ---------------------------------------------------------------------------
    C("config-dir-missing", "config nothere --mod A", "nothere"),
    C("config-dir-is-file", "config {badjson} --mod A", "bad.json"),
    C("config-mod-C", "config . --mod C", "--mod", "mod"),
    C("config-module-without-projbgd", "config wf --mod B", "bgdapB.fits"),
    C("config-output-exists", "config wf --mod A", "bgdinfoA.json"),
    C("config-out-under-file", "config wf --mod A --out {afile}/x.json", "afile"),
    # ---- fit ------------------------------------------------------------------------------
    C("fit-missing", "fit nothere.json", "nothere.json"),
    C("fit-bad-json", "fit {badjson} --savefile x", "bad.json"),
    C("fit-missing-keys", "fit {nokeys} --savefile x", "nokeys.json"),
    C("fit-unequal-lists", "fit {unequal} --savefile x", "unequal.json"),
    C("fit-wrong-instrume", "fit {wrongins} --savefile x", "wrongins.pha", "wrongins.json"),
    C("fit-garbage-config", "fit {garbage} --savefile x", "garbage.fits"),
    C("fit-output-exists", "fit {cfg} savefile=fitA", "fitA.xcm"),
    C("fit-thaw-unknown", "fit {cfg} --savefile x --thaw 33keV", "--thaw", "33keV"),
    C("fit-nsim-negative", "fit {cfg} --savefile x --n-sim -1", "--n-sim"),
    C("fit-statistic-bogus", "fit {cfg} --savefile x --statistic lsq", "--statistic", "lsq"),
    C("fit-savefile-path", "fit {cfg} --savefile {afile}/x", "savefile"),
    C("fit-outdir-missing", "fit {cfg} --savefile x --outdir nowhere/deeper", "nowhere"),
    # ---- spec -----------------------------------------------------------------------------
    C("spec-region-off-detectors", "spec {cfg} {fitted} {wfoffreg} {srcpha}", "offA.reg"),
    C("spec-region-garbage", "spec {cfg} {fitted} {junkreg} {srcpha}", "junk.reg"),
    C("spec-region-missing", "spec {cfg} {fitted} nothere.reg {srcpha}", "nothere.reg"),
    C("spec-pha-missing", "spec {cfg} {fitted} {srcreg} nothere.pha", "nothere.pha"),
    C("spec-pha-wrong-instrume", "spec {cfg} {fitted} {srcreg} {wrongpha}", "wrongins.pha"),
    C("spec-unequal-lists", "spec {cfg} {fitted} {srcreg},{bgd0reg} {srcpha}", "SRC_PHA", "SRC_REG"),
    C("spec-fitted-is-config", "spec {cfg} {cfg} {srcreg} {srcpha}", "bgdinfoA.json"),
    C("spec-fitted-bad-json", "spec {cfg} {badjson} {srcreg} {srcpha}", "bad.json"),
    C("spec-fitted-garbage", "spec {cfg} {garbage} {srcreg} {srcpha}", "garbage.fits"),
    C("spec-fitted-missing", "spec {cfg} nothere_fit.json {srcreg} {srcpha}", "nothere_fit.json"),
    C("spec-config-bad-json", "spec {badjson} {fitted} {srcreg} {srcpha}", "bad.json"),
    C("spec-config-other-spectra", "spec {wrongins} {fitted} {srcreg} {srcpha}", "wrongins"),
    C("spec-output-exists", "spec {cfg} {fitted} {srcreg} {srcpha} savefile=fitA", "fitA.xcm"),
    # ---- simplify, combine, image ----------------------------------------------------------
    C("simplify-missing", "simplify {cfg} nothere.xcm", "nothere.xcm"),
    C("simplify-not-projected", "simplify {cfg} {fitxcm} --savefile s", "fitA_fit.xcm"),
    C("simplify-not-xcm", "simplify {cfg} {badjson}", "bad.json"),
    C("simplify-config-bad-json", "simplify {badjson} {fitxcm}", "bad.json"),
    C("combine-one-input", "combine {fitxcm}", "INPUTS", "combine"),
    C("combine-not-frozen", "combine {fitxcm} {fitstart}", "fitA_fit.xcm"),
    C("combine-missing", "combine {fitxcm} nothere.xcm", "nothere.xcm"),
    C("image-band-reversed", "image {cfg} {fitted} 20 3", "EMIN", "EMAX"),
    C("image-emax-text", "image {cfg} {fitted} 3 abc", "EMAX", "emax"),
    C("image-fitted-bad", "image {cfg} {badjson} 3 20", "bad.json"),
    C("image-config-unequal", "image {unequal} {fitted} 3 20", "unequal.json"),
    C("image-outdir-missing", "image {cfg} {fitted} 3 20 --outdir nowhere/x", "nowhere"),
    # ---- dispatcher ---------------------------------------------------------------------
    C("unknown-command", "mkimage {evt}", "mkimage"),
    C("keyvalue-empty-value", "mkimgs {evt} elow= --outdir out", "--elow", "elow"),
]


# --------------------------------------------------------------------------------------------
# inputs: one simulated observation and its products, plus the bad files, made once
# --------------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CALDB", "NUSKYBGD_TEST_KILL_AT")}
    return subprocess.run([sys.executable, "-m", "nuskybgd", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL, env=env)


def _bad_files(d: Path) -> None:
    (d / "garbage.fits").write_bytes(b"this is not a FITS file\n" * 40)
    (d / "empty.fits").write_bytes(b"")
    data = (d / EVT).read_bytes()
    (d / "trunc_cl.evt").write_bytes(data[:5000])
    gz = gzip.compress(data)
    (d / "trunc_cl.evt.gz").write_bytes(gz[: len(gz) // 2])
    (d / "adir.fits").mkdir()
    (d / "adir.fits" / "inside.txt").write_text("a folder where a file is expected\n")
    (d / "afile").write_text("a file where a folder is expected\n")
    cols = [fits.Column("CHANNEL", "J", array=np.arange(4096)), fits.Column("COUNTS", "J", array=np.ones(4096))]
    spec = fits.BinTableHDU.from_columns(cols, name="SPECTRUM")
    spec.header["HDUCLASS"], spec.header["HDUCLAS1"] = "OGIP", "SPECTRUM"
    full = d / "full.pha"
    fits.HDUList([fits.PrimaryHDU(), spec]).writeto(full)
    (d / "trunc.pha").write_bytes(full.read_bytes()[:4000])
    full.unlink()
    with fits.open(d / DET1) as h:
        h["DET1_REFPOINT"].data = h["DET1_REFPOINT"].data[:0]
        h.writeto(d / "det1_empty.fits")
    with fits.open(d / DET1) as h:
        h["DET1_REFPOINT"].data["X_DET1"][:] = np.nan
        h.writeto(d / "det1_nan.fits")
    with fits.open(d / GTI) as h:
        h[1].data = h[1].data[:0]
        h.writeto(d / "gti_empty.fits")
    with fits.open(d / IMG) as h:
        img = h[0]
        hdr = img.header.copy()
        hdr["PA_PNT"] = "garbage"
        fits.PrimaryHDU(img.data, header=hdr).writeto(d / "ref_pa_garbage.fits")
        del hdr["PA_PNT"]
        fits.PrimaryHDU(img.data, header=hdr).writeto(d / "ref_no_pa.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("X", "E", array=np.zeros(3))])]).writeto(d / "ref_table.fits")
    with fits.open(d / "aspecthistA.fits") as h:
        hdr = h[0].header.copy()
        hdr["X_OFF"] = "garbage"
        fits.PrimaryHDU(h[0].data, header=hdr).writeto(d / "asp_xoff_garbage.fits")
        fits.PrimaryHDU(np.full_like(h[0].data, np.nan), header=h[0].header).writeto(d / "asp_nan.fits")


@pytest.fixture(scope="session")
def corpus_inputs(demo_observation: Path, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus_inputs")
    for p in demo_observation.iterdir():
        shutil.copy(p, d / p.name)
    (d / "bgd").mkdir()
    for args in (["mkimgs", EVT], ["mkinstrmap", EVT], ["mkinstrmap", EVTB],
                 ["aspecthist", DET1, "--gtifile", GTI, "--out", "aspecthistA.fits"],
                 ["projbgd", "--refimg", IMG, "--out", "bgd/bgdapA.fits", "--mod", "A", "--chipmap",
                  "newinstrmapA.fits", "--aspect", "aspecthistA.fits"]):
        r = _cli(*args, cwd=d)
        assert r.returncode == 0, (args, r.stderr)
    _bad_files(d)
    _region_files(d, demo_observation.parent / "truth.json")
    _workflow_files(d)
    return d


def _workflow_files(d: Path) -> None:
    """A one-module bgd folder with its configuration and fit, and bad configurations."""
    import json

    from workflow_obs import make_bgd_folder

    bgd = make_bgd_folder(d / "wfroot", modules=("A",), exposure=2e4, seed=1)
    shutil.move(bgd, d / "wf")
    shutil.rmtree(d / "wfroot")
    d = d / "wf"
    shutil.copy(d / "bgd3A.reg", d / "srcA.reg")
    shutil.copy(d / "nu90000001A01_bgd3A_sr.pha", d / "srcA.pha")
    for args in (["config", ".", "--mod", "A"], ["fit", "bgdinfoA.json", "savefile=fitA"]):
        r = _cli(*args, cwd=d)
        assert r.returncode == 0, (args, r.stderr)
    (d / "bad.json").write_text('{"bgfiles": ["a.pha"],}\n')
    (d / "nokeys.json").write_text(json.dumps({"bgfiles": ["nu90000001A01_bgd0A_sr.pha"],
                                               "regfiles": ["bgd0A.reg"]}))
    images = {"refimgf": "bgdapA.fits", "bgdapfiles": {"A": "bgdapA.fits"},
              "bgddetfiles": {"A": [f"det{k}Aim.fits" for k in range(4)]}}
    (d / "unequal.json").write_text(json.dumps({
        "bgfiles": ["nu90000001A01_bgd0A_sr.pha", "nu90000001A01_bgd1A_sr.pha"], "regfiles": ["bgd0A.reg"],
        **images}))
    with fits.open(d / "nu90000001A01_bgd0A_sr.pha") as h:
        h[1].header["INSTRUME"] = "FPMC"
        h.writeto(d / "wrongins.pha")
    (d / "wrongins.json").write_text(json.dumps({"bgfiles": ["wrongins.pha"], "regfiles": ["bgd0A.reg"],
                                                 **images}))
    (d / "offA.reg").write_text("# Region file format: DS9\nimage\nbox(500.5,500.5,10,10,0)\n")
    (d / "junk.reg").write_text("not a region\n")


def _region_files(d: Path, truth_file: Path) -> None:
    """srcA.reg on the simulated source; regions off the detectors, on a gap, off the sky grid and
    malformed; a GTI after the observation; folders holding outputs that exist."""
    import json

    src = json.loads(truth_file.read_text())["modules"]["A"]["source"]
    head = "# Region file format: DS9 version 4.1\n"
    (d / "bgd" / "srcA.reg").write_text(f'{head}fk5\ncircle({src["ra"]},{src["dec"]},60")\n')
    (d / "bad.reg").write_text(f"{head}fk5\ncircle(150.1,2.2,oops\n")
    cover = sum(fits.getdata(d / "bgd" / f"det{k}Aim.fits") for k in range(4))
    ys, xs = np.nonzero(cover > 0)
    off = (30, 30) if cover[:60, :60].max() == 0 else (970, 970)
    assert cover[off[1] - 20:off[1] + 20, off[0] - 20:off[0] + 20].max() == 0
    (d / "off.reg").write_text(f"{head}image\ncircle({off[0] + 1},{off[1] + 1},10)\n")
    cy, cx = np.average(ys, weights=cover[ys, xs]), np.average(xs, weights=cover[ys, xs])
    gap = (cover > 0) & (cover < 0.15 * cover.max())
    gy, gx = np.nonzero(gap)
    k = np.argmin(np.hypot(gx - cx, gy - cy))
    # the projected footprints tile the field (the aspect smears the inner gaps shut), so the pixel
    # the detectors see less than 15 % of the time nearest the centre is on the field's edge
    (d / "gap.reg").write_text(f"{head}image\ncircle({gx[k] + 1},{gy[k] + 1},0.7)\n")
    (d / "nogrid.reg").write_text(f"{head}image\ncircle(-400,-400,20)\n")
    with fits.open(d / GTI) as h:
        h[1].data["START"] += 1e8
        h[1].data["STOP"] += 1e8
        h.writeto(d / "gti_late.fits")
    (d / "odir").mkdir()
    (d / "odir" / "bgd0A.reg").write_text("# a region the user keeps\n")
    (d / "sdir").mkdir()
    (d / "sdir" / "nu90000000002A01_srcA_sr.pha").write_bytes(b"a spectrum the user keeps\n")


def _try_mount(where: Path, options: str) -> str | None:
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip() or f"mount exit {r.returncode}")


@pytest.fixture(scope="session")
def mounts(tmp_path_factory):
    """A read-only and a 16 kB tmpfs, or the reason they cannot be made here."""
    top = tmp_path_factory.mktemp("mounts")
    made, why = {}, {}
    for key, opts in (("ro", "size=1m,ro"), ("full", "size=16k")):
        reason = _try_mount(top / key, opts)
        if reason is None:
            made[key] = top / key
        else:
            why[key] = reason
    yield made, why
    for m in made.values():
        subprocess.run(["umount", str(m)], check=False)


def _checksums(*folders: Path) -> dict[str, str]:
    out = {}
    for f in folders:
        for p in sorted(f.rglob("*")):
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


_ERROR_LINE = re.compile(r"^nuskybgd\b.*\berror\b", re.IGNORECASE)


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_bad_input(case: Case, corpus_inputs: Path, mounts, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for p in corpus_inputs.iterdir():
        (shutil.copytree if p.is_dir() else os.link)(p, work / p.name)
    made, why = mounts
    values = dict(NAMES)
    for key in ("ro", "full"):
        if any("{" + key + "}" in tok for tok in case.argv):
            if key not in made:
                pytest.skip(f"cannot mount a tmpfs here ({why[key]}); this case needs one")
            values[key] = str(made[key])
    argv = [tok.format(**values) for tok in case.argv]
    watched = [work, *made.values()]
    before = _checksums(*watched)
    r = _cli(*argv, cwd=work)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    errors = [line for line in r.stderr.splitlines() if _ERROR_LINE.search(line)]
    assert len(errors) == 1, r.stderr
    assert any(n in errors[0] for n in case.names), (case.names, errors[0])
    assert _checksums(*watched) == before, "a file was changed, added or left half-written"


def test_corpus_is_large_and_covers_every_command() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)
    commands = {c.argv[0] for c in CASES if c.argv}
    assert {"info", "validate", "mkimgs", "mkinstrmap", "aspecthist", "projbgd", "calib", "simulate",
            "demo", "regions", "spectrum", "config", "fit", "spec", "simplify", "combine", "image"} <= commands
