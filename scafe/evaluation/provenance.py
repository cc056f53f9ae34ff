"""Provenance of an evaluation: what ran, on what, with which versions (metrics.json + report)."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "scikit-image", "xgboost", "xgboost-cpu", "pillow",
            "opencv-python-headless", "matplotlib", "pyradiomics", "torch")


def git_commit(path: Path) -> str | None:
    """The commit of the checkout holding ``path`` (``+dirty`` when it has local changes), else None."""
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the figures depend on (absent ones left out)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def dataset_hash(dataset: Any) -> dict[str, Any]:
    """sha256 of the manifest file and of every used image and mask (order of the cases)."""
    manifest = getattr(dataset, "manifest", None)
    digest = hashlib.sha256()
    for case in getattr(dataset, "cases", []):
        for path in (case.image_path, case.mask_path):
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return {"manifest": str(manifest) if manifest else None,
            "manifest_sha256": hashlib.sha256(Path(manifest).read_bytes()).hexdigest() if manifest else None,
            "files_sha256": digest.hexdigest(), "n_cases": len(getattr(dataset, "cases", []))}


def active_extractors(library: Any = None) -> list[dict[str, Any]]:
    """Name, version, origin, criterion item and validation status of every active library entry."""
    from scafe.errors import ScafeError
    from scafe.library import Library

    try:
        lib = library if isinstance(library, Library) else Library.open(library)
    except (ScafeError, OSError):
        return []
    rows = []
    for entry in lib.active():
        validation = entry.validation or {}
        contract = validation.get("contract") or {}
        criterion = validation.get("criterion") or {}
        passed = criterion.get("passed") if isinstance(criterion, dict) else None
        rows.append({
            "name": entry.name, "version": entry.version, "origin": entry.origin,
            "criterion": entry.criterion.ref, "outputs": list(entry.outputs),
            "contract": contract.get("status") if isinstance(contract, dict) else contract,
            "criterion_test": "passed" if passed is True else ("failed" if passed is False else "not run"),
            "rho": criterion.get("rho") if isinstance(criterion, dict) else None,
        })
    return rows


def provenance(*, datasets: dict[str, Any], library: Any = None, library_version: str | None = None,
               settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``provenance`` block of metrics.json."""
    from scafe import __version__
    from scafe.paths import PACKAGE_CHECKOUT

    return {
        "scafe_version": __version__,
        "git_commit": git_commit(PACKAGE_CHECKOUT),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "datasets": {name: dataset_hash(ds) for name, ds in datasets.items() if ds is not None},
        "library_version": library_version,
        "active_extractors": active_extractors(library),
        "model_settings": settings or {},
    }
