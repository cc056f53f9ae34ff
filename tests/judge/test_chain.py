"""The four-stage LLM chain against a scripted local server (tests/support/fake_llm.py).

The replies below are fixtures written for these tests, not model output.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

from agents.judge.nodes import extract_json
from agents.judge.run import judge_with_llm
from agents.llm import LLMClient, LLMConfig
from scafe.judge.rules import SegmentationTarget
from tests.support.fake_llm import FakeLLMServer, Reply

RECALL = {
    "structure": "An elongated scar, marker-recall-7781.",
    "expected_properties": ["one region", "no holes"],
    "failure_signs": {"holes": "hole_fraction above a few percent"},
}
ANALYSIS = {
    "observations": [{"descriptor": "self_consistency_dice", "value": 0.9, "assessment": "normal", "note": "ok"}],
    "summary": "Boundary sits on the colour edge, marker-analysis-5532.",
}
INFERENCE = {
    "covers": "the whole scar, marker-inference-9914",
    "plausible_anatomy": True,
    "suspected_failure_modes": [],
    "reasoning": "Consistent with a scar.",
}
SYNTHESIS = {"verdict": "acceptable", "confidence": 0.83, "failure_modes": [], "rationale": "Fits the scar."}


def _replies(*stages: dict) -> list[str]:
    return [json.dumps(s) for s in stages]


def _prompt_text(request: dict) -> str:
    parts = []
    for message in request["messages"]:
        content = message["content"]
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(p.get("text", "") for p in content if p.get("type") == "text")
    return "\n".join(parts)


@pytest.fixture
def case() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:96, :96]
    mask = ((yy - 48) / 12) ** 2 + ((xx - 48) / 30) ** 2 <= 1
    image = np.full((96, 96, 3), (205, 165, 145), np.uint8)
    image[mask] = (190, 105, 105)
    return image, mask


@pytest.fixture
def target() -> SegmentationTarget:
    return SegmentationTarget.load("scar")


def _client(url: str, **overrides) -> LLMClient:
    settings = {"timeout_s": 5.0, "max_retries": 1, "backoff_base_s": 0.0, **overrides}
    return LLMClient(LLMConfig.from_env(base_url=url, model="fake-judge", **settings))


def test_four_stages_in_order_each_prompt_holds_the_earlier_replies(case, target) -> None:
    image, mask = case
    with FakeLLMServer(_replies(RECALL, ANALYSIS, INFERENCE, SYNTHESIS)) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url), target=target)
        requests = srv.requests
    assert len(requests) == 4
    texts = [_prompt_text(r) for r in requests]
    for k, marker in enumerate(["Stage 1 of 4", "Stage 2 of 4", "Stage 3 of 4", "Stage 4 of 4"]):
        assert marker in texts[k]
    assert "marker-recall-7781" in texts[1]
    assert all("marker-recall-7781" in t for t in texts[2:])
    assert "marker-analysis-5532" in texts[2]
    assert "marker-analysis-5532" in texts[3]
    assert "marker-inference-9914" in texts[3]
    assert "marker-inference-9914" not in texts[2]
    # stage 2 shows the trusted descriptors and the rule findings
    assert "self_consistency_dice" in texts[1]
    assert "FIRED" in texts[1] or "-> ok" in texts[1]
    assert out["verdict"] == "acceptable"
    assert out["confidence"] == pytest.approx(0.83)
    assert out["reasoner"] == "llm:fake-judge"
    assert {"verdict", "confidence", "failure_modes", "stages", "reasoner", "descriptors"} <= set(out)
    assert {"llm", "rules", "rule_findings", "hard_failures", "disagreement", "verdict_source"} <= set(out)
    assert out["stages"]["clinical_synthesis"] == SYNTHESIS
    assert out["stages"]["knowledge_recall"]["structure"] == RECALL["structure"]


def test_scripted_unacceptable_verdict_is_returned(case, target) -> None:
    image, mask = case
    bad = {"verdict": "unacceptable", "confidence": 0.91, "failure_modes": ["holes"], "rationale": "Holes."}
    with FakeLLMServer(_replies(RECALL, ANALYSIS, INFERENCE, bad)) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url), target=target)
    assert out["verdict"] == "unacceptable"
    assert out["failure_modes"] == ["holes"]


def test_malformed_json_is_retried_then_accepted(case, target) -> None:
    image, mask = case
    replies = [json.dumps(RECALL), "Sure! {observations: oops", json.dumps(ANALYSIS), json.dumps(INFERENCE),
               json.dumps(SYNTHESIS)]
    with FakeLLMServer(replies) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url), target=target)
        requests = srv.requests
    assert out["verdict"] == "acceptable"
    assert len(requests) == 5
    retry = requests[2]["messages"]
    assert retry[-2]["role"] == "assistant"
    assert "could not be used" in retry[-1]["content"]


def test_still_malformed_after_bounded_retries_is_uncertain(case, target) -> None:
    image, mask = case
    extra_key = {**SYNTHESIS, "extra": 1}  # the synthesis schema is exact
    replies = [*_replies(RECALL, ANALYSIS, INFERENCE), "not json", '{"verdict": "maybe"}', json.dumps(extra_key)]
    with FakeLLMServer(replies) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url), target=target, max_attempts=3)
        assert len(srv.requests) == 6
    assert out["verdict"] == "uncertain"
    assert out["confidence"] == 0.0
    assert "clinical_synthesis" in out["stages"]["clinical_synthesis"]["error"]
    assert "3 attempts" in out["stages"]["clinical_synthesis"]["error"]


def test_http_500_after_client_retries_is_uncertain_with_reason(case, target) -> None:
    image, mask = case
    replies = [json.dumps(RECALL), Reply(status=500), Reply(status=500)]
    with FakeLLMServer(replies) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url), target=target)
    assert out["verdict"] == "uncertain"
    reason = out["stages"]["visual_feature_analysis"]["error"]
    assert "endpoint failed" in reason
    assert "500" in reason
    assert out["stages"]["anatomical_inference"] is None


def test_timeout_is_uncertain_with_reason(case, target) -> None:
    image, mask = case
    replies = [Reply(content=json.dumps(RECALL), delay=2.0)]
    with FakeLLMServer(replies) as srv:
        out = judge_with_llm(image, mask, client=_client(srv.url, timeout_s=0.3, max_retries=0), target=target)
    assert out["verdict"] == "uncertain"
    assert "timed out" in out["stages"]["knowledge_recall"]["error"]


def _decoded_images(request: dict) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for part in request["messages"][-1]["content"]:
        if part["type"] == "image_url":
            url = part["image_url"]["url"]
            assert url.startswith("data:image/png;base64,")
            raw = base64.b64decode(url.split(",", 1)[1])
            assert raw[:8] == b"\x89PNG\r\n\x1a\n"
            out.append(np.array(Image.open(io.BytesIO(raw)).convert("RGB")))
    return out


def test_vision_sends_whole_image_and_zoomed_overlay_to_the_vision_stages(case, target) -> None:
    from scafe.judge.overlay import CANDIDATE_RGB

    image, mask = case
    with FakeLLMServer(_replies(RECALL, ANALYSIS, INFERENCE, SYNTHESIS)) as srv:
        judge_with_llm(image, mask, client=_client(srv.url), target=target, vision=True)
        requests = srv.requests
    for k in (0, 3):  # stage 1 and 4 are text only
        assert isinstance(requests[k]["messages"][-1]["content"], str)
    stage2 = _decoded_images(requests[1])
    assert len(stage2) == 3
    assert [a.shape for a in _decoded_images(requests[2])] == [a.shape for a in stage2]  # stage 3 sees them too
    whole, plain, overlaid = stage2
    assert whole.shape == image.shape  # 1: the whole photograph, outline in green
    assert tuple(whole[48, 18]) == CANDIDATE_RGB
    assert tuple(whole[0, 0]) == tuple(image[0, 0])
    # 2 and 3: the crop around the mask (bounding box plus a 25 % margin) enlarged by an integer factor
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    margin = round(0.25 * (cols[-1] - cols[0] + 1))
    crop_h, crop_w = rows[-1] - rows[0] + 1 + 2 * margin, cols[-1] - cols[0] + 1 + 2 * margin
    assert plain.shape == overlaid.shape
    assert plain.shape[0] > crop_h
    factor = plain.shape[1] // crop_w
    assert factor >= 3
    assert plain.shape[:2] == (factor * crop_h, factor * crop_w)
    centre = (plain.shape[0] // 2, plain.shape[1] // 2)
    assert tuple(plain[centre]) == tuple(image[48, 48])  # plain: the scar's own colour, no overlay
    filled = overlaid[centre].astype(int)  # semi-transparent fill: between the scar and pure green
    assert filled[1] > int(image[48, 48][1]) + 40
    assert filled[0] < int(image[48, 48][0])
    assert tuple(overlaid[2, 2]) == tuple(image[0, 0])  # skin outside the mask untouched
    assert (overlaid == np.array(CANDIDATE_RGB)).all(axis=2).any()  # the outline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": 2}\n```', {"a": 2}),
        ('Here you go: {"a": 3} thanks', {"a": 3}),
    ],
)
def test_extract_json(text: str, expected: dict) -> None:
    assert extract_json(text) == expected


def test_extract_json_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="empty"):
        extract_json("  ")
    with pytest.raises(ValueError, match="object"):
        extract_json("[1, 2]")
