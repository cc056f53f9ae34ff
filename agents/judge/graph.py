"""Wiring of the judge chain (HCR); nodes and routing live in ``nodes.py``.

::

    START -> knowledge_recall -> visual_feature_analysis -> anatomical_inference -> clinical_synthesis -> END
                   |                     |                          |
                   +---------------------+--------------------------+--> END  (a stage failed: uncertain)
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.judge import nodes
from agents.judge.state import JudgeContext, JudgeInput, JudgeState


def build_graph() -> Any:
    """The four-stage chain, compiled (no checkpointer: one judgement is a few calls)."""
    builder = StateGraph(JudgeState, input_schema=JudgeInput, context_schema=JudgeContext)
    builder.add_node("knowledge_recall", nodes.knowledge_recall)
    builder.add_node("visual_feature_analysis", nodes.visual_feature_analysis)
    builder.add_node("anatomical_inference", nodes.anatomical_inference)
    builder.add_node("clinical_synthesis", nodes.clinical_synthesis)
    builder.add_edge(START, "knowledge_recall")
    builder.add_conditional_edges("knowledge_recall", nodes.route_after_recall, ["visual_feature_analysis", END])
    builder.add_conditional_edges("visual_feature_analysis", nodes.route_after_analysis, ["anatomical_inference", END])
    builder.add_conditional_edges("anatomical_inference", nodes.route_after_inference, ["clinical_synthesis", END])
    builder.add_edge("clinical_synthesis", END)
    return builder.compile()


graph = build_graph()
