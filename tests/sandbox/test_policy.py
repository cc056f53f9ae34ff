"""The policy constants: every allowlisted name exists, none is a module or an I/O function."""

from __future__ import annotations

import importlib
import re
import types

import pytest

from sandbox import policy
from sandbox.proxies import ModuleProxy, get_proxy

IO_LIKE = re.compile(r"(^|_)(save|load|read|write|file|url|open|download|fetch|pickle|memmap|system|exec)($|_)",
                     re.IGNORECASE)
MORPHOLOGY = {"MORPH_OPEN"}  # morphological opening, not a file


@pytest.mark.parametrize("module", sorted(policy.ALLOWED_MODULES))
def test_allowlisted_names_exist_and_are_not_modules_or_io(module: str) -> None:
    real = importlib.import_module(module)
    for name in policy.ALLOWED_MODULES[module]:
        assert hasattr(real, name), f"{module}.{name} does not exist in the installed version"
        assert not isinstance(getattr(real, name), types.ModuleType), f"{module}.{name} is a module"
        assert name in MORPHOLOGY or not IO_LIKE.search(name), f"{module}.{name} looks like file/process I/O"


@pytest.mark.parametrize(("module", "names"), sorted(policy.DANGEROUS_LIBRARY_ATTRIBUTES.items()))
def test_documented_dangerous_attributes_are_not_exposed(module: str, names: list[str]) -> None:
    proxy = get_proxy(module)
    for name in names:
        with pytest.raises(AttributeError, match="allowlist"):
            getattr(proxy, name)


def test_proxies_are_read_only_and_hide_the_real_module() -> None:
    np_proxy = get_proxy("numpy")
    assert isinstance(np_proxy.linalg, ModuleProxy)
    with pytest.raises(AttributeError, match="read-only"):
        np_proxy.mean = None
    with pytest.raises(AttributeError, match="read-only"):
        del np_proxy.mean
    assert all(not isinstance(v, types.ModuleType) for v in np_proxy._proxy_members.values())
    hed = get_proxy("skimage.color").hed_from_rgb
    assert not hed.flags.writeable


def test_layers_and_rules_are_listed() -> None:
    assert "seccomp" in policy.LAYERS
    assert any("a[i] += x" in rule for rule in policy.PROMPT_RULES)
