"""Changes a front end makes to a step's configuration file: the ``bgdinfo{m}.json`` the config
step wrote, edited as text.

The counterpart of :mod:`nuskybgd.pipeline.editing` (the source region) for the fit's
configuration: the wizard hands over the text, these functions validate it with the library's
loader (:func:`nuskybgd.workflow.config.parse_bgdinfo`, the same checks ``nuskybgd fit`` makes)
and write it atomically, reporting which steps the change turned stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nuskybgd.errors import ChangedOnDisk, InputError

if TYPE_CHECKING:  # pragma: no cover
    from nuskybgd.pipeline.runner import Runner

__all__ = ["ConfigEdit", "ChangedOnDisk", "config_path", "config_text", "check_config",
           "json_error_location", "save_config"]


@dataclass
class ConfigEdit:
    """What saving a configuration changed: the file, whether its content changed, and the step
    instances whose status turned to stale (their products were made from the old file)."""

    path: Path
    changed: bool
    stale: list[str] = field(default_factory=list)




def config_path(runner: Runner, key: str) -> Path:
    """The JSON file the config step ``key`` (``config.A``) writes."""

    if runner.instance(key).stage != "config":
        raise InputError(f"step {key} is not a configuration step; choose config.A or config.B.")
    return Path(runner.build(key).outputs()[0])


def config_text(runner: Runner, key: str) -> str:
    """The text of the configuration ``key`` wrote.

    Raises
    ------
    InputError
        It does not exist yet (run the step) or is not readable text.
    """

    path = config_path(runner, key)
    if not path.is_file():
        raise InputError(f"{path.name} does not exist yet; run the Configuration step (r).", path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} cannot be read as text ({exc}); run the step again.", path) from None


def check_config(runner: Runner, key: str, text: str) -> str:
    """"" when ``text`` is a valid configuration for ``key``'s file, else the one sentence saying
    what is wrong (invalid JSON with its line and column, a missing key, a named file that does
    not exist, ...)."""
    from nuskybgd.workflow.config import parse_bgdinfo

    try:
        parse_bgdinfo(text, config_path(runner, key))
    except InputError as exc:
        return str(exc)
    return ""


def json_error_location(text: str) -> tuple[int, int] | None:
    """Where ``text`` stops being JSON: (line, column), both 0-based, for placing an editor's
    cursor on the error; None when it parses."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno - 1, exc.colno - 1
    return None


def save_config(runner: Runner, key: str, text: str, expected: str | None = None) -> ConfigEdit:
    """Validate ``text`` and write it over ``key``'s configuration (atomically), returning the
    steps this made stale (the fit and what follows reads the file).

    ``expected`` is the file's text when the editor read it: if the file now holds something
    else (edited elsewhere meanwhile), nothing is written and :class:`ChangedOnDisk` is raised,
    so an outside edit is never silently replaced.  ``None`` skips that check.

    Raises
    ------
    InputError
        The text is not a valid configuration (nothing is written).
    ChangedOnDisk
        The file changed since ``expected`` was read (nothing is written).
    """
    from nuskybgd.io.atomic import write_text_atomic

    problem = check_config(runner, key, text)
    if problem:
        raise InputError(problem, config_path(runner, key))
    path = config_path(runner, key)
    try:
        before_text = path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        before_text = None
    if text == before_text:
        return ConfigEdit(path, False, [])
    if expected is not None and before_text != expected:
        raise ChangedOnDisk(f"{path.name} was changed outside the wizard since it was opened here; "
                            "saving would replace that edit.", path)
    before = runner.statuses()
    write_text_atomic(path, text, overwrite=True)
    after = runner.statuses()
    stale = [k for k, s in after.items() if s == "stale" and before.get(k) != "stale"]
    return ConfigEdit(path, True, stale)
