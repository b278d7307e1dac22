"""Shared fixtures: a fresh store per test and small real input files."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/fixtures is importable as `fixtures`

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def db(tmp_path) -> str:
    """Path of a store that does not exist yet (qualcode creates and migrates it)."""
    return str(tmp_path / "store.db")


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED
