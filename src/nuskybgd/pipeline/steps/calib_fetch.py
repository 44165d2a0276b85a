"""``calib fetch``: download and verify the pinned nuskybgd auxiliary calibration set."""

from __future__ import annotations

from pathlib import Path

from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.step import OVERWRITE, Reporter, Step, StepResult, reporter_or_default


class FetchAuxilStep(Step):
    """Download and verify the pinned nuskybgd auxiliary calibration set."""

    name = "calib fetch"
    title = "Fetch auxiliary calibration"
    help = (
        "Downloads the public MIT-licensed nuskybgd auxiliary files (aperture images, Be window, "
        "on-axis ARFs, identity RMF, presets) pinned at one commit, checks their sha256 and "
        "installs them in the user cache (or a folder you choose). Needed only without CALDB "
        "aperture data; everything else works with CALDB or the built-in models."
    )
    params = (
        Param("dest", "path", None, help="destination folder (default: the user cache)"),
        Param("base_url", "str", None, aliases=("url",), help="mirror holding the files by name (default: the pinned commit)"),
        OVERWRITE,
        Param("timeout", "float", 60.0, unit="s", minimum=0.1, maximum=3600.0, help="per-request timeout"),
    )

    def folder(self) -> Path:
        """The destination folder."""
        from nuskybgd.calib.auxil import default_auxil_dir

        return self.dest.expanduser() if self.dest is not None else default_auxil_dir()

    def outputs(self) -> list[Path]:
        from nuskybgd.calib.auxil import pinned_files

        return [self.folder() / f.name for f in pinned_files()]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        from nuskybgd.calib.auxil import fetch_auxil

        rep = reporter_or_default(reporter)
        dest = self.folder()
        paths = fetch_auxil(dest, self.base_url, overwrite=self.overwrite, timeout=self.timeout,
                            progress=rep.log, files_done=lambda done, total: rep.progress(done / total))
        rep.output(dest, f"auxiliary set verified in {dest}")
        return StepResult(outputs=paths, values={"folder": str(dest)}, calibration="AUXIL")
