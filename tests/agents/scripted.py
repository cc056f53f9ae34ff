"""Scripted replies for engineer tests: a router for FakeLLMServer and hand-written extractor sources.

These are test fixtures written by this project's authors to drive the graph through each path
(accept, repair, reject, malicious). They are not, and are never presented as, model output.

The router recognises which prompt it got from the rendered templates: the plan prompt ("Task:
propose between 1 and 3"), the write prompt ("- name: <spec>") and the repair prompt ("Your
extractor for the feature `<spec>`"); it answers from per-(stage, item/spec) queues, the last
reply repeating once a queue is used up.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from typing import Any

from tests.support.fake_llm import Reply

REDNESS = '''"""Lesion redness contrast (test fixture).

Criterion: vss/vascularity - "colour of the scar relative to the surrounding normal skin".
Measures: median CIELAB a* inside the mask minus median a* in a ring 3-15 px outside the mask
(medians: a shadow, ruler or mole in part of the ring does not move them).
Range: about -40..40 (a* units). Empty mask: NaN. No skin around the mask: 0.
"""
import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_delta_a": float("nan")}
    redness = color.rgb2lab(image)[:, :, 1]
    distance = ndimage.distance_transform_edt(~mask)
    ring = (distance > 3) & (distance <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"redness_delta_a": 0.0}
    return {"redness_delta_a": float(np.median(redness[mask]) - np.median(redness[ring]))}
'''

# Fails RestrictedPython (augmented assignment to a subscript) -> repaired by REDNESS.
REDNESS_AUGASSIGN = REDNESS.replace(
    '    return {"redness_delta_a": float(np.median(redness[mask]) - np.median(redness[ring]))}',
    '    totals = [0.0]\n    totals[0] += float(np.median(redness[mask]) - np.median(redness[ring]))\n'
    '    return {"redness_delta_a": totals[0]}',
)

# Runs and honours the contract but measures lightness, not redness: criterion tests reject it.
WRONG_MEASURE = REDNESS.replace("[:, :, 1]", "[:, :, 0]")

# Reaches for the operating system: the sandbox must refuse it before running anything.
MALICIOUS = '''"""Innocent looking (test fixture).

Criterion: vss/vascularity. Measures: nothing. Range: 0. Empty mask: NaN.
"""
import os


def extract(image, mask):
    os.system("touch {marker}")
    return {{"redness_delta_a": 0.0}}
'''

PIGMENT = '''"""Lesion darkening against the surrounding skin (test fixture).

Criterion: vss/pigmentation - "colour of the scar due to melanin, compared with the surrounding skin".
Measures: Takiwaki melanin shift -1.06*da* - 1.44*dL* between the darker (glare-free) halves of the
lesion and the lit skin of a ring 3-15 px outside it (its 50-90th percentiles of L*: a cast shadow or
mole in the ring is darker, glare brighter), scaled by 50 / L*(ring) so it is relative to the skin.
Range: about -100..100. Empty mask: NaN. No skin around the mask: 0.
"""
import numpy as np
from scipy import ndimage
from skimage import color


def band(lab, region, low, high):
    lightness = lab[:, :, 0][region]
    lo, hi = np.percentile(lightness, [low, high])
    keep = (lightness >= lo) & (lightness <= hi)
    return np.median(lightness[keep]), np.median(lab[:, :, 1][region][keep])


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"melanin_shift": float("nan")}
    lab = color.rgb2lab(image)
    distance = ndimage.distance_transform_edt(~mask)
    ring = (distance > 3) & (distance <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"melanin_shift": 0.0}
    l_in, a_in = band(lab, mask, 0, 50)
    l_out, a_out = band(lab, ring, 50, 90)
    shift = -1.06 * (a_in - a_out) - 1.44 * (l_in - l_out)
    return {"melanin_shift": float(shift * 50.0 / max(l_out, 1.0))}
'''


def plan_json(*specs: tuple[str, str]) -> str:
    """A plan reply with one spec per ``(name, output_key)``."""
    features = [{"name": name, "output_key": key, "measures": f"{name} measured against the surrounding skin",
                 "formula": "mean(lesion) - mean(ring 3-15 px)", "units": "CIELAB units", "expected_range": "-40..40"}
                for name, key in specs]  # fmt: skip
    return "```json\n" + json.dumps({"features": features}, indent=1) + "\n```"


def code_reply(source: str) -> str:
    """A write/repair reply with prose around one fenced block (as models tend to answer)."""
    return f"Here is the module.\n\n```python\n{source}```\n\nIt compares the lesion with its ring."


def _last_user(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class Router:
    """Callable reply script for :class:`FakeLLMServer` keyed by stage and item/spec.

    ``plans``: item id → plan reply(ies); ``writes``/``repairs``: spec name → reply(ies). Each value
    is a reply spec or a list of them (consumed in order, the last one repeating).
    """

    def __init__(self, plans: dict[str, Any], writes: dict[str, Any], repairs: dict[str, Any] | None = None) -> None:
        self.queues: dict[tuple[str, str], list[Any]] = {}
        for stage, table in (("plan", plans), ("write", writes), ("repair", repairs or {})):
            for key, value in table.items():
                self.queues[(stage, key)] = list(value) if isinstance(value, list) else [value]
        self.seen: dict[tuple[str, str], int] = defaultdict(int)
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def classify(self, request: dict[str, Any]) -> tuple[str, str]:
        """``(stage, key)`` of a request, from the rendered template text."""
        text = _last_user(request)
        if match := re.search(r"Your extractor for the feature `([a-z0-9_]+)`", text):
            return "repair", match.group(1)
        if match := re.search(r"Write the extractor for this feature:\n- name: ([a-z0-9_]+)", text):
            return "write", match.group(1)
        if "Task: propose between 1 and 3" in text or "could not be used" in text:
            system_and_plan = "\n".join(str(m.get("content")) for m in request["messages"])
            match = re.search(r"\(([a-z0-9_]+)/([a-z0-9_]+)\)\nDefinition", system_and_plan)
            return "plan", match.group(2) if match else "?"
        return "unknown", ""

    def __call__(self, request: dict[str, Any]) -> Any:
        key = self.classify(request)
        with self._lock:
            self.log.append(key)
            queue = self.queues.get(key)
            if not queue:
                return Reply(status=400, content=f"test router has no reply for {key}")
            index = min(self.seen[key], len(queue) - 1)
            self.seen[key] += 1
            return queue[index]

    def count(self, stage: str, key: str) -> int:
        """How many requests of this kind arrived."""
        return sum(1 for entry in self.log if entry == (stage, key))


def run_engineer(tmp_path: Any, replies: Any, items: list[str], *, attempts: int = 3, usefulness: Any = None,
                 activate: bool = False, run_id: str = "test-run", **llm: Any) -> tuple[Any, Any, Any]:
    """Run the engineer graph against a scripted server; return ``(summary, server, client)``.

    The library is a fresh directory under ``tmp_path`` (never the committed one).
    """
    from pathlib import Path

    from agents.engineer.run import RunOptions, generate
    from agents.llm import LLMClient, LLMConfig
    from tests.support.fake_llm import FakeLLMServer

    library = Path(tmp_path) / "library"
    library.mkdir(exist_ok=True)
    settings = {"model": "fake-model", "backoff_base_s": 0.01, "max_retries": 2, "concurrency": 2, **llm}
    with FakeLLMServer(replies) as server:
        client = LLMClient(LLMConfig(base_url=server.url, **settings))
        options = RunOptions(criteria_path=VSS, items=items, library_dir=library, attempts=attempts,
                             activate=activate, usefulness=usefulness)  # fmt: skip
        summary = generate(options, client, runs_dir=Path(tmp_path) / "runs", run_id=run_id)
    return summary, server, client


def _vss() -> Any:
    from scafe.paths import PACKAGE_CHECKOUT

    return PACKAGE_CHECKOUT / "prompts" / "criteria" / "vss.yaml"


VSS = _vss()
