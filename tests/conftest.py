"""Shared fixtures: the real sample data in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path:
    """``shared/data`` beside the checkout, or beside an ancestor (git worktrees live deeper)."""
    for base in REPO.parents:
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "data"


SHARED_DATA = _find_shared_data()


def shared_path(*parts: str) -> Path:
    """Path of a file in ../shared/data; skips the test with a reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"sample data {p} is not present (it lives beside the project, never in it)")
    return p


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is not present")
    return SHARED_DATA
