"""pipeline.config_editing: the wizard's configuration editor validates text with the library's
loader (workflow.config.parse_bgdinfo) and saves it atomically, reporting the steps made stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import copy_observation
from nuskybgd.errors import InputError
from nuskybgd.pipeline import Runner, Session, config_editing, editing
from nuskybgd.workflow.config import load_bgdinfo, parse_bgdinfo


@pytest.fixture(scope="module")
def fitted(small_observation: Path, tmp_path_factory):
    """The small observation run by the Runner through both modules' fits (session open)."""
    ev = copy_observation(small_observation, tmp_path_factory.mktemp("config-editing"))
    session = Session.open(ev)
    runner = Runner(session)
    runner.run_all(until="projbgd")
    for m in runner.observation["modules"]:
        editing.save_source_circle(runner, m, editing.propose_source_circle(runner, m))
    statuses = runner.run_all(until="fit")
    assert statuses["fit.A"] == statuses["fit.B"] == "done", statuses
    yield runner
    session.close()


def test_parse_bgdinfo_checks_text_as_the_file_would_be(fitted):
    path = config_editing.config_path(fitted, "config.A")
    text = path.read_text()
    assert parse_bgdinfo(text, path).bgfiles == load_bgdinfo(path).bgfiles
    # a file that does not exist yet: relative names resolve against its folder, nothing written
    elsewhere = path.parent / "not-written.json"
    assert [p.name for p in parse_bgdinfo(text, elsewhere).bgfiles] == [
        p.name for p in load_bgdinfo(path).bgfiles]
    assert not elsewhere.exists()
    raw = json.loads(text)
    del raw["refimgf"]
    with pytest.raises(InputError, match="refimgf"):
        parse_bgdinfo(json.dumps(raw), path)
    raw = json.loads(text)
    raw["bgfiles"][0] = "missing_sr.pha"
    with pytest.raises(InputError, match="missing_sr.pha, which does not exist"):
        parse_bgdinfo(json.dumps(raw), path)


def test_check_and_save_config(fitted):
    path = config_editing.config_path(fitted, "config.A")
    assert path == fitted.session.folder / "bgd" / "bgdinfoA.json"
    original = config_editing.config_text(fitted, "config.A")
    assert original == path.read_text()
    assert config_editing.check_config(fitted, "config.A", original) == ""
    broken = original.rstrip()[:-1] + ",}"
    problem = config_editing.check_config(fitted, "config.A", broken)
    assert problem.startswith(f"{path} is not valid JSON (") and "line" in problem
    with pytest.raises(InputError):
        config_editing.save_config(fitted, "config.A", broken)
    assert path.read_text() == original
    same = config_editing.save_config(fitted, "config.A", original)
    assert not same.changed and same.stale == []
    assert fitted.status("fit.A") == "done"
    changed = original.replace('"intbgd_fix_line_ratios": true', '"intbgd_fix_line_ratios": false')
    assert changed != original
    edit = config_editing.save_config(fitted, "config.A", changed)
    assert edit.changed and edit.path == path and path.read_text() == changed
    assert edit.stale == ["fit.A"]                 # the other module's fit read another file
    assert fitted.status("fit.A") == "stale" and fitted.status("fit.B") == "done"
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []
    # an edit made elsewhere after the editor read the file is never replaced silently
    with pytest.raises(config_editing.ChangedOnDisk, match="changed outside the wizard"):
        config_editing.save_config(fitted, "config.A", original, expected=original)
    assert path.read_text() == changed
    config_editing.save_config(fitted, "config.A", original, expected=changed)
    assert path.read_text() == original


def test_config_path_only_for_config_steps(fitted):
    with pytest.raises(InputError, match="fit.A is not a configuration step"):
        config_editing.config_path(fitted, "fit.A")
