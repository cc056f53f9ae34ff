"""Fixtures for library tests: a private criteria folder and an empty library in tmp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scafe.library import Library


def extractor_source(key: str, value: float = 1.0) -> str:
    """A tiny valid extractor returning ``{key: value}``."""
    return (
        f'"""Test extractor {key}."""\n'
        "import numpy as np\n\n\n"
        "def extract(image, mask):\n"
        f"    return {{{key!r}: float({value!r})}}\n"
    )


@pytest.fixture
def criteria_dir(tmp_path: Path, project_root: Path) -> Path:
    """A copy of the shipped criteria files that a test may edit."""
    target = tmp_path / "criteria"
    target.mkdir()
    for path in (project_root / "prompts" / "criteria").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def library(tmp_path: Path, criteria_dir: Path) -> Library:
    """An empty library in ``tmp_path/lib`` resolving criteria from ``criteria_dir``."""
    return Library.open(tmp_path / "lib", criteria_dir=criteria_dir)
