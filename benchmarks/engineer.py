"""Benchmark: engineer overhead per accepted extractor, with LLM latency taken out (replayed replies).

``overhead_seconds_per_accepted`` = (wall time of a run − time spent waiting for the LLM) /
accepted extractors: planning, prompt rendering, validation battery, criterion tests, usefulness
(default settings: 100 training phantoms at 128 px, 5×2 paired CV) and registration. Goal: a
median ≤ 5 s on 2 cores.

The temporary libraries are copies of the committed ``feature_library/``, so ΔAUC and redundancy
are computed over its active extractors (their feature table is cached per active set).

Method: one run against the scripted server (test fixtures in ``tests/agents/scripted.py``, not
model output) records the exchanges; then ``--runs`` replays of that recording, each into a fresh
temporary library, are timed. The first replay may include building caches (training phantoms,
active-feature table) and is reported separately as ``cold``; the median is over all replays.
The per-node split comes from ``events.jsonl`` and the per-attempt reports.

Usage: ``python benchmarks/engineer.py [--runs 3] [--concurrency 1 2]``; writes
``benchmarks/results/engineer.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripted fixtures live under tests/

GOAL_SECONDS = 5.0


def _router():
    from tests.agents.scripted import (
        PIGMENT,
        REDNESS,
        REDNESS_AUGASSIGN,
        Router,
        code_reply,
        plan_json,
    )

    return Router(
        plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a")),
               "pigmentation": plan_json(("melanin_contrast", "melanin_shift"))},
        writes={"redness_contrast": code_reply(REDNESS_AUGASSIGN), "melanin_contrast": code_reply(PIGMENT)},
        repairs={"redness_contrast": code_reply(REDNESS)},
    )  # fmt: skip


def _phase_seconds(run_dir: Path) -> dict[str, float]:
    """Seconds in the contract battery, the criterion tests and usefulness, from the run's files."""
    reports = [json.loads(p.read_text()) for p in run_dir.rglob("attempt*.report.json")]
    battery = sum(r.get("contract_seconds", 0.0) for r in reports)
    criterion = sum((r.get("criterion") or {}).get("seconds", 0.0) for r in reports)
    usefulness = sum(json.loads(p.read_text()).get("seconds", 0.0) for p in run_dir.rglob("usefulness.json"))
    return {"battery_s": round(battery, 3), "criterion_s": round(criterion, 3), "usefulness_s": round(usefulness, 3)}


def main() -> None:
    """Record once, replay ``--runs`` times, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="replays to time (default 3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2],
                        help="specs in parallel, one series per value (default: 1 2; the headline is the first)")
    args = parser.parse_args()

    from agents.engineer.run import RunOptions, generate
    from agents.engineer.usefulness import UsefulnessSettings
    from agents.llm import LLMClient, LLMConfig
    from scafe.library import Library
    from tests.agents.scripted import VSS
    from tests.support.fake_llm import FakeLLMServer

    items = ["vascularity", "pigmentation"]
    n_active = len(Library.open(ROOT / "feature_library").active())
    rows = []
    with tempfile.TemporaryDirectory(prefix="scafe-bench-engineer-") as tmp:
        work = Path(tmp)
        recording = work / "exchanges.jsonl"
        with FakeLLMServer(_router()) as server:
            client = LLMClient(LLMConfig(base_url=server.url, model="scripted-fixtures", record=recording))
            options = RunOptions(criteria_path=VSS, items=items, library_dir=work / "lib-record",
                                 usefulness=UsefulnessSettings())  # fmt: skip
            shutil.copytree(ROOT / "feature_library", work / "lib-record")
            generate(options, client, runs_dir=work / "runs", run_id="record")
        for concurrency, index in [(c, i) for c in args.concurrency for i in range(args.runs)]:
            library = work / f"lib-{concurrency}-{index}"
            # a copy of the committed library: usefulness is measured over its active extractors
            shutil.copytree(ROOT / "feature_library", library)
            client = LLMClient(LLMConfig(replay=recording, model="scripted-fixtures", concurrency=concurrency))
            options = RunOptions(criteria_path=VSS, items=items, library_dir=library, usefulness=UsefulnessSettings())
            started = time.perf_counter()
            summary = generate(options, client, runs_dir=work / "runs", run_id=f"replay-{concurrency}-{index}")
            wall = time.perf_counter() - started
            accepted = sum(1 for r in summary.rows if r["outcome"] == "accepted")
            overhead = wall - client.usage.llm_seconds
            rows.append({"concurrency": concurrency, "run": index, "accepted": accepted, "attempts": sum(r["attempts"] for r in summary.rows),
                         "wall_s": round(wall, 3),
                         "llm_s": round(client.usage.llm_seconds, 4), "llm_calls": client.usage.calls,
                         "overhead_seconds_per_accepted": round(overhead / max(accepted, 1), 3),
                         **_phase_seconds(summary.directory)})  # fmt: skip
    by_concurrency = {c: statistics.median(r["overhead_seconds_per_accepted"] for r in rows if r["concurrency"] == c)
                      for c in args.concurrency}  # fmt: skip
    per_accepted = [r["overhead_seconds_per_accepted"] for r in rows if r["concurrency"] == args.concurrency[0]]
    result = {
        "benchmark": "engineer",
        "items": items,
        "specs_per_run": 2,
        "active_reference_extractors": n_active,
        "concurrency_headline": args.concurrency[0],
        "median_overhead_seconds_per_accepted_by_concurrency": by_concurrency,
        "usefulness": {"n": UsefulnessSettings().n, "size": UsefulnessSettings().size,
                       "cv": f"{UsefulnessSettings().repeats}x{UsefulnessSettings().folds}"},
        "runs": rows,
        "cold_overhead_seconds_per_accepted": per_accepted[0] if per_accepted else None,
        "overhead_seconds_per_accepted": statistics.median(per_accepted) if per_accepted else None,
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": bool(per_accepted) and statistics.median(per_accepted) <= GOAL_SECONDS,
        "replies": "scripted test fixtures replayed from a recording (no model involved)",
    }  # fmt: skip
    header = f"{'conc.':>5} {'run':>3} {'accepted':>8} {'wall s':>8} {'llm s':>7} {'battery s':>9} {'criter. s':>9} {'useful. s':>9} {'overhead/accepted s':>20}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['concurrency']:>5} {r['run']:>3} {r['accepted']:>8} {r['wall_s']:>8.2f} {r['llm_s']:>7.3f} {r['battery_s']:>9.2f} {r['criterion_s']:>9.2f} "
              f"{r['usefulness_s']:>9.2f} {r['overhead_seconds_per_accepted']:>20.2f}")  # fmt: skip
    for c, median in by_concurrency.items():
        print(f"concurrency {c}: median overhead_seconds_per_accepted = {median:.2f} s")
    print(f"headline (concurrency {args.concurrency[0]}): {result['overhead_seconds_per_accepted']:.2f} s "
          f"(goal <= {GOAL_SECONDS:g} s: {'met' if result['meets_goal'] else 'NOT met'})")  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "engineer.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
