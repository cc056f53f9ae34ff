"""Where the data directories (``prompts/``, ``feature_library/``) live.

They are data, not import packages, so they are found relative to a *project root*:
``--root``/``SCAFE_ROOT`` if given, else the nearest parent of the working directory holding
``feature_library/library.json`` or ``prompts/criteria``, else the checkout this package was
installed from (``pip install -e .``), else the copies shipped inside an installed wheel
(``scafe/_shipped/``, written by ``setup.py``). If none of these exists the command fails
with a :class:`~scafe.errors.ConfigError` saying how to point scafe at a project.
"""

from __future__ import annotations

import os
from pathlib import Path

from scafe.errors import ConfigError

PACKAGE_CHECKOUT = Path(__file__).resolve().parents[1]
SHIPPED_DATA = Path(__file__).resolve().parent / "_shipped"


def _looks_like_root(path: Path) -> bool:
    return (path / "feature_library" / "library.json").is_file() or (path / "prompts" / "criteria").is_dir()


def project_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the project root (see module docstring); raise ``ConfigError`` if an explicit one is bad."""
    given = explicit or os.environ.get("SCAFE_ROOT")
    if given:
        root = Path(given).expanduser().resolve()
        if not root.is_dir():
            raise ConfigError(f"The project root {str(root)!r} (from --root or SCAFE_ROOT) is not a directory.")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents, PACKAGE_CHECKOUT, SHIPPED_DATA):
        if _looks_like_root(candidate):
            return candidate
    raise ConfigError(
        f"No scafe project found: neither {str(here)!r} nor a parent holds feature_library/library.json or "
        f"prompts/criteria, and this installation ships no copy ({str(SHIPPED_DATA)!r} is missing). "
        "Run from a clone of the repository, set SCAFE_ROOT to one, or reinstall with `pip install .`."
    )


def prompts_dir(root: Path | None = None) -> Path:
    """``<root>/prompts``."""
    return (root or project_root()) / "prompts"


def criteria_dir(root: Path | None = None) -> Path:
    """``<root>/prompts/criteria``."""
    return prompts_dir(root) / "criteria"


def templates_dir(root: Path | None = None) -> Path:
    """``<root>/prompts/templates``."""
    return prompts_dir(root) / "templates"


def library_dir(root: Path | None = None) -> Path:
    """``SCAFE_LIBRARY`` if set, else ``<root>/feature_library``."""
    env = os.environ.get("SCAFE_LIBRARY")
    if env:
        return Path(env).expanduser().resolve()
    return (root or project_root()) / "feature_library"


def cache_dir() -> Path:
    """``SCAFE_CACHE`` if set, else ``~/.cache/scafe`` (validation phantoms, extraction cache)."""
    env = os.environ.get("SCAFE_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "scafe"
    path.mkdir(parents=True, exist_ok=True)
    return path
