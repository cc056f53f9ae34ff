"""``llm-image`` and ``llm-features``: an LLM asked directly (seed 003's warning, seed 002's idea).

- ``llm-image``: the photograph (mask outline drawn in cyan, since every other method sees the
  mask) with the ``classify_image`` prompt;
- ``llm-features``: the case's named library features, each described by its criterion item,
  with the ``classify_features`` prompt (seed 002 fed named radiomics features to an LLM).

Both are zero-shot: they do not learn from the training subsets, so they are evaluated once and
reported at ``n_train = 0``, on the first ``max_cases`` test cases (LLM calls are slow and paid).
The reply must be ``{"label": ..., "confidence": c}``; ``p(keloid) = c`` for a keloid label and
``1 - c`` otherwise. An unparseable reply or a failed call gives NaN, which the metrics count as a
wrong answer (never as a guess).

The client is passed in (anything with ``chat(messages, *, images=None, max_tokens=None)``
returning an object with ``.text``); this module does not import ``agents`` (layering).
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from scafe.evaluation.methods import LLM_FEATURES, LLM_IMAGE

MAX_CASES = 100
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def parse_reply(text: str | None) -> float:
    """Keloid probability from a ``{"label", "confidence"}`` reply; NaN when unusable."""
    if not text:
        return math.nan
    match = _JSON.search(text)
    if not match:
        return math.nan
    try:
        obj = json.loads(match.group(0))
        label = str(obj["label"]).strip().lower()
        conf = float(obj.get("confidence", 1.0))
    except (ValueError, KeyError, TypeError):
        return math.nan
    if label not in ("keloid", "hypertrophic") or not 0.0 <= conf <= 1.0:
        return math.nan
    return conf if label == "keloid" else 1.0 - conf


def _png(image: np.ndarray, mask: np.ndarray) -> bytes:
    from PIL import Image
    from scipy import ndimage

    out = np.asarray(image, dtype=np.uint8).copy()
    out[mask & ~ndimage.binary_erosion(mask, iterations=2)] = (0, 230, 255)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="PNG")
    return buf.getvalue()


def _chat(stage: str, **context: Any) -> list[dict[str, Any]]:
    # one user message: the shared system prompt is the *engineer's* (it needs a criterion item)
    from scafe.prompting import render

    return [{"role": "user", "content": render(stage, item=None, criteria=None, **context)}]


def _ask(client: Any, messages: list[dict[str, Any]], images: list[bytes] | None = None) -> float:
    from scafe.errors import ScafeError

    try:
        reply = client.chat(messages, images=images, max_tokens=200)
    except ScafeError:  # LLMError, truncation, budget: this case gets no answer
        return math.nan
    return parse_reply(getattr(reply, "text", None))


class LLMImageGroup:
    """``llm-image`` on the first ``max_cases`` test cases (``cases``: objects with ``.load()``)."""

    zero_shot = True
    names = [LLM_IMAGE]

    def __init__(self, client: Any, cases: list[Any], max_cases: int = MAX_CASES) -> None:
        self.client, self.cases = client, cases[:max_cases]

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        chat = _chat("classify_image")
        return {LLM_IMAGE: np.array([_ask(self.client, chat, [_png(*c.load())]) for c in self.cases])}


class LLMFeaturesGroup:
    """``llm-features``: each test case's library features, named by criterion item."""

    zero_shot = True
    names = [LLM_FEATURES]

    def __init__(self, client: Any, test_features: pd.DataFrame, feature_meta: dict[str, dict],
                 max_cases: int = MAX_CASES) -> None:
        self.client, self.frame, self.meta = client, test_features.iloc[:max_cases], feature_meta

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        out = []
        for _, row in self.frame.iterrows():
            feats = [{"name": k, "value": (float(v) if np.isfinite(v) else "missing"),
                      "description": _describe(self.meta.get(k, {}))} for k, v in row.items()]
            out.append(_ask(self.client, _chat("classify_features", features=feats)))
        return {LLM_FEATURES: np.array(out)}


def _describe(meta: dict[str, Any]) -> str:
    item = meta.get("item_name") or meta.get("item")
    return f"{item} ({str(meta.get('scale', '')).upper()})" if item else ""


def llm_groups(client: Any, test: Any, *, max_cases: int = MAX_CASES) -> list[Any]:
    """Both LLM groups for a loaded test side (:class:`scafe.evaluation.inputs.LoadedSet`)."""
    groups: list[Any] = [LLMImageGroup(client, list(test.dataset.cases), max_cases)]
    if test.cases.library is not None and test.features is not None:
        groups.append(LLMFeaturesGroup(client, test.cases.library, test.features.meta.get("features", {}), max_cases))
    return groups
