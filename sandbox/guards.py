"""Runtime guards handed to RestrictedPython-compiled extractor code.

RestrictedPython rewrites ``a.b`` to ``_getattr_(a, "b")``, ``a[k]`` to ``_getitem_(a, k)``,
``a[k] = v`` / ``a.b = v`` to ``_write_(a)[k] = v``, loops to ``_getiter_``, unpacking to
``_(iter_)unpack_sequence_``, ``x += y`` to ``_inplacevar_``, ``print`` to ``_print_`` and
``f(*a, **k)`` to ``_apply_``. All eight are ours (RestrictedPython's ``full_write_guard``
would refuse ndarray item writes; ``limited_builtins`` caps ``range`` at 1000 items).

Every refusal is also recorded in :data:`VIOLATIONS` with the extractor line, so code that
catches the exception (``except Exception: pass``) is still reported as ``rejected``.
"""

from __future__ import annotations

import builtins as _builtins
import dis
import operator
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.PrintCollector import PrintCollector

from sandbox import policy
from sandbox.proxies import ModuleProxy, allowed_value_ids, get_proxy

EXTRACTOR_FILENAME = "<extractor>"

# (line, reason) of every policy refusal in this process (a child serves one extractor only).
VIOLATIONS: list[tuple[int | None, str]] = []


class PolicyViolation(AttributeError):
    """Raised when extractor code reaches for something the policy refuses."""


class ImportRefused(ImportError):
    """Raised by the import hook for modules or names outside the allowlist."""


def extractor_line() -> int | None:
    """Line of the innermost extractor frame on the current stack."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == EXTRACTOR_FILENAME:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _refuse(reason: str, exc_type: type[Exception] = PolicyViolation) -> Exception:
    reason = reason if len(reason) <= 500 else reason[:500] + "..."  # names/keys may be huge strings
    VIOLATIONS.append((extractor_line(), reason))
    return exc_type(reason)


_FORBIDDEN_VALUE_TYPES = (
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.CellType,
    type,
)


_DATA_TYPES = (dict, list, tuple, set, frozenset, str, bytes, int, float, complex, bool)


def make_getattr(allowed_ids: set[int]) -> Callable[..., Any]:
    """Build ``_getattr_``; ``allowed_ids`` are ids of allowlisted proxy members (types included)."""

    def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
        if type(name) is not str or name.startswith("_"):
            raise _refuse(f"attribute {name!r} is not allowed in extractors")
        if name in policy.DANGEROUS_ATTRIBUTES:
            raise _refuse(f"attribute {name!r} is not allowed in extractors")
        if type(obj) is ModuleProxy:
            try:
                return getattr(obj, name)
            except AttributeError as exc:
                raise _refuse(str(exc)) from None
        if isinstance(obj, types.ModuleType):  # a real module leaked somehow: nothing of it is usable
            raise _refuse(f"attribute {name!r} of a module outside the allowlist is not allowed")
        value = getattr(obj, name, *default)
        if id(value) in allowed_ids:
            return value
        if isinstance(value, _FORBIDDEN_VALUE_TYPES):
            raise _refuse(f"attribute {name!r} gives a {type(value).__name__}; not allowed in extractors")
        if isinstance(value, types.BuiltinFunctionType | types.FunctionType):
            owner = getattr(value, "__self__", None)
            # Module-level functions reached sideways (e.g. posix.system) are refused; bound
            # methods of ordinary objects (arr.sum) have a non-module __self__ and pass, and so
            # do classmethods of plain data types (dict.fromkeys, int.from_bytes).
            if isinstance(owner, type) and owner in _DATA_TYPES:  # never '==' on arrays
                return value
            if owner is None or isinstance(owner, types.ModuleType | type):
                raise _refuse(f"attribute {name!r} gives a function outside the allowlist")
        return value

    return guarded_getattr


_INTERNAL_TYPES = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType, types.CellType)


def make_getitem(allowed_ids: set[int]) -> Callable[[Any, Any], Any]:
    """Build ``_getitem_``.

    Some library objects turn ``obj["name"]`` into ``getattr(obj, "name")`` (skimage's
    ``RegionProperties``), so underscore string keys are refused on anything but a dict, and an
    item may not be a module/frame/code object or a type outside the allowlist.
    """

    def guarded_getitem(obj: Any, key: Any) -> Any:
        if type(obj) is ModuleProxy:
            raise _refuse("modules are not subscriptable")
        if type(key) is str and key.startswith("_") and not isinstance(obj, dict):
            raise _refuse(f"item {key!r}: keys starting with '_' are not allowed on {type(obj).__name__}")
        value = obj[key]
        if isinstance(value, _INTERNAL_TYPES) or (isinstance(value, type) and id(value) not in allowed_ids):
            raise _refuse(f"item {key!r} is a {type(value).__name__}; not allowed in extractors")
        return value

    return guarded_getitem


def guarded_write(obj: Any) -> Any:
    """Allow item/attribute writes on ndarrays, dicts and lists only (exact or subclasses)."""
    if isinstance(obj, np.ndarray | dict | list) and type(obj) is not ModuleProxy:
        return obj
    raise _refuse(f"writing into a {type(obj).__name__} is not allowed; only arrays, dicts and lists")


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "@=": operator.imatmul,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior,
    "^=": operator.ixor,
}


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """``x op= y`` for plain names."""
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise _refuse(f"augmented operator {op!r} is not supported") from None


class CappedPrintCollector(PrintCollector):
    """``print`` inside an extractor: collected, capped, never written anywhere."""

    def write(self, text: str) -> None:
        if sum(len(t) for t in self.txt) < policy.MAX_PRINT_CHARS:
            self.txt.append(text[: policy.MAX_PRINT_CHARS])


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``f(*args, **kwargs)`` as rewritten by RestrictedPython."""
    return func(*args, **kwargs)


_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
# Top-level packages that C code called directly from an extractor may import lazily (numpy
# ndarray methods import numpy._core helpers; conversions may touch these stdlib modules).
_LIBRARY_PACKAGES = frozenset({"numpy", "scipy", "skimage", "cv2", "copyreg", "warnings", "datetime",
                               "decimal", "fractions", "numbers"})


def _called_by_import_statement() -> bool:
    """True when the hook runs for an ``import`` statement of the extractor itself.

    numpy/scipy C code imports helpers (``numpy._core._methods`` for ``arr.any()``) through the
    *current frame's* ``__import__``, i.e. ours, while the extractor frame is executing a call.
    Those internal imports go to the real importer; the extractor's own statements (the frame is
    at an IMPORT_NAME instruction) get the allowlist and proxies. Extractor code cannot call the
    hook directly: ``__import__``/``__builtins__`` are unreachable names.
    """
    frame = sys._getframe(2)
    code = frame.f_code
    return code.co_filename == EXTRACTOR_FILENAME and code.co_code[frame.f_lasti] == _IMPORT_NAME


def import_hook(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """``__import__`` for extractor code: allowlisted modules only, as proxies."""
    if (
        type(name) is str
        and name.split(".")[0] in _LIBRARY_PACKAGES
        and not _called_by_import_statement()
    ):
        return _builtins.__import__(name, globals_, locals_, fromlist, level)
    if level:
        raise _refuse("relative imports are not allowed", ImportRefused)
    if type(name) is not str or name not in policy.ALLOWED_MODULES:
        raise _refuse(
            f"import of {name!r} is not allowed; allowed: {', '.join(sorted(policy.ALLOWED_MODULES))}",
            ImportRefused,
        )
    leaf = get_proxy(name)
    for item in fromlist or ():
        if type(item) is not str or item == "*":
            raise _refuse("'import *' is not allowed", ImportRefused)
        if not leaf.offers(item):
            raise _refuse(f"{name}.{item} is not in the sandbox allowlist", ImportRefused)
    if fromlist:
        return leaf
    return get_proxy(name.split(".")[0])


def safe_builtins() -> dict[str, Any]:
    """The explicit builtins allowlist plus our import hook."""
    table = {n: getattr(_builtins, n) for n in policy.SAFE_BUILTIN_NAMES}
    table.update(isinstance=isinstance, issubclass=issubclass)
    table["__import__"] = import_hook
    return table


def restricted_globals() -> dict[str, Any]:
    """Fresh globals for one extractor module (after its proxies have been preloaded)."""
    ids = allowed_value_ids()
    return {
        "__builtins__": safe_builtins(),
        "__name__": "extractor",
        "_getattr_": make_getattr(ids),
        "_getitem_": make_getitem(ids),
        "_write_": guarded_write,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": guarded_inplacevar,
        "_print_": CappedPrintCollector,
        "_apply_": guarded_apply,
    }
