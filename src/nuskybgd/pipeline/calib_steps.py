"""Pipeline steps of the calibration area: fetch the auxiliary set, report calibration status."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from nuskybgd.calib.auxil import default_auxil_dir, fetch_auxil, pinned_files
from nuskybgd.pipeline.step import Reporter, Step, StepResult


class FetchAuxilStep(Step):
    """Download and verify the pinned nuskybgd auxiliary calibration set."""

    name: ClassVar[str] = "calib fetch"
    title: ClassVar[str] = "Fetch auxiliary calibration"
    help: ClassVar[str] = (
        "Downloads the public MIT-licensed nuskybgd auxiliary files (aperture images, Be window, "
        "on-axis ARFs, identity RMF, presets) pinned at one commit, checks their sha256 and "
        "installs them in the user cache (or a folder you choose). Needed only without CALDB "
        "aperture data; everything else works with CALDB or the built-in models."
    )

    def __init__(self, dest: str | Path | None = None, base_url: str | None = None,
                 overwrite: bool = False, timeout: float = 60.0) -> None:
        self.dest = Path(dest).expanduser() if dest is not None else default_auxil_dir()
        self.base_url = base_url
        self.overwrite = overwrite
        self.timeout = timeout

    def inputs(self) -> list[Path]:
        return []

    def outputs(self) -> list[Path]:
        return [self.dest / f.name for f in pinned_files()]

    def run(self, reporter: Reporter | None = None) -> StepResult:
        rep = reporter or Reporter()
        files = pinned_files()
        done = {"n": 0}

        def progress(line: str) -> None:
            rep.log(line)
            if "installed" in line or "already present" in line:
                done["n"] += 1
                rep.progress(done["n"] / len(files), line.split(":")[0])

        paths = fetch_auxil(self.dest, self.base_url, overwrite=self.overwrite,
                            timeout=self.timeout, progress=progress)
        rep.output(self.dest, f"auxiliary set verified in {self.dest}")
        return StepResult(outputs=paths, values={"folder": str(self.dest)}, calibration="AUXIL")
