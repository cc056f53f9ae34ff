"""Phantom generation speed per family: phantoms per second at 256 and 512 px (goal: 400 at 256 px in <= 60 s).

Usage: ``python benchmarks/phantoms.py [--families a,b] [--n256 400] [--n512 100] [--workers 2] [--json PATH]``

Times ``generate_phantoms`` end to end (rendering, PNG writing, manifest) into a temporary folder,
prints a table and writes ``benchmarks/results/phantoms.json``. The machine's load average is
recorded because the cores may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "phantoms.json"
GOAL_SECONDS_400_AT_256 = 60.0


def run(n: int, size: int, workers: int, seed: int = 0, family: str = "a") -> dict[str, Any]:
    """Generate ``n`` phantoms of ``family`` at ``size`` px with ``workers`` processes; return timings."""
    from scafe.data.phantoms import generate_phantoms

    def cpu() -> float:
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        return sum(u.ru_utime + u.ru_stime for u in usage)

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu_start = time.perf_counter(), cpu()
        generate_phantoms(Path(tmp), n=n, seed=seed, size=size, workers=workers, family=family)
        seconds = time.perf_counter() - start
        cpu_seconds = cpu() - cpu_start  # worker processes are reaped by now, so they are counted
        n_bytes = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"family": family, "size": size, "n": n, "workers": workers, "seconds": round(seconds, 2),
            "phantoms_per_s": round(n / seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
            "cpu_ms_per_phantom": round(1000 * cpu_seconds / n, 1),
            # what the same work takes on `workers` otherwise idle cores (CPU time split evenly)
            "unloaded_estimate_s": round(cpu_seconds / workers, 1), "mb_written": round(n_bytes / 1e6, 1),
            "load_average": round(os.getloadavg()[0], 2)}  # the 1-minute average at the end of this row


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 (the goal is reported, not enforced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n256", type=int, default=400, help="phantoms at 256 px")
    parser.add_argument("--n512", type=int, default=100, help="phantoms at 512 px")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--families", default="a,b", help="phantom families to time (default a,b)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the JSON (default {RESULTS})")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = [run(n, size, args.workers, family=fam) for fam in args.families.split(",")
            for n, size in ((args.n256, 256), (args.n512, 512)) if n > 0]
    load_after = os.getloadavg()[0]
    print(f"{'family':>6} {'size':>5} {'n':>5} {'workers':>7} {'seconds':>8} {'phantoms/s':>10} {'CPU ms/ph':>9} "
          f"{'idle-core est. s':>16} {'MB':>6}")
    for r in rows:
        print(f"{r['family']:>6} {r['size']:>5} {r['n']:>5} {r['workers']:>7} {r['seconds']:>8.1f} "
              f"{r['phantoms_per_s']:>10.2f} {r['cpu_ms_per_phantom']:>9.1f} {r['unloaded_estimate_s']:>16.1f} "
              f"{r['mb_written']:>6.1f}")
    families: dict[str, Any] = {}
    for r in rows:
        if r["size"] != 256:
            continue
        projected = 400 / r["phantoms_per_s"]
        idle = r["cpu_ms_per_phantom"] * 400 / 1000 / r["workers"]
        margin = GOAL_SECONDS_400_AT_256 - projected  # > 0: under the goal by that many seconds
        families[r["family"]] = {"projected_seconds_400_at_256": round(projected, 1),
                                 "idle_cores_estimate_seconds_400_at_256": round(idle, 1),
                                 "cpu_ms_per_phantom": r["cpu_ms_per_phantom"],
                                 "goal_met": projected <= GOAL_SECONDS_400_AT_256,
                                 "margin_s": round(margin, 1), "load_average_during": r["load_average"]}
        print(f"family {r['family']}: 400 phantoms at 256 px: {projected:.1f} s (goal <= "
              f"{GOAL_SECONDS_400_AT_256:.0f} s: {'met' if margin >= 0 else 'MISSED'}, margin {margin:+.1f} s); "
              f"{r['cpu_ms_per_phantom']:.0f} ms CPU per phantom, about {idle:.1f} s on {r['workers']} idle cores "
              f"(load average {r['load_average']:.1f})")
    print(f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores (shared machine)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "benchmark": "phantoms", "rows": rows, "families": families,
        "goal_seconds_400_at_256": GOAL_SECONDS_400_AT_256,
        "cpu_count": os.cpu_count(), "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2), "python": sys.version.split()[0],
        "platform": platform.platform(), "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
