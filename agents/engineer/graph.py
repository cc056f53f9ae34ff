"""Wiring of the feature-engineer graph (nodes and routing live in ``nodes.py``).

::

    START → load_criteria ─(Send per item)→ plan_item → dispatch ─(Send per spec)→ develop → finish → END

    develop (subgraph, one per spec):
    START → write → validate ─ route_validation ─┬─ evaluate → register → END
                       ▲                         ├─ repair ──┐
                       └─────────────────────────┼───────────┘
                                                 └─ give_up → END
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.engineer import nodes
from agents.engineer.state import (
    EngineerContext,
    EngineerInput,
    EngineerState,
    SpecOutput,
    SpecState,
)


def build_spec_graph() -> Any:
    """The per-spec write → validate → repair loop (compiled; inherits the parent's checkpointer)."""
    builder = StateGraph(SpecState, output_schema=SpecOutput, context_schema=EngineerContext)
    builder.add_node("write", nodes.write_code)
    builder.add_node("validate", nodes.validate_code)
    builder.add_node("repair", nodes.repair_code)
    builder.add_node("evaluate", nodes.evaluate)
    builder.add_node("register", nodes.register)
    builder.add_node("give_up", nodes.give_up)
    builder.add_edge(START, "write")
    builder.add_edge("write", "validate")
    builder.add_edge("repair", "validate")
    builder.add_conditional_edges("validate", nodes.route_validation, ["evaluate", "repair", "give_up"])
    builder.add_edge("evaluate", "register")
    builder.add_edge("register", END)
    builder.add_edge("give_up", END)
    return builder.compile()


def build_graph(checkpointer: Any = None) -> Any:
    """The whole run; pass a ``SqliteSaver`` to make it resumable."""
    builder = StateGraph(EngineerState, input_schema=EngineerInput, context_schema=EngineerContext)
    builder.add_node("load_criteria", nodes.load_criteria)
    builder.add_node("plan_item", nodes.plan_item)
    builder.add_node("dispatch", nodes.dispatch)
    builder.add_node("develop", build_spec_graph())
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "load_criteria")
    builder.add_conditional_edges("load_criteria", nodes.route_plans, ["plan_item", "dispatch"])
    builder.add_edge("plan_item", "dispatch")
    builder.add_conditional_edges("dispatch", nodes.route_specs, ["develop", "finish"])
    builder.add_edge("develop", "finish")
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=checkpointer)


graph = build_graph()
