"""Does the validator accept physically sound extractors and reject plausible wrong ones?

The labelled corpus ``tests/validator_corpus/`` holds, per physical quantity, extractors written
by hand: ``sound_*.py`` (different sound formulations: the validator must accept them) and
``wrong_*.py`` (plausible but wrong: wrong ring, absolute colour, uint8 wrap-around, skin-tone
proxy, orientation-dependent, ...; it must reject them). Each runs through the whole validator
(sandbox contract battery, then the criterion tests of every item that shares its folder) on
every phantom family given; it is accepted for an item only if it passes on each family.

sensitivity = accepted sound / sound; specificity = rejected wrong / wrong (over (extractor, item)
pairs). Goals (issue 11): sensitivity >= 0.90, specificity >= 0.95 overall.

Run: ``python benchmarks/validator.py [--families a,b] [--groups vascularity,height]``. Prints a
table per item and writes ``benchmarks/results/validator.json`` (keys ``sensitivity``,
``specificity``, ``per_item``, plus ``per_family``, ``misclassified`` and ``goals``).
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
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "validator_corpus")]  # this checkout first

RESULTS = Path(__file__).resolve().parent / "results" / "validator.json"
GOALS = {"sensitivity": 0.90, "specificity": 0.95}


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


def score(verdicts: list) -> dict:
    """Sensitivity and specificity of a list of verdicts."""
    sound = [v for v in verdicts if v.entry.sound]
    wrong = [v for v in verdicts if not v.entry.sound]
    return {"sensitivity": _rate(sum(v.accepted for v in sound), len(sound)),
            "specificity": _rate(sum(not v.accepted for v in wrong), len(wrong)),
            "n_sound": len(sound), "n_wrong": len(wrong)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="", help="phantom families, comma-separated (default: all)")
    parser.add_argument("--groups", default="", help="corpus folders to run (default: all)")
    parser.add_argument("--seed", type=int, default=None,
                        help="phantom seed (default: the criterion tests' validation seed; another seed is "
                             "a held-out check of thresholds calibrated on the validation set)")
    parser.add_argument("--n", type=int, default=None,
                        help="phantoms per family (default: the criterion tests' VALIDATION_N); a larger held-out "
                             "set (e.g. --seed 5150 --n 400) estimates each verdict's figures with less noise")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"output JSON (default {RESULTS})")
    args = parser.parse_args()

    from corpus import judge, load_corpus

    from scafe.criterion_tests import CRITERION_FAMILIES, available_families

    families = tuple(f for f in args.families.split(",") if f.strip()) or available_families()
    entries = load_corpus([g for g in args.groups.split(",") if g.strip()] or None)
    started = time.perf_counter()
    verdicts = []
    per_family_verdicts: dict[str, list] = {f: [] for f in families}
    for entry in entries:
        found = judge(entry, families, seed=args.seed, n=args.n)
        verdicts.extend(found)
        for verdict in found:
            for family in families:
                fam = verdict.families.get(family)
                passed = bool(fam and fam.get("passed")) and verdict.contract_ok
                per_family_verdicts[family].append((verdict.entry.sound, passed))
        marks = " ".join(f"{v.item}:{'acc' if v.accepted else 'rej'}{'' if v.correct else '(!)'}" for v in found)
        print(f"  {entry.label:<46} {'sound' if entry.sound else 'wrong'}  {marks}", file=sys.stderr, flush=True)

    items = sorted({v.item for v in verdicts})
    per_item = {item: score([v for v in verdicts if v.item == item]) for item in items}
    overall = score(verdicts)
    per_family = {}
    for family, pairs in per_family_verdicts.items():
        sound = [p for s, p in pairs if s]
        wrong = [p for s, p in pairs if not s]
        per_family[family] = {"sensitivity": _rate(sum(sound), len(sound)),
                              "specificity": _rate(sum(not p for p in wrong), len(wrong))}
    misclassified = [
        {"extractor": v.entry.label, "item": v.item, "label": "sound" if v.entry.sound else "wrong",
         "accepted": v.accepted, "contract_ok": v.contract_ok,
         "families": {f: d for f, d in v.families.items()}}
        for v in verdicts if not v.correct
    ]  # fmt: skip

    print(f"\nValidator on the labelled corpus ({len(entries)} extractors, families {', '.join(families)}; "
          f"criterion families required in production: {', '.join(CRITERION_FAMILIES)})")
    print(f"{'item':<34}{'sound':>6}{'wrong':>6}{'sens':>7}{'spec':>7}")
    for item, s in per_item.items():
        print(f"{item:<34}{s['n_sound']:>6}{s['n_wrong']:>6}{_fmt(s['sensitivity']):>7}{_fmt(s['specificity']):>7}")
    print(f"{'overall':<34}{overall['n_sound']:>6}{overall['n_wrong']:>6}"
          f"{_fmt(overall['sensitivity']):>7}{_fmt(overall['specificity']):>7}")
    for family, s in per_family.items():
        print(f"  family {family} alone: sensitivity {_fmt(s['sensitivity'])}, specificity {_fmt(s['specificity'])}")
    goals = {k: {"goal": g, "value": overall[k], "met": overall[k] is not None and overall[k] >= g}
             for k, g in GOALS.items()}
    for key, goal in goals.items():
        verdict = "met" if goal["met"] else f"MISSED by {goal['goal'] - (goal['value'] or 0):.2f}"
        print(f"goal {key} >= {goal['goal']:.2f}: {_fmt(goal['value'])} {verdict}")
    if misclassified:
        print("\nMisclassified:")
        for row in misclassified:
            why = "; ".join(f for d in row["families"].values() for f in (d.get("failures") or [])[:2])
            print(f"  {row['extractor']} for {row['item']} ({row['label']}, "
                  f"{'accepted' if row['accepted'] else 'rejected'}){': ' + why[:300] if why else ''}")
    everything = [
        {"extractor": v.entry.label, "item": v.item, "label": "sound" if v.entry.sound else "wrong",
         "accepted": v.accepted, "families": {f: {k: d.get(k) for k in ("passed", "rho", "form", "nuisance_rho",
                                                                          "invariance", "failures")}
                                              for f, d in v.families.items()}}
        for v in verdicts
    ]  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "sensitivity": overall["sensitivity"], "specificity": overall["specificity"],
        "n_sound": overall["n_sound"], "n_wrong": overall["n_wrong"], "per_item": per_item,
        "per_family": per_family, "families": list(families), "goals": goals, "misclassified": misclassified,
        "verdicts": everything, "seed": args.seed, "n": args.n, "seconds": round(time.perf_counter() - started, 1), "python": platform.python_version(),
    }, indent=2))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
