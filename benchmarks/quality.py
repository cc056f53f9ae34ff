"""Quality benchmark: learning curves of every method on default and hard phantoms.

Runs the demo's evaluation (:func:`scafe.demo.run_demo`) once per phantom family and profile and
writes ``benchmarks/results/quality.json`` = ``{"profiles": {"<family>:<profile>": <metrics.json>}}``
(e.g. ``a:default``, ``a:hard``, ``b:default``, ``b:hard``; each metrics document names its family
in ``dataset.family``) plus the goal checks at ``n_train = 50``. Prints the balanced-accuracy learning-curve
table of every method and the goals.

    python benchmarks/quality.py                  # 400 + 400 phantoms at 256 px, 10 repeats, families a and b
    python benchmarks/quality.py --n 200 --repeats 5 --size 192     # a cheaper run
    python benchmarks/quality.py --markdown       # README tables from the JSON (runs nothing)
    python benchmarks/quality.py --methods library+xgboost   # re-run the library alone, merged into the JSON

``--methods`` splits one evaluation into sittings (the baselines once the phantoms are final, the
library after an extractor change): the rows are exactly those of a single run (see ``merge_methods``).

The JSON keeps exactly the shape ``{"profiles": ...}`` (tests/evaluation/test_protocol.py); the goal
verdicts and margins are recomputed from it (:func:`scafe.evaluation.goals.check_goals`) when printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def table(metrics: dict, metric: str = "balanced_accuracy") -> tuple[list[int], dict[str, dict[int, dict]]]:
    """``sizes, {method: {n: row}}`` from a metrics document."""
    rows: dict[str, dict[int, dict]] = {}
    for row in metrics["results"]:
        if row["metric"] == metric:
            rows.setdefault(row["method"], {})[row["n_train"]] = row
    sizes = sorted({n for by_n in rows.values() for n in by_n if n > 0})
    return sizes, rows


def print_profile(name: str, metrics: dict) -> None:
    """The learning-curve table (mean [95% CI]) and the goals of one profile."""
    from scafe.evaluation.goals import check_goals

    sizes, rows = table(metrics)
    print(f"\n=== profile {name}: balanced accuracy, mean [95% CI] over {metrics['dataset'].get('repeats')} repeats, "
          f"test n = {metrics['dataset'].get('n_test')} ===")
    print(f"{'method':24s}" + "".join(f"{'n=' + str(n):>20s}" for n in sizes))
    for method, by_n in rows.items():
        cells = []
        for n in sizes:
            r = by_n.get(n) or by_n.get(0)
            cells.append("–" if r is None or r["mean"] is None else f"{r['mean']:.3f} [{r['ci_low']:.2f},{r['ci_high']:.2f}]")
        print(f"{method:24s}" + "".join(f"{c:>20s}" for c in cells))
    for s in metrics["skipped"]:
        print(f"skipped {s['method']}: {s['reason']}")
    for g in check_goals(metrics, 50):
        state = {True: "met", False: "MISSED", None: "not evaluated"}[g.passed]
        margin = "" if g.margin is None else f" (ours {g.ours:.3f}, target {g.target:.3f}, margin {g.margin:+.3f})"
        print(f"goal n=50 library+xgboost {g.goal}: {state}{margin}")


def goal_rows(metrics: dict, n_train: int = 50) -> list[dict]:
    """The goals of one metrics document as JSON rows (``margin`` < 0: missed by that much)."""
    from scafe.evaluation.goals import check_goals

    return [{"goal": g.goal, "ours": g.ours, "target": g.target, "margin": g.margin, "passed": g.passed}
            for g in check_goals(metrics, n_train)]


def _verdict(row: dict | None) -> str:
    if row is None or row["passed"] is None:
        return "not evaluated"
    return f"{row['margin']:+.3f} ({'met' if row['passed'] else 'MISSED'})"


def summary_lines(doc: dict, n_train: int = 50) -> list[str]:
    """A Markdown table: one row per ``family:profile`` with the n=50 figures and each goal's margin."""
    lines = ["| family:profile | size, pool/test, repeats | library+xgboost | radiomics+mrmr+xgboost | cnn | oracle "
             "| vs radiomics + 0.05 | vs cnn + 0.10 | vs 0.95 × oracle |",
             "|---|---|---|---|---|---|---|---|---|"]
    from scafe.evaluation.goals import lookup

    for key, metrics in doc["profiles"].items():
        ds = metrics["dataset"]

        def cell(method: str, metrics: dict = metrics) -> str:
            row = lookup(metrics, method, n_train)
            return "–" if row is None or row["mean"] is None else f"{row['mean']:.3f}"

        goals = {g["goal"]: g for g in goal_rows(metrics, n_train)}
        shape = f"{ds.get('phantom_size', '?')} px, {ds.get('n_train_pool')}/{ds.get('n_test')}, {ds.get('repeats')}"
        lines.append(f"| {key} | {shape} | {cell('library+xgboost')} | {cell('radiomics+mrmr+xgboost')} | {cell('cnn')} "
                     f"| {cell('oracle')} | {_verdict(goals.get('≥ radiomics+mrmr+xgboost + 0.05'))} "
                     f"| {_verdict(goals.get('≥ cnn + 0.10'))} | {_verdict(goals.get('≥ 0.95 × oracle'))} |")
    return lines


def curve_lines(metrics: dict) -> list[str]:
    """A Markdown learning-curve table (balanced accuracy means) of one metrics document."""
    sizes, rows = table(metrics)
    lines = ["| method | " + " | ".join(f"n={n}" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for method, by_n in rows.items():
        cells = []
        for n in sizes:
            r = by_n.get(n) or by_n.get(0)
            cells.append("–" if r is None or r["mean"] is None else f"{r['mean']:.3f}")
        name = f"**{method}** (ours)" if method == "library+xgboost" else method
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for skipped in metrics["skipped"]:
        if not skipped["method"].startswith("llm-"):
            lines.append(f"| {skipped['method']} | " + " | ".join("skipped" for _ in sizes) + " |")
    return lines


def markdown(doc: dict) -> str:
    """Every table the README quotes, generated from the benchmark JSON (so no figure is copied by hand)."""
    out = ["Goals at n_train = 50 (balanced accuracy; margin = ours − target):", "", *summary_lines(doc)]
    for key, metrics in doc["profiles"].items():
        ds = metrics["dataset"]
        out += ["", f"Learning curve {key} (radiomics backend {ds.get('radiomics_backend')}, library "
                    f"`{metrics.get('library_version')}`):", "", *curve_lines(metrics)]
    return "\n".join(out) + "\n"


SHAPE = ("library_version", "dataset", "results", "skipped")  # one profile's keys (tests/evaluation/test_protocol.py)


def shaped(metrics: dict) -> dict:
    """A ``metrics.json`` document cut to :data:`SHAPE`; its provenance moves into ``dataset``, goals are recomputed."""
    out = {key: metrics[key] for key in SHAPE}
    if "provenance" in metrics:
        out["dataset"] = {**out["dataset"], "provenance": metrics["provenance"]}
    return out


def merge_methods(old: dict, new: dict, methods: list[str]) -> dict:
    """``old`` with the rows of ``methods`` replaced by ``new``'s: one evaluation run in two sittings.

    Exact, not an approximation: the training subsets depend only on (seed, size, repeat) and each
    method's fits and bootstrap are seeded on their own, so a method's rows do not depend on which
    other methods ran beside it (tests/benchmarks/ checks this). Refused unless both runs saw the
    same pixels (sha256 of every image and mask and of the manifests, from the provenance block),
    sizes, repeats and seed.
    """

    def identity(metrics: dict) -> dict:
        ds = metrics["dataset"]
        data = (ds.get("provenance") or {}).get("datasets") or {}
        files = {side: {k: (data.get(side) or {}).get(k) for k in ("manifest_sha256", "files_sha256")}
                 for side in ("pool", "test")} if data else {"train": ds.get("train"), "test": ds.get("test")}
        return {"data": files, **{k: ds.get(k) for k in ("sizes", "repeats", "seed", "n_test", "n_train_pool")}}

    before, after = identity(old), identity(new)
    for key in before:
        if before[key] != after[key]:
            raise SystemExit(f"cannot merge: dataset {key} differs ({before[key]!r} vs {after[key]!r}); "
                             "re-run every method (drop --methods)")
    ran = set(methods)
    results = [r for r in old["results"] if r["method"] not in ran] + new["results"]
    skipped = [s for s in old["skipped"] if s["method"] not in ran]
    skipped += [s for s in new["skipped"] if s not in skipped]
    runs = old["dataset"].get("runs") or [{"methods": sorted({r["method"] for r in old["results"]}),
                                           "timings": old["dataset"].get("timings")}]
    kept = {k: v for k, v in old["dataset"].items() if v is not None and new["dataset"].get(k) is None}
    dataset = {**new["dataset"], **kept,  # e.g. radiomics_backend, which a library-only sitting leaves None
               "runs": [*runs, {"methods": sorted(ran), "timings": new["dataset"].get("timings")}]}
    version = new["library_version"] if "library+xgboost" in ran else old["library_version"]
    return {"library_version": version, "dataset": dataset, "results": results, "skipped": skipped}


def main(argv: list[str] | None = None) -> None:
    """Run every family and profile and write the JSON (or, with ``--markdown``, print the README tables)."""
    # `python benchmarks/quality.py` puts benchmarks/ first on sys.path, where benchmarks/sandbox.py
    # would shadow the real `sandbox` package that extraction imports
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    from scafe.demo import DEFAULT, run_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=DEFAULT.n_pool, help="Training pool and test set size each.")
    parser.add_argument("--size", type=int, default=DEFAULT.size, help="Phantom size in pixels.")
    parser.add_argument("--repeats", type=int, default=DEFAULT.repeats, help="Subsets per training size.")
    parser.add_argument("--profiles", default="default,hard", help="Comma-separated phantom profiles.")
    parser.add_argument("--families", default="a,b", help="Comma-separated phantom families (docs/PHANTOMS.md).")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json", help="JSON to write.")
    parser.add_argument("--reports", type=Path, default=Path(tempfile.gettempdir()) / "scafe-quality",
                        help="Where each profile's report.html goes (not committed).")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT.sizes)), help="Training sizes (comma-separated).")
    parser.add_argument("--methods", default=None,
                        help="Run only these methods (comma-separated) and merge their rows into the profiles "
                             "already in --out (e.g. the library alone after an extractor change).")
    parser.add_argument("--merge", action="store_true", help="Keep the other profiles already in --out.")
    parser.add_argument("--markdown", action="store_true", help="Print the README tables from --out and exit.")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.out.read_text())), end="")
        return
    methods = args.methods.split(",") if args.methods else None
    doc: dict = {"profiles": {}}  # exactly the shape issue 6 fixes; goals are recomputed from it
    if (args.merge or methods) and args.out.is_file():  # e.g. re-run one profile and keep the other
        doc = {"profiles": json.loads(args.out.read_text())["profiles"]}
    runs = [(family, profile) for family in args.families.split(",") for profile in args.profiles.split(",")]
    for family, profile in runs:
        key = f"{family}:{profile}"
        config = replace(DEFAULT, n_pool=args.n, n_test=args.n, size=args.size, repeats=args.repeats,
                         sizes=tuple(int(n) for n in args.sizes.split(",")), profile=profile, family=family,
                         methods=tuple(methods) if methods else None)
        started = time.perf_counter()
        outcome = run_demo(args.reports / f"quality-{family}-{profile}", config=config,
                           llm_unavailable="benchmark runs offline (no LLM endpoint)")
        metrics = shaped(json.loads(outcome.metrics.read_text()))
        metrics["dataset"].setdefault("timings", {})["total_s"] = round(time.perf_counter() - started, 1)
        if methods and key in doc["profiles"]:  # the first sitting of a split run is stored as it is
            metrics = merge_methods(doc["profiles"][key], metrics, methods)
        doc["profiles"][key] = metrics
        print_profile(f"{profile} (family {family})", metrics)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n")  # after each profile: a crash keeps the first
    print("\n" + "\n".join(summary_lines(doc)))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
