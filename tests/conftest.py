"""Session-wide test setup: isolated cache, no real LLM credentials leak into tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("SCAFE_CACHE", str(ROOT / ".scafe-test-cache"))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _no_real_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk only to servers they start themselves."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SCAFE_MODEL", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The checkout root."""
    return ROOT
