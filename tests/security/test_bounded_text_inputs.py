"""Issue 12 items 6-7: bounded criteria YAML (SafeLoader kept) and sandboxed prompt templates."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from scafe.criteria import load_criteria, validate_criteria_file
from scafe.errors import CriteriaError

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + k)}: &{chr(98 + k)} [" + ", ".join([f"*{chr(97 + k)}"] * 9) + "]\n" for k in range(8))


def test_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "vss.yaml"
    path.write_text("title: t\nitems: []\n" + BOMB)
    assert len(BOMB) < 400
    started = time.process_time()  # CPU, not wall: a loaded machine's queue is not what this measures
    criteria, problems = validate_criteria_file(path)
    assert time.process_time() - started < 5  # generous: the unbounded walk takes minutes / GBs
    assert criteria is None
    assert any("alias" in p for p in problems), problems
    with pytest.raises(CriteriaError, match="alias"):
        load_criteria(path)


def test_a_few_aliases_are_still_fine():
    from scafe.safe_yaml import safe_load

    assert safe_load("a: &x [1, 2]\nb: *x\nc: *x\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_oversized_yaml_is_refused(tmp_path):
    path = tmp_path / "vss.yaml"
    path.write_text("title: t\nitems: []\n# " + "x" * (600 * 1024) + "\n")
    criteria, problems = validate_criteria_file(path)
    assert criteria is None
    assert any("KiB" in p for p in problems), problems


def test_deep_nesting_is_refused():
    import yaml

    from scafe.safe_yaml import YAMLLimitError, safe_load

    with pytest.raises(YAMLLimitError, match="deeper"):
        safe_load("a: " + "[" * 500 + "]" * 500)
    assert isinstance(YAMLLimitError("x"), yaml.YAMLError)


def test_python_tags_still_refused():
    import yaml

    from scafe.safe_yaml import safe_load

    with pytest.raises(yaml.YAMLError):
        safe_load("a: !!python/object/apply:os.system ['echo pwned']")


def _templates(tmp_path: Path, project_root: Path, name: str, text: str) -> Path:
    shutil.copytree(project_root / "prompts", tmp_path / "prompts")
    (tmp_path / "prompts" / "templates" / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.popen('echo PWNED').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ item.__class__.__init__.__globals__ }}",
])
def test_templates_cannot_reach_python_internals(tmp_path, project_root, payload):
    from scafe import prompting
    from scafe.criteria import find_item

    root = _templates(tmp_path, project_root, "plan.j2", payload)
    prompting.template_environment.cache_clear()
    criteria, item = find_item("vss/vascularity", root)
    with pytest.raises(CriteriaError) as info:
        prompting.render("plan", item=item, criteria=criteria, root=root)
    assert "PWNED" not in str(info.value)


def test_template_environment_is_immutable_sandbox_with_strict_undefined(tmp_path):
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from scafe import prompting

    env = prompting.template_environment(str(tmp_path))
    assert isinstance(env, ImmutableSandboxedEnvironment)
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{% set x = [] %}{{ x.append(1) }}").render()
