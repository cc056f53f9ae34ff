"""Module proxies: what ``import numpy as np`` gives an extractor.

A :class:`ModuleProxy` holds only the allowlisted members of one module (``sandbox.policy``), plus
sub-proxies for allowlisted submodules (``numpy.linalg``, ``skimage.color``). It is read-only, so
``np.mean = evil`` fails, and it never hands out the real module, so ``np.lib``, ``np.os``,
``cv2.imwrite`` or ``skimage.io`` simply do not exist for the extractor.

Proxies are built in the trusted fork server before a child is forked, which pre-imports the
modules (lazy submodules included) so a child starts in milliseconds.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any

import numpy as np

from sandbox import policy


class ModuleProxy:
    """Read-only view of an allowlisted subset of a module's names."""

    __slots__ = ("_proxy_name", "_proxy_members")

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        object.__setattr__(self, "_proxy_name", name)
        object.__setattr__(self, "_proxy_members", MappingProxyType(dict(members)))

    def __getattr__(self, attr: str) -> Any:
        # Reached for IMPORT_FROM (``from x import y``, ``import a.b as c``) and by the guards.
        try:
            return self._proxy_members[attr]
        except KeyError:
            pass
        sub = f"{self._proxy_name}.{attr}"
        if type(attr) is str and sub in policy.ALLOWED_MODULES:
            # allowlisted submodules are built on first use: building every skimage.* proxy
            # up front would import all of scikit-image for an extractor that uses one part
            return get_proxy(sub)
        raise AttributeError(f"{sub} is not in the sandbox allowlist (see sandbox/policy.py)")

    def offers(self, attr: str) -> bool:
        """True when ``attr`` is an allowlisted member or submodule."""
        return attr in self._proxy_members or f"{self._proxy_name}.{attr}" in policy.ALLOWED_MODULES

    def __setattr__(self, attr: str, value: object) -> None:
        raise AttributeError(f"cannot assign {self._proxy_name}.{attr}: modules are read-only in extractors")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError(f"cannot delete {self._proxy_name}.{attr}: modules are read-only in extractors")

    def __dir__(self) -> list[str]:
        prefix = self._proxy_name + "."
        subs = [m[len(prefix):] for m in policy.ALLOWED_MODULES if m.startswith(prefix) and "." not in m[len(prefix):]]
        return sorted({*self._proxy_members, *subs})

    def __repr__(self) -> str:
        return f"<sandboxed module {self._proxy_name}>"


_CACHE: dict[str, ModuleProxy] = {}


def _real_module(name: str) -> Any:
    module = importlib.import_module(name)
    if name == "cv2":
        # One OpenCV thread: deterministic timing and no helper threads inside a jailed child.
        module.setNumThreads(1)
    return module


def get_proxy(name: str) -> ModuleProxy:
    """Return (building once per process) the proxy for an allowlisted module name.

    Raises
    ------
    ImportError
        When ``name`` is not in ``sandbox.policy.ALLOWED_MODULES``.
    """
    cached = _CACHE.get(name)
    if cached is not None:
        return cached
    if name not in policy.ALLOWED_MODULES:
        raise ImportError(f"import of {name!r} is not allowed in extractors")
    module = _real_module(name)
    members: dict[str, Any] = {}
    for member in policy.ALLOWED_MODULES[name]:
        try:
            value = getattr(module, member)
        except AttributeError:  # absent in this library version: simply not offered
            continue
        if isinstance(value, np.ndarray):  # e.g. skimage.color.hed_from_rgb: no poisoning in place
            value = value.copy()
            value.flags.writeable = False
        members[member] = value
    proxy = ModuleProxy(name, members)
    _CACHE[name] = proxy
    return proxy


def preload(names: set[str] | list[str]) -> None:
    """Build the proxies (and their parents) for ``names`` ahead of a fork."""
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            get_proxy(".".join(parts[:i]))


def allowed_value_ids() -> set[int]:
    """``id()`` of every member currently exposed by a proxy (kept alive by the proxies)."""
    ids: set[int] = set()
    for proxy in _CACHE.values():
        ids.update(id(v) for v in proxy._proxy_members.values())
    return ids
