#!/bin/sh
# The walkthrough as command lines, on a simulated observation.
#
#   sh examples/walkthrough.sh [DIR] [EXPOSURE_S]
#
# Simulates a two-module observation with a point source into DIR (default walkthrough-demo),
# then runs every step in the order of ARCHITECTURE §10, per module, from event_cl/ and then
# event_cl/bgd/ as the walkthrough does.  On your own observation: start at the mkimgs line in
# its event_cl/ (SEQ set to its ID) and draw bgd/src<m>.reg around your source in ds9.
set -eu
DIR=${1:-walkthrough-demo}
EXPOSURE=${2:-100000}
SEQ=90000000002
NUSKYBGD=${NUSKYBGD:-nuskybgd}

$NUSKYBGD simulate "$DIR" --seqid $SEQ --exposure "$EXPOSURE" --seed 1 --source point
cd "$DIR/$SEQ/event_cl"
mkdir -p bgd
for m in A B; do
    evt=nu${SEQ}${m}01_cl.evt
    # images, instrument map, aspect histogram (in event_cl/)
    $NUSKYBGD mkimgs "$evt" elow=3 ehigh=20
    $NUSKYBGD mkimgs "$evt" elow=20 ehigh=40
    $NUSKYBGD mkinstrmap "$evt"
    $NUSKYBGD aspecthist nu${SEQ}${m}_det1.fits --gtifile nu${SEQ}${m}01_gti.fits --out aspecthist$m.fits
    # projected aperture and detector images (in event_cl/bgd/)
    # the DET1 -> sky mapping measured from the events and the DET1 track (drop the last line to
    # get nuskybgd-py's images exactly, with its empirical +1 deg roll and nudge)
    $NUSKYBGD projbgd refimg=nu${SEQ}${m}01_cl_3to20keV.fits out=bgd/bgdap$m.fits mod=$m det=1234 \
        chipmap=newinstrmap$m.fits aspect=aspecthist$m.fits \
        --evtfile nu${SEQ}${m}01_cl.evt --det1-file nu${SEQ}${m}_det1.fits
    # the source region: a 60" circle on the simulated source (you draw yours in ds9)
    printf '# Region file format: DS9\nfk5\ncircle(150.1163,2.2058,60")\n' > bgd/src$m.reg
    # background regions per detector, avoiding the source, and the spectra
    $NUSKYBGD regions "$evt" --src bgd/src$m.reg
    $NUSKYBGD spectrum "$evt" bgd/bgd*$m.reg --src bgd/src$m.reg
    # the background fit and its projection into the source region (in event_cl/bgd/)
    (
        cd bgd
        $NUSKYBGD config --mod $m
        $NUSKYBGD fit bgdinfo$m.json savefile=bgdparams$m --n-sim 20 --seed 1
        $NUSKYBGD spec bgdinfo$m.json bgdparams${m}_fit.json src$m.reg nu${SEQ}${m}01_src${m}_sr.pha
        $NUSKYBGD simplify bgdinfo$m.json bgd_src$m.xcm
    )
done
# one fit file with both modules: each keeps its frozen background, model 1 is shared
$NUSKYBGD combine bgd/bgd_only_srcA.xcm bgd/bgd_only_srcB.xcm --out bgd/srcAB.xcm
echo "done: in XSPEC, cd $DIR/$SEQ/event_cl/bgd and @srcAB.xcm, then define model 1"
