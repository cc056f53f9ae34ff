"""Static layer: reject a candidate source before any of it runs.

Checks, cheapest first, each giving a line number and a reason the repair prompt can show:

1. size caps (bytes, lines), NUL bytes, Trojan-source characters (bidi overrides, zero-width);
2. encoding declarations other than UTF-8 (``# coding: utf-7`` style disguises);
3. token scan: bracket nesting depth, identifiers must be ASCII (NFKC folds ``ｅｘｅｃ`` into ``exec``);
4. ``ast.parse`` guarded against ``RecursionError``/``MemoryError``, then an iterative walk that
   allows only the node types in :data:`sandbox.policy.ALLOWED_AST_NODES`, refuses dangerous or
   underscore names/attributes, and resolves ``alias.attr`` chains against the module allowlist;
5. RestrictedPython ``compile_restricted_exec`` (our second, independent parser of the rules).

Nothing here executes the candidate. Any checker exception becomes a rejection, never a crash.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from sandbox import policy

_CODING_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_TROJAN_CHARS = {
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
}
_RP_LINE_RE = re.compile(r"Line (\d+)")


@dataclass
class StaticResult:
    """Result of :func:`check_source`.

    Attributes
    ----------
    ok : bool
        True when the source passed every static check.
    line : int or None
        1-based line of the first problem.
    reason : str or None
        What was refused and what to do instead.
    modules : set of str
        Allowed modules the source imports (the fork server pre-imports them).
    """

    ok: bool
    line: int | None = None
    reason: str | None = None
    modules: set[str] = field(default_factory=set)


def _reject(line: int | None, reason: str) -> StaticResult:
    return StaticResult(ok=False, line=line, reason=reason)


def check_source(source: object) -> StaticResult:
    """Run every static check on ``source``; never raises for bad input."""
    try:
        return _check(source)
    except (RecursionError, MemoryError) as exc:  # pathological input beat a guard below
        return _reject(None, f"source too complex to analyse safely ({type(exc).__name__}); simplify it")


def _check(source: object) -> StaticResult:
    if not isinstance(source, str):
        return _reject(None, f"source must be text (str), got {type(source).__name__}")
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > policy.MAX_SOURCE_BYTES:
        return _reject(None, f"source is {size} bytes; the limit is {policy.MAX_SOURCE_BYTES}")
    lines = source.splitlines()
    if len(lines) > policy.MAX_SOURCE_LINES:
        return _reject(None, f"source has {len(lines)} lines; the limit is {policy.MAX_SOURCE_LINES}")
    for number, text in enumerate(lines, start=1):
        if "\x00" in text:
            return _reject(number, "NUL byte in source")
        bad = _TROJAN_CHARS.intersection(text)
        if bad:
            codes = ", ".join(f"U+{ord(c):04X}" for c in sorted(bad))
            return _reject(number, f"invisible/bidirectional control character {codes}; remove it")
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            return _reject(number, "lone surrogate character in source")
        if number <= 2:
            match = _CODING_RE.match(text)
            if match and match.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
                return _reject(number, f"encoding declaration {match.group(1)!r}; only UTF-8 is allowed")
    problem = _scan_tokens(source)
    if problem:
        return problem
    try:
        tree = ast.parse(source, filename="<extractor>")
    except SyntaxError as exc:
        return _reject(exc.lineno, f"syntax error: {exc.msg}")
    except (ValueError, OverflowError) as exc:
        return _reject(None, f"source cannot be parsed: {exc}")
    result = _walk(tree)
    if not result.ok:
        return result
    return _restricted_compile_check(source, result)


def _scan_tokens(source: str) -> StaticResult | None:
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                if depth > policy.MAX_BRACKET_DEPTH:
                    return _reject(tok.start[0], f"brackets nested deeper than {policy.MAX_BRACKET_DEPTH}")
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.NAME and not tok.string.isascii():
                return _reject(tok.start[0], f"non-ASCII identifier {tok.string!r}; use ASCII names")
            elif tok.type == tokenize.ERRORTOKEN and not tok.string.isspace():
                return _reject(tok.start[0], f"invalid token {tok.string!r} (an unterminated string or a stray character)")
            elif tok.type not in (tokenize.STRING, tokenize.COMMENT) and not tok.string.isascii():
                return _reject(tok.start[0], f"non-ASCII text {tok.string!r} outside strings/comments")
    except (tokenize.TokenError, SyntaxError) as exc:
        line = exc.args[1][0] if len(exc.args) > 1 and isinstance(exc.args[1], tuple) else None
        return _reject(line, f"cannot tokenize source: {exc.args[0]}")
    return None


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ``['a', 'b', 'c']``; None when the chain does not start at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _check_import(node: ast.Import | ast.ImportFrom, aliases: dict[str, str], modules: set[str]) -> str | None:
    allowed = policy.ALLOWED_MODULES
    if isinstance(node, ast.Import):
        for item in node.names:
            if item.name not in allowed:
                return f"import of {item.name!r} is not allowed; allowed modules: {', '.join(sorted(allowed))}"
            modules.add(item.name)
            if item.asname:
                aliases[item.asname] = item.name
            else:
                aliases[item.name.split(".")[0]] = item.name.split(".")[0]
        return None
    if node.level:
        return "relative imports are not allowed"
    module = node.module or ""
    if module not in allowed:
        return f"import from {module!r} is not allowed; allowed modules: {', '.join(sorted(allowed))}"
    modules.add(module)
    for item in node.names:
        if item.name == "*":
            return f"'from {module} import *' is not allowed; import the names you use"
        sub = f"{module}.{item.name}"
        if sub in allowed:
            modules.add(sub)
            aliases[item.asname or item.name] = sub
        elif item.name not in allowed[module]:
            return f"{module}.{item.name} is not in the sandbox allowlist (see sandbox/policy.py)"
    return None


def _check_chain(parts: list[str], aliases: dict[str, str], modules: set[str]) -> str | None:
    module = aliases.get(parts[0])
    if module is None:
        return None
    for attr in parts[1:]:
        sub = f"{module}.{attr}"
        if sub in policy.ALLOWED_MODULES:
            module = sub
            modules.add(sub)  # ``skimage.filters.sobel``: the fork server preloads skimage.filters
            continue
        if attr not in policy.ALLOWED_MODULES[module]:
            return f"{module}.{attr} is not in the sandbox allowlist (see sandbox/policy.py)"
        return None
    return None


def _walk(tree: ast.Module) -> StaticResult:
    aliases: dict[str, str] = {}
    modules: set[str] = set()
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    attributes: list[ast.Attribute] = []
    assigned: set[str] = set()  # names rebound by assignment or as arguments
    while stack:  # iterative: a recursive walk would overflow on deep trees
        node, depth = stack.pop()
        count += 1
        line = getattr(node, "lineno", None)
        if count > policy.MAX_AST_NODES:
            return _reject(line, f"source has more than {policy.MAX_AST_NODES} syntax nodes")
        if depth > policy.MAX_AST_DEPTH:
            return _reject(line, f"expression nested deeper than {policy.MAX_AST_DEPTH}")
        kind = type(node).__name__
        if kind not in policy.ALLOWED_AST_NODES:
            return _reject(line, f"{kind} statements/expressions are not allowed in extractors")
        reason = None
        if isinstance(node, ast.Name):
            reason = _name_problem(node.id, throwaway_ok=True)
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
        elif isinstance(node, ast.arg):
            reason = _name_problem(node.arg, throwaway_ok=True)
            assigned.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            reason = _name_problem(node.name) or ("decorators are not allowed" if node.decorator_list else None)
        elif isinstance(node, ast.Attribute):
            reason = _attr_problem(node.attr)
            attributes.append(node)
        elif isinstance(node, ast.keyword) and node.arg:
            reason = "keyword names starting with '_' are not allowed" if node.arg.startswith("_") else None
        elif isinstance(node, ast.ExceptHandler) and node.name:
            reason = _name_problem(node.name, throwaway_ok=True)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            reason = _check_import(node, aliases, modules)
        if reason:
            return _reject(line, reason)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    for node in attributes:  # after the walk, so aliases from later imports are known too
        parts = _dotted(node)
        # a module alias that is also rebound (``color = ...``) may name a plain value here;
        # such chains are left to the runtime guard, which refuses module members precisely
        reason = _check_chain(parts, aliases, modules) if parts and parts[0] not in assigned else None
        if reason:
            return _reject(node.lineno, reason)
    return StaticResult(ok=True, modules=modules)


def _name_problem(name: str, *, throwaway_ok: bool = False) -> str | None:
    if throwaway_ok and name == policy.THROWAWAY_NAME:
        return None
    if name.startswith("_"):
        return f"names starting with '_' are not allowed ({name!r})"
    if name in policy.DANGEROUS_NAMES:
        return f"{name!r} is not available in extractors"
    return None


def _attr_problem(attr: str) -> str | None:
    if attr.startswith("_"):
        return f"attributes starting with '_' are not allowed ({attr!r})"
    if attr in policy.DANGEROUS_ATTRIBUTES:
        return f"attribute {attr!r} is not allowed in extractors"
    return None


def _restricted_compile_check(source: str, result: StaticResult) -> StaticResult:
    from RestrictedPython import compile_restricted_exec

    try:
        compiled = compile_restricted_exec(source, filename="<extractor>")
    except SyntaxError as exc:  # e.g. '*1': parses as an AST, fails in the compiler
        return _reject(exc.lineno, f"syntax error: {exc.msg}")
    except (ValueError, TypeError) as exc:
        return _reject(None, f"source cannot be compiled: {exc}")
    if compiled.errors:
        message = compiled.errors[0]
        match = _RP_LINE_RE.search(message)
        hint = ""
        if "AugAssign" in message or "augmented" in message.lower():
            hint = " (write 'a[i] = a[i] + x' instead of 'a[i] += x')"
        return _reject(int(match.group(1)) if match else None, f"restricted compile: {message}{hint}")
    if compiled.code is None:
        return _reject(None, "restricted compile produced no code")
    return result


def restricted_compile(source: str):
    """Compile an already checked source with RestrictedPython; returns a code object."""
    from RestrictedPython import compile_restricted_exec

    compiled = compile_restricted_exec(source, filename="<extractor>")
    if compiled.errors or compiled.code is None:
        raise SyntaxError("; ".join(compiled.errors) or "restricted compile failed")
    return compiled.code


def contract_problems(source: str) -> list[tuple[str, int | None, str, str]]:
    """Contract checks on the text: ``(check, line, expected, got)`` per problem.

    The module needs a docstring and a top-level ``def extract(image, mask)``.
    """
    tree = ast.parse(source)
    problems: list[tuple[str, int | None, str, str]] = []
    if not ast.get_docstring(tree):
        problems.append(("docstring", 1, "a module docstring (criterion, formula, range, NaN policy)", "none"))
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "extract"]
    if not funcs:
        problems.append(("signature", None, "a top-level 'def extract(image, mask):'", "no extract function"))
    else:
        args = funcs[0].args
        names = [a.arg for a in args.posonlyargs + args.args]
        if names != ["image", "mask"] or args.vararg or args.kwarg or args.kwonlyargs:
            problems.append(("signature", funcs[0].lineno, "extract(image, mask)", f"extract({', '.join(names)})"))
    return problems


def docstring_mentions_nan(source: str) -> bool:
    """True when the module docstring says the extractor may return NaN."""
    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return False
    return "nan" in doc.lower()
