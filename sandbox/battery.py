"""The contract battery: what every candidate must survive before anything else.

:func:`validate` runs the static policy, the text checks (docstring, ``extract(image, mask)``),
then the candidate in one jailed child over :func:`battery_inputs` (8x8 up to 2048x1536; empty,
one-pixel, full, border-touching and multi-component masks; dark, saturated, G>R and
non-contiguous images). Checks: no exception, same keys everywhere, finite values (NaN only for
degenerate masks -- empty, one pixel, whole image -- and only when the docstring mentions NaN;
the issue asked for "empty mask only", but a rim ring or the outside skin is just as undefined
for a full mask, so a correct extractor would otherwise be rejected), determinism (re-runs in the same child
must be equal, which also catches hidden state), inputs unmodified, per-image deadline, and a
uint8 wrap-around probe (see :func:`wraparound_failures`).

Each :class:`CheckFailure` names the check, the input, expected and got: that text is what the
repair prompt shows the LLM (:meth:`ValidationReport.repair_text`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sandbox import policy
from sandbox.battery_inputs import (
    SKIN_R_MINUS_G,
    WRAP_PROBES,
    WRAP_RING_PX,
    BatteryInput,
    battery_inputs,
)
from sandbox.runner import ExtractorRunner, Limits, Outcome, RunResult
from sandbox.static import contract_problems, docstring_mentions_nan

RERUN_INPUTS = ("tiny_8x8", "multi_component_128x128", "g_gt_r_128x128", "noncontiguous_120x160", "typical_512x512")
MAX_FAILURES = 12


@dataclass
class CheckFailure:
    """One failed check: which, on which input, expected vs got (and the source line if known)."""

    check: str
    input: str
    expected: str
    got: str
    line: int | None = None
    outcome: str = Outcome.failed.value

    def text(self) -> str:
        """One line for humans and for the repair prompt."""
        where = f" (line {self.line})" if self.line else ""
        return f"[{self.check}] on {self.input}{where}: expected {self.expected}; got {self.got}"


@dataclass
class ValidationReport:
    """Result of :func:`validate`; ``status`` is ``ok`` or the outcome of the first failure."""

    status: Outcome
    keys: list[str] = field(default_factory=list)
    failures: list[CheckFailure] = field(default_factory=list)
    seconds: float = 0.0
    runs: list[dict[str, Any]] = field(default_factory=list)
    layers: dict[str, Any] | None = None
    features: dict[str, float] | None = None  # values on the typical 512x512 battery image

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return self.status is Outcome.ok

    @property
    def error(self) -> str | None:
        """Text of the first failure (None when ok)."""
        return self.failures[0].text() if self.failures else None

    @property
    def line(self) -> int | None:
        """Source line of the first failure, when known."""
        return self.failures[0].line if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (stored as the library entry's ``validation["contract"]``)."""
        slowest = max((r["seconds"] for r in self.runs), default=0.0)
        return {
            "status": self.status.value,
            "ok": self.ok,
            "keys": list(self.keys),
            "failures": [asdict(f) for f in self.failures],
            "seconds": round(self.seconds, 4),
            "max_image_seconds": round(slowest, 4),
            "n_inputs": len({r["input"] for r in self.runs}),
            # provenance: which isolation layers were active when this candidate was validated
            "layers_active": sorted(name for name, layer in (self.layers or {}).items() if layer.get("active")),
        }

    def repair_text(self) -> str:
        """What the repair prompt shows the LLM: every failure, one per line, with a fix hint."""
        if self.ok:
            return "The extractor passed the contract battery."
        lines = [f"The extractor failed the sandbox contract battery (status: {self.status.value})."]
        lines += [f"- {f.text()}" for f in self.failures]
        lines.append("Rules:")
        lines += [f"- {rule}" for rule in policy.PROMPT_RULES]
        return "\n".join(lines)


def _fail_from_run(name: str, result: RunResult) -> CheckFailure:
    error = (result.error or "").strip()
    if result.outcome is Outcome.failed and "read-only" in error:
        return CheckFailure("inputs_unmodified", name, "inputs left unchanged (work on a copy, e.g. "
                            "image.astype(float))", error.splitlines()[-1], result.line)
    check = {Outcome.timeout: "time_budget", Outcome.rejected: "policy",
             Outcome.invalid_output: "output_type"}.get(result.outcome, "no_exception")
    expected = {"time_budget": "a result within the per-image deadline", "policy": "only allowlisted "
                "modules, names and attributes", "output_type": "a plain dict of str -> float"}.get(
        check, "extract() returns without an exception")
    return CheckFailure(check, name, expected, error or result.outcome.value, result.line, result.outcome.value)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


#: A wrap-around jump must exceed this many times the output's own step-to-step variation.
WRAP_JUMP_FACTOR = 4.0


def _wrap_spike(path: dict[int, float]) -> bool:
    """True when one replicate's values along the R - G path show a uint8 wrap-around spike."""
    fe, fa, fb, ff = path[60], path[1], path[-1], path[-60]
    jump = abs(fb - fa)
    # the output's own variation where R - G moves by 1 away from the crossing, per side: texture
    # statistics on rounded grey levels wobble there as much as anywhere
    above = max(abs(path[3] - path[2]), abs(path[2] - path[1]))
    below = max(abs(path[-1] - path[-2]), abs(path[-2] - path[-3]))
    noise = max(above, below)
    # the hull is widened by the calmer side only: a steep correct side is slope, not noise
    margin = min(above, below)
    tol = 1e-9 * (1.0 + max(abs(v) for v in path.values()))
    outside = fb < min(fe, ff) - margin - tol or fb > max(fe, ff) + margin + tol
    steeper_than_path = jump > max(abs(fa - fe), abs(ff - fb)) + tol
    return outside and steeper_than_path and jump > WRAP_JUMP_FACTOR * noise + tol


_PATH = "R-G = +60, +3, +2, +1, -1, -2, -3, -60"
_FAMILY_TEXT = {
    "whole": f"{_PATH} over the whole image; two textures",
    "lesion": f"{_PATH} inside the mask only, skin around at R-G = +{SKIN_R_MINUS_G}; two textures",
    "ring": (f"{_PATH} in the skin within {WRAP_RING_PX} px of the mask only, lesion and farther skin at "
             f"R-G = +{SKIN_R_MINUS_G}; two textures"),
}
_FAMILY_WHERE = {"whole": "in the image", "lesion": "inside the mask", "ring": "in the skin next to the mask"}


def wraparound_failures(values: dict[str, dict[str, float]]) -> list[CheckFailure]:
    """Metamorphic uint8 wrap-around probe over the ``wrap*`` images.

    The probes of one family share everything except ``d = R - G``, which runs +60, +3, +2, +1,
    -1, -2, -3, -60, on two independent textures (replicates). Family ``whole`` sets ``d`` over
    the whole image; ``lesion`` inside the mask only and ``ring`` in the skin band next to it,
    every other pixel staying at ``R - G = SKIN_R_MINUS_G`` -- a uint8 lesion-minus-ring contrast
    wraps inside and outside alike on ``whole`` (the difference hardly moves) but not on
    ``lesion`` (issue 11 item 6); a uint8 near-ring-minus-far-skin contrast is seen by ``ring``.
    A correct extractor is continuous or monotone along each path up to its own noise; ``r - g``
    on uint8 instead maps d = -1 to 255, so ``f(-1)`` leaves the hull of the far ends and jumps
    from ``f(+1)`` by far more than anything else on the path. Per replicate, with ``s+`` and
    ``s-`` the largest steps between neighbouring offsets on each side of the crossing
    (+3/+2/+1 and -1/-2/-3: the output's own variation), ``s = max(s+, s-)`` and
    ``m = min(s+, s-)``::

        f(-1) not in [min(f(+60), f(-60)) - m, max(f(+60), f(-60)) + m]
        and |f(-1) - f(+1)| > max(|f(+1) - f(+60)|, |f(-60) - f(-1)|)
        and |f(-1) - f(+1)| > 4 s

    A key fails when *both* replicates of a family show the spike: a wrap-around is systematic,
    a noisy texture statistic (LBP entropy, GLCM correlation on rounded grey levels) is not.
    Threshold features (R > G fraction) and V-shaped ones (|R - G|) pass; only spikes fail.
    """
    families: dict[str, dict[int, list[tuple[str, int]]]] = {}
    for name, family, seed, offset in WRAP_PROBES:
        families.setdefault(family, {}).setdefault(seed, []).append((name, offset))
    out: list[CheckFailure] = []
    flagged: set[str] = set()
    for family, replicates in families.items():
        names = [name for probes in replicates.values() for name, _ in probes]
        if not all(n in values for n in names):
            continue
        for key in values[names[0]]:
            paths = [{offset: values[name].get(key, math.nan) for name, offset in probes}
                     for probes in replicates.values()]
            if key in flagged or not all(math.isfinite(v) for path in paths for v in path.values()):
                continue
            if all(_wrap_spike(path) for path in paths):
                flagged.add(key)
                first = paths[0]
                out.append(CheckFailure(
                    "uint8_wraparound", f"wrap* probes ({_FAMILY_TEXT[family]})",
                    f"{key!r} to change smoothly when G passes R {_FAMILY_WHERE[family]} (values "
                    f"{first[60]:.4g}, {first[1]:.4g}, ..., {first[-60]:.4g})",
                    f"{first[-1]:.4g} at R-G = -1: convert channels to float before subtracting"
                    + ("" if family == "whole" else " (lesion, ring and skin alike)")))
    return out


def validate(source: str, *, limits: Limits | None = None,
             progress: Callable[[int, int], None] | None = None) -> ValidationReport:
    """Static policy, contract text checks, then the battery in one jailed child.

    ``progress(done, total)`` is called after each battery image (for a progress bar).
    """
    start = time.perf_counter()
    limits = limits or Limits()
    runner = ExtractorRunner(source, limits=limits)
    if not runner.static.ok:
        failure = CheckFailure("static_policy", "source", "code within the sandbox policy",
                               runner.static.reason or "rejected", runner.static.line, Outcome.rejected.value)
        return ValidationReport(Outcome.rejected, failures=[failure], seconds=time.perf_counter() - start)
    failures = [CheckFailure(check, "source", expected, got, line)
                for check, line, expected, got in contract_problems(source)]
    nan_ok = docstring_mentions_nan(source)
    report = ValidationReport(Outcome.ok)
    values: dict[str, dict[str, float]] = {}
    # build the images while the fork server imports the extractor's modules and forks
    builder = ThreadPoolExecutor(max_workers=1)
    pending = builder.submit(battery_inputs)
    runner.start()
    inputs = pending.result()
    builder.shutdown()
    with runner:
        report.layers = runner.layers
        for item in inputs:
            if time.perf_counter() - start > limits.total_seconds:
                failures.append(CheckFailure("time_budget", "whole battery", f"all inputs within "
                                             f"{limits.total_seconds:g} s", f"stopped before {item.name}",
                                             outcome=Outcome.timeout.value))
                break
            result = runner.run(item.image, item.mask, noncontiguous=item.noncontiguous, check_inputs=True)
            if progress is not None:
                progress(len(report.runs) + 1, len(inputs))
            report.runs.append({"input": item.name, "outcome": result.outcome.value, "seconds": result.seconds})
            if not result.ok:
                failures.append(_fail_from_run(item.name, result))
                if result.outcome in (Outcome.rejected, Outcome.timeout, Outcome.crashed, Outcome.resource_limit):
                    break  # the same will happen on every other image; do not burn deadlines
                continue
            values[item.name] = result.features or {}
            failures += _output_failures(item, result, values, nan_ok)
            if len(failures) >= MAX_FAILURES:
                break
        else:
            failures += _rerun_failures(runner, inputs, values)
    failures += wraparound_failures(values)
    report.failures = failures[:MAX_FAILURES]
    report.keys = sorted(next(iter(values.values()), {}))
    report.features = values.get("typical_512x512")
    if report.failures:
        report.status = Outcome(report.failures[0].outcome)
    report.seconds = time.perf_counter() - start
    return report


def _output_failures(item: BatteryInput, result: RunResult, values: dict[str, dict[str, float]],
                     nan_ok: bool) -> list[CheckFailure]:
    out: list[CheckFailure] = []
    features = result.features or {}
    first_name, first = next(iter(values.items()))
    if sorted(features) != sorted(first):
        out.append(CheckFailure("same_keys", item.name, f"the keys returned for {first_name}: {sorted(first)}",
                                str(sorted(features)), outcome=Outcome.invalid_output.value))
    for key, value in features.items():
        if math.isfinite(value):
            continue
        if math.isnan(value) and item.degenerate and nan_ok:
            continue
        why = "NaN is allowed only for an empty, one-pixel or full mask, and only when the docstring says so"
        if math.isnan(value) and item.degenerate:
            why = "NaN for a degenerate mask must be announced in the module docstring (e.g. 'Empty mask: NaN')"
        out.append(CheckFailure("finite", item.name, f"a finite float for {key!r} ({why})", repr(value),
                                outcome=Outcome.invalid_output.value))
    if result.inputs_modified:
        out.append(CheckFailure("inputs_unmodified", item.name, "image and mask unchanged", "they were modified"))
    return out


def _rerun_failures(runner: ExtractorRunner, inputs: list[BatteryInput],
                    values: dict[str, dict[str, float]]) -> list[CheckFailure]:
    out: list[CheckFailure] = []
    for item in inputs:
        if item.name not in RERUN_INPUTS or item.name not in values:
            continue
        again = runner.run(item.image, item.mask, noncontiguous=item.noncontiguous)
        if not again.ok:
            out.append(_fail_from_run(item.name + " (second run)", again))
            continue
        first, second = values[item.name], again.features or {}
        diff = {k: (first[k], second.get(k)) for k in first
                if k not in second or not _same(first[k], second[k])}
        if diff:
            key, (a, b) = next(iter(diff.items()))
            out.append(CheckFailure("deterministic", item.name, f"{key!r} = {a!r} again on a second run "
                                    "(no randomness, no state kept between calls)", repr(b)))
    return out


def features_for(source: str, image: np.ndarray, mask: np.ndarray, *, limits: Limits | None = None) -> RunResult:
    """Run ``source`` once on one user image (what ``scafe sandbox check --image`` prints)."""
    with ExtractorRunner(source, limits=limits) as runner:
        return runner.run(image, mask)
