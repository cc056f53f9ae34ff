"""How hard is each phantom world? Nuisance-only, oracle and best single library feature, per family.

For each family (default: a and b) a set of ``--n`` phantoms (default 400 at 256 px, seed 5150,
default profile) is rendered (cached) and:

* ``nuisance_only_bacc``: balanced accuracy of a random forest (200 trees) trained on 200 phantoms'
  ``nuisance_*`` columns and tested on the rest, mean over ``--repeats`` random stratified splits
  (must stay at chance: <= 0.60);
* ``oracle_bacc_n200``: the same on the ``latent_*`` columns (the true physical variables; goal
  >= 0.90). A logistic regression's figures are written too (``*_logistic``);
* ``best_single_feature_auc``: the committed library's active extractors run (sandboxed) on the
  same phantoms; the largest ``max(AUC, 1 - AUC)`` of any single output against the label, with
  its column (goal <= 0.85: no single clinically meaningful feature separates the classes).

Prints a table and writes ``benchmarks/results/worlds.json`` with keys
``families.<a|b>.{nuisance_only_bacc, oracle_bacc_n200, best_single_feature_auc}``.

    python benchmarks/worlds.py [--families a,b] [--n 400] [--size 256] [--repeats 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "worlds.json"
GOALS = {"nuisance_only_bacc": ("<=", 0.60), "oracle_bacc_n200": (">=", 0.90), "best_single_feature_auc": ("<=", 0.85)}


def split_bacc(x: np.ndarray, y: np.ndarray, n_train: int, repeats: int, model: str) -> float:
    """Mean balanced accuracy over ``repeats`` stratified train/test splits with ``n_train`` training rows."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedShuffleSplit
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    splits = StratifiedShuffleSplit(repeats, train_size=n_train, random_state=0)
    scores = []
    for train, test in splits.split(x, y):
        clf = (RandomForestClassifier(200, random_state=0, n_jobs=1) if model == "forest"
               else make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)))
        clf.fit(x[train], y[train])
        scores.append(balanced_accuracy_score(y[test], clf.predict(x[test])))
    return float(np.mean(scores))


def single_feature_aucs(frame, y: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    out = {}
    for col in frame.columns:
        v = frame[col].to_numpy(float)
        ok = np.isfinite(v)
        if ok.sum() < 10 or np.ptp(v[ok]) == 0 or len(set(y[ok])) < 2:
            continue
        auc = float(roc_auc_score(y[ok], v[ok]))
        out[col] = max(auc, 1 - auc)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def world(family: str, n: int, size: int, seed: int, repeats: int, workers: int) -> dict:
    import pandas as pd

    from scafe.data.phantom_format import LATENT_COLUMNS, NUISANCE_COLUMNS
    from scafe.data.phantoms import cached_phantom_set
    from scafe.extraction import extract

    started = time.perf_counter()
    folder = cached_phantom_set(n, seed, size, family=family, workers=workers)
    render_s = time.perf_counter() - started
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str}).set_index("id")
    y = (manifest["label"] == "keloid").to_numpy()
    n_train = min(200, n // 2)
    result: dict = {"n": n, "size": size, "seed": seed, "n_train": n_train, "repeats": repeats,
                    "phantoms_s": round(render_s, 1)}
    for name, cols in (("nuisance_only", NUISANCE_COLUMNS), ("oracle", LATENT_COLUMNS)):
        x = manifest[list(cols)].to_numpy(float)
        key = "nuisance_only_bacc" if name == "nuisance_only" else "oracle_bacc_n200"
        result[key] = round(split_bacc(x, y, n_train, repeats, "forest"), 4)
        result[key + "_logistic"] = round(split_bacc(x, y, n_train, repeats, "logistic"), 4)
    latent_aucs = single_feature_aucs(manifest[list(LATENT_COLUMNS)], y)
    result["latent_auc"] = {k: round(v, 4) for k, v in latent_aucs.items()}
    started = time.perf_counter()
    table = extract(folder, workers=workers, progress=False)
    result["extraction_s"] = round(time.perf_counter() - started, 1)
    result["library_version"] = str(table.meta.get("library_version", ""))
    feats = table.frame.reindex(manifest.index)
    aucs = single_feature_aucs(feats, y)
    best = next(iter(aucs.items())) if aucs else ("", float("nan"))
    result["best_single_feature"] = best[0]
    result["best_single_feature_auc"] = round(best[1], 4)
    result["feature_auc"] = {k: round(v, 4) for k, v in aucs.items()}
    result["goals"] = {k: {"target": f"{op} {t}", "met": bool(result[k] <= t if op == "<=" else result[k] >= t),
                           "margin": round(t - result[k] if op == "<=" else result[k] - t, 4)}
                       for k, (op, t) in GOALS.items()}
    return result


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent  # benchmarks/sandbox.py would shadow the sandbox package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="a,b")
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=5150)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    doc: dict = {"benchmark": "worlds", "families": {}}
    for family in args.families.split(","):
        doc["families"][family] = world(family, args.n, args.size, args.seed, args.repeats, args.workers)
    print(f"{'family':8s}{'nuisance-only bacc':>20s}{'oracle bacc n=200':>20s}{'best single AUC':>18s}  feature")
    for family, r in doc["families"].items():
        print(f"{family:8s}{r['nuisance_only_bacc']:>20.3f}{r['oracle_bacc_n200']:>20.3f}"
              f"{r['best_single_feature_auc']:>18.3f}  {r['best_single_feature']}")
    for family, r in doc["families"].items():
        for key, g in r["goals"].items():
            print(f"{family}: {key} {g['target']}: {'met' if g['met'] else 'MISSED'} (margin {g['margin']:+.3f})")
        top = list(r["feature_auc"].items())[:5]
        print(f"{family}: top library outputs by AUC: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
        print(f"{family}: latent AUCs: " + ", ".join(f"{k} {v:.3f}" for k, v in list(r["latent_auc"].items())[:6]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
