"""The runtime guards on their own (called directly, in-process: they run no untrusted code)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from sandbox import guards
from sandbox.proxies import get_proxy, preload


@pytest.fixture
def getattr_():
    preload(["numpy", "math"])
    guards.VIOLATIONS.clear()
    yield guards.restricted_globals()["_getattr_"]
    guards.VIOLATIONS.clear()


def test_getattr_refuses_internals_and_records_them(getattr_) -> None:
    with pytest.raises(guards.PolicyViolation):
        getattr_(np.ones(2), "ctypes")
    with pytest.raises(guards.PolicyViolation):
        getattr_(os, "getcwd")  # a real module, however it was reached
    with pytest.raises(guards.PolicyViolation):
        getattr_(np.dtype("datetime64[s]"), "type")  # a type outside the allowlist
    assert getattr_(np.ones(2).dtype, "type") is np.float64  # allowlisted types pass
    assert len(guards.VIOLATIONS) == 3


def test_getattr_allows_ordinary_attributes(getattr_) -> None:
    arr = np.arange(4.0)
    assert getattr_(arr, "shape") == (4,)
    assert getattr_(arr, "sum")() == 6.0
    assert getattr_(get_proxy("numpy"), "mean") is np.mean
    assert getattr_(get_proxy("numpy").linalg, "norm") is np.linalg.norm
    assert getattr_(dict, "fromkeys")("ab") == {"a": None, "b": None}


def test_getitem_refuses_modules_frames_types_and_private_keys() -> None:
    getitem = guards.make_getitem(set())
    with pytest.raises(guards.PolicyViolation):
        getitem({"m": sys}, "m")
    with pytest.raises(guards.PolicyViolation):
        getitem([sys._getframe()], 0)
    with pytest.raises(guards.PolicyViolation):
        getitem([int], 0)
    with pytest.raises(guards.PolicyViolation):
        getitem(np.zeros(1, dtype=[("_x", "f8")]), "_x")
    assert getitem([1, 2], 1) == 2
    assert getitem({"_private": 3}, "_private") == 3  # plain dict keys are data


def test_write_guard_allows_arrays_dicts_lists_only() -> None:
    for ok in (np.zeros(2), {}, []):
        assert guards.guarded_write(ok) is ok
    for bad in (get_proxy("numpy"), np.finfo(np.float64), (1, 2), "text"):
        with pytest.raises(guards.PolicyViolation):
            guards.guarded_write(bad)


def test_builtins_are_an_explicit_allowlist() -> None:
    table = guards.safe_builtins()
    for name in ("open", "eval", "exec", "getattr", "type", "vars", "globals", "compile", "input"):
        assert name not in table
    assert table["range"](10_000)[-1] == 9_999  # no 1000-item cap
    assert table["__import__"] is guards.import_hook


def test_inplace_operators() -> None:
    assert guards.guarded_inplacevar("+=", 2, 3) == 5
    arr = np.ones(2)
    assert guards.guarded_inplacevar("*=", arr, 2) is arr
    with pytest.raises(guards.PolicyViolation):
        guards.guarded_inplacevar("?=", 1, 1)
