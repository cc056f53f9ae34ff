"""Fixtures for the studio: a temp project root (copies of prompts/ and feature_library/, so no test
edits the repository's files), a small phantom dataset with a trained model, and a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the studio needs starlette and uvicorn: pip install -e '.[test]'")

from scafe.studio import StudioConfig, create_app  # noqa: E402
from scafe.studio.server import BackgroundServer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token-123"


@pytest.fixture
def studio_root(tmp_path: Path) -> Path:
    """A project root holding copies of the repository's prompts/ and feature_library/."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(REPO / "prompts", root / "prompts")
    shutil.copytree(REPO / "feature_library", root / "feature_library")
    return root


@pytest.fixture(scope="session")
def phantom_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 phantoms of 128 px (both classes), rendered once per session."""
    from scafe.data.phantoms import generate_phantoms

    out = tmp_path_factory.mktemp("studio-data") / "phantoms"
    generate_phantoms(out, n=12, seed=3, size=128)
    return out


@pytest.fixture(scope="session")
def model_dir(phantom_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier trained on the phantoms' features (the committed library)."""
    from scafe.classifier import ScarClassifier
    from scafe.data.dataset import load_dataset
    from scafe.extraction import extract
    from scafe.library import Library

    dataset = load_dataset(phantom_data)
    table = extract(dataset, library=Library.open(REPO / "feature_library"), progress=False)
    labels = [c.label for c in dataset.cases]
    model = ScarClassifier().fit(table.frame, labels, feature_meta=table.meta["features"],
                                 library_version=table.meta["library_version"])
    return model.save(tmp_path_factory.mktemp("studio-model") / "model")


def make_client(config: StudioConfig, *, cookie: bool = True):  # noqa: ANN201
    """A Starlette TestClient on the loopback host, with the token cookie unless ``cookie=False``."""
    from starlette.testclient import TestClient

    app = create_app(config)
    client = TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=True)
    if cookie:
        client.cookies.set("scafe_studio", config.token)
    client.studio = app.app.state.studio  # type: ignore[attr-defined]
    return client


class LiveServer(BackgroundServer):
    """uvicorn serving a studio app for ``config`` on a free 127.0.0.1 port, in a thread."""

    def __init__(self, config: StudioConfig) -> None:
        app = create_app(config)
        super().__init__(app)
        self.studio = app.app.state.studio


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    """The LiveServer class (tests build one with their own config)."""
    return LiveServer


@pytest.fixture
def client_factory():  # noqa: ANN201
    """``make_client`` as a fixture (conftest modules are not importable under importlib mode)."""
    return make_client
