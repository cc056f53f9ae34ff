"""Static layer: pathological sources are rejections with a line and a reason, never crashes."""

from __future__ import annotations

import pytest

from sandbox import check_source, policy
from sandbox.static import contract_problems, docstring_mentions_nan

OK = '"""Doc."""\nimport numpy as np\n\n\ndef extract(image, mask):\n    return {"a": float(np.mean(image))}\n'

PATHOLOGICAL = [
    ("not_text", b"import os", None),
    ("too_big", "#" + "x" * (policy.MAX_SOURCE_BYTES + 10), None),
    ("too_many_lines", "\n" * (policy.MAX_SOURCE_LINES + 5), None),
    ("deep_parens", "x = " + "(" * 100 + "1" + ")" * 100, 1),
    ("deep_lists", "x = " + "[" * 5000, 1),
    ("deep_binop", "x = " + "1+" * 5000 + "1", None),  # parser RecursionError: whole-source reason
    ("deep_unary", "x = " + "-" * 20000 + "1", None),  # parser stack overflow (MemoryError), caught
    ("long_if_chain", "\n".join(f"{' ' * i}if x:" for i in range(120)) + "\n" + " " * 120 + "pass", None),
    ("utf7_cookie", "# coding: utf-7\nx = 1", 1),
    ("latin1_cookie", "#!/usr/bin/python\n# -*- coding: latin-1 -*-\nx = 1", 2),
    ("fullwidth_name", "\uff45\uff56\uff41\uff4c = 1", 1),
    ("cyrillic_a", "m\u0430sk = 1", 1),
    ("rtl_override", "x = 1  # \u202e", 1),
    ("zero_width", "x\u200b = 1", 1),
    ("nul", "x = 1\x00", 1),
    ("lone_surrogate", "x = '\ud800'", 1),
    ("syntax_error", "def extract(:\n", 2),  # the tokenizer reports the EOF line
    ("tab_mess", "if 1:\n\tx = 1\n        y = 2", None),
    ("unterminated", 'x = """abc', None),
    ("aug_subscript", '"""d"""\ndef extract(image, mask):\n    a = [0]\n    a[0] += 1\n    return {}', 4),
    ("class_def", "class A:\n    pass", 1),
    ("global_stmt", "def f():\n    global x\n", 2),
    ("yield", "def f():\n    yield 1", 2),
    ("match", "match x:\n    case 1:\n        pass", 1),
    ("lambda_dunder_default", "f = lambda a=().__class__: a", 1),
]


@pytest.mark.parametrize(("name", "source", "line"), PATHOLOGICAL, ids=[p[0] for p in PATHOLOGICAL])
def test_pathological_sources_are_rejected_cleanly(name: str, source: object, line: int | None) -> None:
    result = check_source(source)
    assert not result.ok
    assert result.reason
    if line is not None:
        assert result.line == line, result


def test_plain_extractor_passes_and_reports_its_modules() -> None:
    result = check_source(OK)
    assert result.ok
    assert result.modules == {"numpy"}


def test_aliases_resolve_through_submodules() -> None:
    ok = check_source('"""d"""\nimport scipy.ndimage as ndi\nfrom skimage import color\n\n'
                      'def extract(image, mask):\n    return {"a": float(ndi.sum(color.rgb2gray(image)))}\n')
    assert ok.ok
    assert ok.modules == {"scipy.ndimage", "skimage", "skimage.color"}
    bad = check_source('"""d"""\nimport numpy as np\n\n\ndef extract(image, mask):\n    np.save("x", image)\n')
    assert not bad.ok
    assert bad.line == 6
    assert "numpy.save" in bad.reason


def test_augmented_subscript_rejection_explains_the_rewrite() -> None:
    result = check_source('"""d"""\ndef extract(image, mask):\n    a = [0]\n    a[0] += 1\n    return {}\n')
    assert "a[i] = a[i] + x" in result.reason


def test_contract_problems() -> None:
    assert contract_problems(OK) == []
    no_doc = contract_problems(OK.replace('"""Doc."""\n', ""))
    assert [p[0] for p in no_doc] == ["docstring"]
    wrong = contract_problems(OK.replace("(image, mask)", "(image, mask, extra)"))
    assert wrong[0][0] == "signature"
    assert "extract(image, mask, extra)" in wrong[0][3]
    assert contract_problems('"""d"""\nx = 1\n')[0][0] == "signature"


def test_docstring_nan_detection() -> None:
    assert docstring_mentions_nan('"""Empty mask: NaN."""\n')
    assert not docstring_mentions_nan('"""Never undefined."""\nx = "nan"\n')


def test_rebound_alias_is_left_to_the_runtime_guard() -> None:
    source = ('"""d"""\nfrom skimage import color\n\ndef extract(image, mask):\n'
              '    color = image.astype(float)\n    return {"a": float(color.mean())}\n')
    assert check_source(source).ok


def test_submodules_reached_by_attribute_are_reported_for_preloading() -> None:
    source = ('"""d"""\nimport skimage\nimport numpy as np\n\ndef extract(image, mask):\n'
              '    g = skimage.filters.sobel(skimage.color.rgb2gray(image))\n'
              '    return {"a": float(np.linalg.norm(g))}\n')
    result = check_source(source)
    assert result.ok
    assert {"skimage.filters", "skimage.color", "numpy.linalg"} <= result.modules


def test_compiler_only_syntax_errors_are_rejections() -> None:
    # found by the property test: valid AST, SyntaxError only in the bytecode compiler
    result = check_source("*1")
    assert not result.ok
    assert result.line == 1
