"""State and run context of the feature-engineer graph.

Two state shapes: :class:`EngineerState` for the whole run (criteria → plans → results) and
:class:`SpecState` for one feature spec's write → validate → repair loop (a subgraph reached by
``Send``). They share the ``results`` channel, whose reducer merges dicts, so every spec's
outcome flows back into the run state. Everything in state is plain JSON-able data (it is
checkpointed in SQLite); live objects (the LLM client, the run log) travel in
:class:`EngineerContext`, which LangGraph passes to nodes as ``runtime.context`` and never stores.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

if TYPE_CHECKING:
    from agents.engineer.runlog import RunLog
    from agents.engineer.usefulness import UsefulnessSettings
    from agents.llm import LLMClient


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: later keys win (parallel branches write disjoint keys)."""
    return {**(left or {}), **(right or {})}


class EngineerInput(TypedDict):
    """What a run starts from (the narrow input state)."""

    criteria_path: str
    items: list[str]


class EngineerState(TypedDict, total=False):
    """The whole run.

    ``plans``: item id → list of feature-spec dicts. ``results``: ``"<item>/<spec>"`` (or
    ``"<item>"`` when no spec got that far) → result dict (see ``nodes.result_record``).
    """

    criteria_path: str
    items: list[str]
    plans: Annotated[dict[str, list[dict[str, Any]]], merge_dicts]
    results: Annotated[dict[str, dict[str, Any]], merge_dicts]


class PlanTask(TypedDict):
    """Payload of one ``Send("plan_item", ...)``."""

    criteria_path: str
    item_id: str


class SpecState(TypedDict, total=False):
    """One feature spec on its way to the library.

    ``attempt`` counts code-producing LLM calls so far (write = 1, each repair + 1). ``failure``
    is the text the next repair prompt shows (``None`` once validation passed); ``stop`` is set
    when the spec cannot continue at all (budget spent, endpoint down).
    """

    criteria_file: str
    item_id: str
    spec: dict[str, Any]
    plan_tokens: int
    attempt: int
    max_attempts: int
    code: str | None
    failure: str | None
    failure_kind: str
    stop: str | None
    contract: dict[str, Any] | None
    criterion: dict[str, Any] | None
    output_key: str | None
    usefulness: dict[str, Any] | None
    prompt_sha256: str
    tokens: Annotated[int, operator.add]
    history: Annotated[list[dict[str, Any]], operator.add]
    results: Annotated[dict[str, dict[str, Any]], merge_dicts]


class SpecOutput(TypedDict):
    """What a finished spec hands back to the run: only its result row (nothing else may leak
    into the parent, where keys like ``item_id`` would collide between parallel specs)."""

    results: Annotated[dict[str, dict[str, Any]], merge_dicts]


@dataclass
class EngineerContext:
    """Live objects and settings for one run (``runtime.context``; never checkpointed).

    Parameters
    ----------
    llm : LLMClient
        The configured client (tests pass one pointed at the scripted server).
    run : RunLog
        Writer of ``runs/<run_id>/``.
    library_dir : Path or None
        Feature library to register into (``None``: ``scafe.paths.library_dir()``).
    attempts : int
        Code-producing LLM calls allowed per spec (write + repairs).
    plan_attempts : int
        Plan calls allowed per item (unparseable JSON is retried with the parse error).
    activate : bool
        Activate accepted versions instead of registering them inactive.
    usefulness : UsefulnessSettings or None
        How to score usefulness; ``None`` skips it (reported as not computed).
    progress : callable, optional
        ``progress(event, fields)`` for a CLI progress display.
    """

    llm: LLMClient
    run: RunLog
    library_dir: Path | None = None
    attempts: int = 3
    plan_attempts: int = 2
    activate: bool = False
    usefulness: UsefulnessSettings | None = None
    progress: Callable[[str, dict[str, Any]], None] | None = field(default=None, repr=False)

    def notify(self, event: str, **fields: Any) -> None:
        """Log an event to ``events.jsonl`` and tell the progress display."""
        self.run.event(event=event, **fields)
        if self.progress is not None:
            self.progress(event, fields)
