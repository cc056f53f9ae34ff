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


def _module_valued_attributes() -> list[tuple[str, str]]:
    """Every (allowed module, attribute) whose real value is a module, e.g. cv2.os, numpy.lib."""
    pairs = []
    for module in sorted(policy.ALLOWED_MODULES):
        real = importlib.import_module(module)
        for attr in sorted(dir(real)):
            if attr.startswith("_") or f"{module}.{attr}" in policy.ALLOWED_MODULES:
                continue
            if module in ("scipy", "skimage"):
                # their dir() lists lazily loaded submodules: count them without importing them all
                value = vars(real).get(attr, types.ModuleType(attr))
            else:
                try:
                    value = getattr(real, attr)
                except Exception:  # noqa: BLE001 - a lazy attribute that fails to load is unreachable too
                    continue
            if isinstance(value, types.ModuleType):
                pairs.append((module, attr))
    return pairs


REEXPORTS = _module_valued_attributes()


def test_reexports_include_the_known_dangerous_ones() -> None:
    assert ("cv2", "os") in REEXPORTS
    assert ("cv2", "sys") in REEXPORTS
    assert any(module == "numpy" for module, _ in REEXPORTS)


@pytest.mark.parametrize(("module", "attr"), REEXPORTS, ids=[f"{m}.{a}" for m, a in REEXPORTS])
def test_every_module_valued_attribute_is_unreachable(module: str, attr: str) -> None:
    from sandbox import check_source
    from sandbox.guards import VIOLATIONS, PolicyViolation, restricted_globals

    proxy = get_proxy(module)
    with pytest.raises(AttributeError):
        getattr(proxy, attr)
    guarded_getattr = restricted_globals()["_getattr_"]
    with pytest.raises(PolicyViolation):
        guarded_getattr(proxy, attr)
    VIOLATIONS.clear()
    source = f'"""x"""\nimport {module} as m\n\ndef extract(image, mask):\n    return {{"a": float(len(str(m.{attr})))}}\n'
    result = check_source(source)
    assert not result.ok
    assert f"{module}.{attr}" in result.reason
