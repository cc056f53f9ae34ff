"""Every attack program ends in its expected outcome and leaves no trace.

After each attack: no canary file, no connection on the listening socket, the host's arrays
unchanged, the host environment intact, and a canary extractor run next still returns exactly
its reference values.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sandbox import ExtractorRunner, Limits, Outcome, check_source
from tests.sandbox.attack_programs import ATTACKS
from tests.sandbox.helpers import CANARY_SOURCE, canary_reference, connection_attempted, small_pair

# Short deadlines only for the attacks meant to run forever (their outcome may be timeout): they
# burn CPU until stopped. Every other run, the canary included, gets deadlines far above an honest
# run, so a loaded or slow machine cannot turn an expected outcome into a timeout (issue 13 s1).
BOMB_LIMITS = Limits(per_image_seconds=1.5, total_seconds=20.0, memory_mb=512, startup_seconds=1.5)
LIMITS = Limits(per_image_seconds=300.0, total_seconds=20.0, memory_mb=512, startup_seconds=300.0)


def _limits(allowed: set[str]) -> Limits:
    return BOMB_LIMITS if "timeout" in allowed else LIMITS


def test_there_are_at_least_fifty_attacks() -> None:
    assert len(ATTACKS) >= 50
    assert len({name for name, _, _ in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize(("name", "source", "allowed"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_contained(name: str, source: str, allowed: set[str], tmp_path: Path, listener,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    canary = tmp_path / "pwned"
    port = listener.getsockname()[1]
    source = source.replace("CANARY", str(canary)).replace("PORT", str(port))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-canary")
    image, mask = small_pair(1)
    image_before, mask_before = image.copy(), mask.copy()

    with ExtractorRunner(source, limits=_limits(allowed)) as runner:
        result = runner.run(image, mask)

    assert result.outcome.value in allowed, (name, result)
    if result.outcome is Outcome.rejected:
        assert result.error, "a rejection must say why"
    assert not list(tmp_path.iterdir()), f"{name} wrote {list(tmp_path.iterdir())}"
    assert not connection_attempted(listener), f"{name} connected to the host"
    assert np.array_equal(image, image_before)
    assert np.array_equal(mask, mask_before)
    assert os.environ["OPENAI_API_KEY"] == "sk-host-secret-canary"
    with ExtractorRunner(CANARY_SOURCE, limits=LIMITS) as canary_runner:
        after = canary_runner.run(image, mask)
    assert after.ok
    assert after.features == canary_reference(image, mask)


def test_static_rejections_name_a_line() -> None:
    lined = [name for name, source, allowed in ATTACKS
             if allowed == {"rejected"} and not check_source(source).ok and check_source(source).line]
    # every statically rejected attack except whole-file caps points at a line
    unlined = [name for name, source, allowed in ATTACKS
               if allowed == {"rejected"} and not check_source(source).ok and not check_source(source).line]
    assert set(unlined) <= {"huge_source"}, unlined
    assert len(lined) > 40


def test_runtime_refusal_is_reported_even_when_caught(pair) -> None:
    source = next(s for n, s, _ in ATTACKS if n == "caught_refusal").replace("CANARY", "/nonexistent/x")
    assert check_source(source).ok, "this attack must get past the static layer to test the runtime one"
    with ExtractorRunner(source, limits=LIMITS) as runner:
        result = runner.run(*pair)
    assert result.outcome is Outcome.rejected
    assert "numpy.save" in result.error
    assert result.line == 8
