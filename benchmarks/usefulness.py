"""Is the usefulness estimate informative? Leave-one-out usefulness of every active extractor.

For each active library entry, ``agents.engineer.usefulness.evaluate_usefulness`` scores its main
output against all *other* active entries (its own columns leave the base), by nested repeated
CV, on two training tasks: the ``default`` phantom profile (where the library already separates
the classes: the issue-11 finding of ΔAUC +0.000 for 27 of 28 features) and the ``hard`` profile
(the default of ``UsefulnessSettings``). Reported per entry: ΔAUC and Δlog-loss with their 95%
Nadeau–Bengio intervals, the with/without AUC and the redundancy (max |Spearman| with the rest).

Run: ``python benchmarks/usefulness.py [--n 160] [--size 128] [--profiles default,hard] [--families a,b]``.
Prints a table and writes ``benchmarks/results/usefulness.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

# ``python benchmarks/x.py`` puts benchmarks/ first on sys.path, where benchmarks/sandbox.py
# would shadow the real ``sandbox`` package: drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

RESULTS = Path(__file__).resolve().parent / "results" / "usefulness.json"


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:+.3f}"
    return f"{text} [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=160, help="training phantoms (default 160)")
    parser.add_argument("--size", type=int, default=128, help="phantom size in px (default 128)")
    parser.add_argument("--profiles", default="default,hard", help="phantom profiles (default default,hard)")
    parser.add_argument("--families", default="a,b", help="phantom families (default a,b)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"output JSON (default {RESULTS})")
    args = parser.parse_args()

    from agents.engineer.usefulness import UsefulnessSettings, evaluate_usefulness
    from scafe.library import Library

    library = Library.open()
    rows = []
    started = time.perf_counter()
    tasks = [(f.strip(), p.strip()) for f in args.families.split(",") if f.strip()
             for p in args.profiles.split(",") if p.strip()]
    for family, profile in tasks:
        settings = UsefulnessSettings(n=args.n, size=args.size, profile=profile, family=family)
        for entry in library.active():
            key = (entry.validation.get("criterion") or {}).get("output_key") or entry.outputs[0]
            result = evaluate_usefulness(library.source(entry), key, library, settings, name=entry.name)
            rows.append({"profile": profile, "family": family, "extractor": entry.label, "output_key": key,
                         **{k: result[k] for k in ("delta_auc", "delta_auc_ci", "delta_log_loss", "delta_log_loss_ci",
                                                   "auc_with", "auc_without", "log_loss_with", "log_loss_without",
                                                   "redundancy_max_abs_rho", "redundant_with", "usefulness_score",
                                                   "splits", "seconds")}})  # fmt: skip
            row = rows[-1]
            print(f"{family} {profile:8} {entry.label:26} dAUC {_fmt(row['delta_auc'], row['delta_auc_ci']):26} "
                  f"dLL {_fmt(row['delta_log_loss'], row['delta_log_loss_ci']):26} "
                  f"AUC {row['auc_without']:.3f}->{row['auc_with']:.3f}  "
                  f"red {row['redundancy_max_abs_rho'] or 0:.2f}", flush=True)
    summary = {}
    for family, profile in tasks:
        mine = [r for r in rows if r["profile"] == profile and r["family"] == family]
        summary[f"{family}/{profile}"] = {
            "entries": len(mine),
            "delta_auc_exactly_zero": sum(abs(r["delta_auc"]) < 5e-4 for r in mine),
            "delta_auc_ci_excludes_zero": sum(r["delta_auc_ci"][0] > 0 or r["delta_auc_ci"][1] < 0 for r in mine),
            "delta_log_loss_ci_excludes_zero": sum(r["delta_log_loss_ci"][0] > 0 or r["delta_log_loss_ci"][1] < 0
                                                   for r in mine),
            "mean_auc_without": sum(r["auc_without"] for r in mine) / max(len(mine), 1),
        }
    print("\ntask      entries  dAUC==0  dAUC CI excl. 0  dLL CI excl. 0  mean AUC without")
    for profile, s in sorted(summary.items()):
        print(f"{profile:9} {s['entries']:7}  {s['delta_auc_exactly_zero']:7}  {s['delta_auc_ci_excludes_zero']:15}  "
              f"{s['delta_log_loss_ci_excludes_zero']:14}  {s['mean_auc_without']:.3f}")
    doc = {"library_version": library.version_id, "n": args.n, "size": args.size,
           "summary": summary, "rows": rows, "seconds": round(time.perf_counter() - started, 1),
           "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
