"""Bounded YAML: ``yaml.SafeLoader`` plus limits on size, aliases, nesting and expanded size.

A YAML alias (``*a``) shares one node, so a 349-byte file of nine nested alias levels is a tree of
9**9 nodes for anyone who walks or copies it (pydantic, a recursive key walk): gigabytes and
minutes. Criteria files (and every other YAML scafe reads) are small hand-written documents, so
the limits below are far above real use and far below harm:

* the text is at most ``MAX_YAML_BYTES``;
* at most ``MAX_ALIASES`` alias references (the shipped criteria use none);
* nesting at most ``MAX_DEPTH`` levels;
* the document *as if every alias were expanded* has at most ``MAX_EXPANDED_NODES`` nodes.

Breaking one raises :class:`YAMLLimitError`, a ``yaml.MarkedYAMLError`` (so callers that already
report YAML syntax errors with a line number report these the same way). Only the SafeLoader's
tags are constructed: no Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_YAML_BYTES", "BoundedSafeLoader",
           "YAMLLimitError", "compose_and_load", "safe_load"]

MAX_YAML_BYTES = 512 * 1024
MAX_ALIASES = 32
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000


class YAMLLimitError(yaml.MarkedYAMLError):
    """The document breaks one of this module's limits (``problem`` says which and how to fix it)."""


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases and nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLLimitError(problem=f"more than {MAX_ALIASES} aliases (*name); write the values out "
                                     "instead of referencing anchors", problem_mark=self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLLimitError(problem=f"nested deeper than {MAX_DEPTH} levels",
                                     problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node) -> int:
    """Nodes in the tree with every alias expanded (memoised per shared node, so it is cheap)."""
    sizes: dict[int, int] = {}

    def size(current: yaml.Node) -> int:
        key = id(current)
        if key not in sizes:
            sizes[key] = 0  # a recursive alias counts as one node here (the constructor refuses it anyway)
            if isinstance(current, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in current.value)
            elif isinstance(current, yaml.SequenceNode):
                total = 1 + sum(size(item) for item in current.value)
            else:
                total = 1
            sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
        return sizes[key]

    return size(node)


def compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """``(node graph, data)`` of one YAML document within the limits; ``YAMLLimitError`` otherwise."""
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise YAMLLimitError(problem=f"the file is larger than {MAX_YAML_BYTES // 1024} KiB")
    loader = BoundedSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if _expanded_size(node) > MAX_EXPANDED_NODES:
            raise YAMLLimitError(problem=f"with its aliases expanded the document has more than "
                                 f"{MAX_EXPANDED_NODES} nodes (an alias bomb?)", problem_mark=node.start_mark)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def safe_load(text: str) -> Any:
    """Like ``yaml.safe_load`` for one document, within the limits."""
    return compose_and_load(text)[1]
