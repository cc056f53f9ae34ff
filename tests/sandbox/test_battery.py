"""The contract battery catches each kind of broken extractor and says so precisely."""

from __future__ import annotations

import json

import pytest

from sandbox import Limits, Outcome, validate
from sandbox.battery import CheckFailure, ValidationReport, wraparound_failures
from tests.sandbox.benign_programs import BENIGN


def module(body: str, doc: str = "Test extractor. Empty mask: NaN.", top: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f'"""{doc}"""\nimport numpy as np\n{top}\n\ndef extract(image, mask):\n{lines}\n'


BROKEN = [
    ("docstring", module('return {"a": 1.0}').replace('"""Test extractor. Empty mask: NaN."""\n', ""),
     Outcome.failed),
    ("signature", module('return {"a": 1.0}').replace("(image, mask)", "(img, m)"), Outcome.failed),
    ("uint8_wraparound", module(
        'if not mask.any():\n    return {"rg": float("nan")}\nd = image[..., 0] - image[..., 1]\n'
        'return {"rg": float(d[mask].mean())}'), Outcome.failed),
    ("finite", module('return {"a": float(np.mean(image[mask]))}', doc="Mean intensity; no policy for undefined values."),
     Outcome.invalid_output),
    ("finite", module('return {"a": float("inf")}'), Outcome.invalid_output),
    ("same_keys", module('if image.shape[0] > 100:\n    return {"big": 1.0}\nreturn {"small": 1.0}'),
     Outcome.invalid_output),
    ("deterministic", module('calls.append(1)\nreturn {"calls": float(len(calls))}', top="calls = []"),
     Outcome.failed),
    ("inputs_unmodified", module('image[0, 0, 0] = 0\nreturn {"a": 1.0}'), Outcome.failed),
    ("no_exception", module('return {"a": float(image[mask].mean() / (mask.sum() - mask.sum()) * 0)}'
                            '\n').replace("return", "x = [1][int(mask.sum() > 1)]\n    return"),
     Outcome.failed),
    ("output_type", module('return {"a": np.float64(1.0), "b": np.ones(2)}'), Outcome.invalid_output),
    ("policy", module('m = np\nm.save("x", image)\nreturn {"a": 1.0}'), Outcome.rejected),
    ("static_policy", module('import os\nreturn {"a": 1.0}'), Outcome.rejected),
]


@pytest.mark.parametrize(("check", "source", "status"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_battery_names_the_failed_check(check: str, source: str, status: Outcome) -> None:
    report = validate(source, limits=Limits(per_image_seconds=3.0))
    assert not report.ok
    assert report.status is status, report.repair_text()
    assert check in {f.check for f in report.failures}, report.repair_text()
    failure = next(f for f in report.failures if f.check == check)
    assert failure.input
    assert failure.expected
    assert failure.got
    text = report.repair_text()
    assert f"[{check}]" in text
    assert failure.input in text
    json.dumps(report.to_dict())


def test_slow_extractor_fails_the_time_budget() -> None:
    # a per-pixel Python loop: fine on small images, far too slow for 2048x1536
    source = module('total = 0.0\nfor row in image:\n    for px in row:\n        total = total + float(px[0])\n'
                    'return {"red_sum": total}')
    report = validate(source, limits=Limits(per_image_seconds=0.5))
    assert report.status is Outcome.timeout
    failure = report.failures[0]
    assert failure.check == "time_budget"
    assert "512" in failure.input or "1536" in failure.input


def test_good_extractor_report() -> None:
    report = validate(BENIGN["redness_float"])
    assert report.ok
    assert report.status is Outcome.ok
    assert report.keys == ["red_minus_green"]
    assert report.failures == []
    assert report.layers is not None
    data = report.to_dict()
    assert data["ok"] is True
    assert data["n_inputs"] >= 15
    assert "static_policy" in data["layers_active"]
    assert report.repair_text() == "The extractor passed the contract battery."


def test_wraparound_rule_spares_thresholds_and_v_shapes() -> None:
    names = ["wrap_e_r_minus_g_60", "wrap_a_r_minus_g_1", "wrap_b_r_minus_g_-1", "wrap_f_r_minus_g_-60"]

    def values(seq: list[float]) -> dict[str, dict[str, float]]:
        return {n: {"f": v} for n, v in zip(names, seq, strict=True)}

    assert wraparound_failures(values([60, 1, 255, 196]))  # uint8 r - g
    assert wraparound_failures(values([60, 1, 255, 196]))[0].check == "uint8_wraparound"
    assert not wraparound_failures(values([60, 1, -1, -60]))  # float r - g
    assert not wraparound_failures(values([1, 1, 0, 0]))  # fraction of R > G pixels
    assert not wraparound_failures(values([60, 1, 1, 60]))  # |r - g|
    assert not wraparound_failures(values([0, 1, 1, 0]))  # spike detector of R == G


def test_report_properties_follow_the_first_failure() -> None:
    report = ValidationReport(Outcome.failed, failures=[CheckFailure("finite", "tiny_8x8", "finite", "nan", 7)])
    assert report.error.startswith("[finite] on tiny_8x8 (line 7)")
    assert report.line == 7
    assert not report.ok
