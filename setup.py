"""Ship the data folders with the package (issue 13 s3).

``prompts/`` (criteria and templates) and ``feature_library/`` (the committed reference
library) are data at the project root, not import packages. A regular (non-editable) build
copies them into ``scafe/_shipped/`` of the wheel, where :mod:`scafe.paths` finds them when
scafe runs outside a checkout. Editable installs and checkouts keep using the root folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("prompts", "feature_library")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.lock", ".*")


class BuildPyWithData(build_py):
    """``build_py`` that also copies the data folders into ``<build>/scafe/_shipped/``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "scafe" / "_shipped"
        for name in SHIPPED:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORE, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
