"""Do the reference extractors' criterion figures hold on phantoms they were not tuned on?

The reference extractors' constants (ring widths, quantiles, thresholds) were chosen while
looking at the criterion tests' own validation set (96 phantoms, 256 px, seed 72024). This
benchmark re-runs exactly the same criterion tests (``scafe.criterion_tests.run_criterion_tests``:
Spearman rho with the item's ground truth, partial rho with the four skin-tone/illumination
nuisances, rotation/flip invariance) for every active library entry on phantom sets nobody looked
at: two other seeds at 256 px, and one at 512 px (a different resolution: every pixel-scale
constant is tested too).

Every set is rendered by each phantom family the renderer offers (``--families``, default all):
the table and the JSON report, per family and per held-out seed, whether each active entry passes
(and, for colour/rim items, the reference-skin check's 90th-percentile and worst shift).

Run: ``python benchmarks/criterion_holdout.py [--n 96] [--seeds 101,202] [--size-512-seed 303]
[--families a,b]``. Prints a table and writes ``benchmarks/results/criterion_holdout.json``. Exit status 0 even when
an entry fails somewhere: the table is the result (``tests/library`` is the gate).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

# ``python benchmarks/x.py`` puts benchmarks/ first on sys.path, where benchmarks/sandbox.py
# would shadow the real ``sandbox`` package: drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout first

RESULTS = Path(__file__).resolve().parent / "results" / "criterion_holdout.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=96, help="phantoms per set (default 96, as validation)")
    parser.add_argument("--seeds", default="101,202", help="held-out seeds at 256 px (default 101,202)")
    parser.add_argument("--size-512-seed", type=int, default=303,
                        help="seed of the held-out set at 512 px (default 303; -1 to skip)")
    parser.add_argument("--families", default="", help="phantom families, comma-separated (default: all)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"output JSON (default {RESULTS})")
    args = parser.parse_args()

    from scafe.criteria import find_item
    from scafe.criterion_tests import (
        VALIDATION_N,
        VALIDATION_SEED,
        VALIDATION_SIZE,
        available_families,
        run_criterion_tests,
    )
    from scafe.library import Library

    library = Library.open()
    families = [f for f in args.families.split(",") if f.strip()] or list(available_families())
    base = [("validation", VALIDATION_N, VALIDATION_SEED, VALIDATION_SIZE)]
    base += [(f"seed {s} @256", args.n, int(s), 256) for s in args.seeds.split(",") if s.strip()]
    if args.size_512_seed >= 0:
        base.append((f"seed {args.size_512_seed} @512", args.n, args.size_512_seed, 512))
    sets = [(f"{fam}: {label}", n, seed, size, fam) for fam in families for label, n, seed, size in base]

    rows = []
    started = time.perf_counter()
    for entry in library.active():
        _, item = find_item(entry.criterion.ref, directory=library.criteria_dir)
        output_key = (entry.validation.get("criterion") or {}).get("output_key")
        source = library.source(entry)
        row: dict = {"entry": f"{entry.name}@v{entry.version}", "criterion": entry.criterion.ref,
                     "output_key": output_key, "column": item.ground_truth.column,
                     "required": item.ground_truth.min_rho,
                     "max_nuisance_rho": item.ground_truth.max_nuisance_rho, "sets": {}}
        for label, n, seed, size, family in sets:
            report = run_criterion_tests(source, item, output_key=output_key, n=n, seed=seed, size=size,
                                         families=(family,))
            worst = report.worst_nuisance or (None, 0.0)
            check = next((c for c in report.families[family].checks if c.name == "distractors"), None)
            moved = re.search(r"worst (\d+)%", check.text) if check is not None else None
            row["sets"][label] = {
                "family": family, "n": n, "seed": seed, "size": size, "passed": bool(report.passed),
                "rho": report.rho, "worst_nuisance": worst[0], "worst_nuisance_rho": worst[1],
                "invariance_max_rel_change": report.invariance_max_rel_change,
                "failures": list(report.failures),
                # colour/rim items: the reference-skin check (90th-percentile and worst shift / spread)
                "distractor_q90": None if check is None else check.found,
                "distractor_worst": None if moved is None else int(moved.group(1)) / 100,
            }
            print(f"  {row['entry']:<28} {label:<14} rho {report.rho if report.rho is not None else float('nan'):+.2f}"
                  f"  {'pass' if report.passed else 'FAIL'}", file=sys.stderr, flush=True)
        rows.append(row)

    labels = [s[0] for s in sets]
    print(f"\nCriterion tests on held-out phantoms (library {library.version_id}; rho with the item's "
          "ground truth; * = failed there)")
    header = f"{'entry':<28}{'criterion':<28}{'need':>6}" + "".join(f"{lab:>20}" for lab in labels)
    print(header)
    for row in rows:
        cells = []
        for lab in labels:
            cell = row["sets"][lab]
            rho = cell["rho"] if cell["rho"] is not None else float("nan")
            cells.append(f"{rho:+.2f}{'' if cell['passed'] else '*'}".rjust(20))
        print(f"{row['entry']:<28}{row['criterion']:<28}{row['required']:>6.2f}" + "".join(cells))
    worst_rows = [
        f"{row['entry']} on {lab}: {fail}"
        for row in rows for lab in labels for fail in row["sets"][lab]["failures"]
    ]
    if worst_rows:
        print("\nFailures:")
        for text in worst_rows:
            print(f"  {text}")
    shifted = [(row["entry"], lab, row["sets"][lab]) for row in rows for lab in labels
               if row["sets"][lab]["distractor_q90"] is not None]
    if shifted:
        print("\nReference-skin check (shift of the value with a distractor next to the scar, share of its "
              "spread: 90th percentile / worst; allowed 10% / 35%)")
        for entry in dict.fromkeys(e for e, _, _ in shifted):
            cells = [f"{100 * c['distractor_q90']:.0f}%/{100 * (c['distractor_worst'] or 0):.0f}%".rjust(20)
                     for e, _, c in shifted if e == entry]
            print(f"{entry:<28}{'':<28}{'':>6}" + "".join(cells))
    summary = {
        lab: {"passed": sum(r["sets"][lab]["passed"] for r in rows), "entries": len(rows)} for lab in labels
    }
    print("\n" + "; ".join(f"{lab}: {v['passed']}/{v['entries']} pass" for lab, v in summary.items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "library_version": library.version_id, "families": families, "sets": labels, "summary": summary,
        "entries": rows,
        "seconds": round(time.perf_counter() - started, 1), "python": platform.python_version(),
    }, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
