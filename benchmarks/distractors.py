"""Colour extractors before and after the robust reference skin, on both phantom families.

For each colour/rim reference extractor, the version before the robust reference skin (v3, or v5
for colour_mismatch), the first robust one that picked skin by lightness (v4, v6 for
colour_mismatch; v4 for rim_erythema, whose v5 picks it by chromaticity) and the active one run
through the full criterion tests
(``scafe.criterion_tests.run_criterion_tests``, sandboxed) on the validation phantoms of every
family: Spearman rho with the item's ground truth, the nuisance checks, invariance, and the
"reference skin" check (``scafe.criterion_tests.distractors``: a ruler, mole, tattoo, marker
dots, cast shadow or hair composited into the perilesional ring of the first 12 phantoms; the
shift of the main output as a share of its 5-95 % spread without them). The table gives rho, the
90th percentile and the worst shift, the median shift per kind and what failed.

Run: ``python benchmarks/distractors.py [--families a,b]``. Prints the table and writes
``benchmarks/results/distractors.json``. Exit status 0 even when an extractor fails: the table is
the result (``tests/criterion/test_distractor_check.py`` is the gate).
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

RESULTS = Path(__file__).resolve().parent / "results" / "distractors.json"
#: name -> (criterion item, [(earlier version, its main output), ...])
BEFORE = {
    "vss_vascularity": ("vss/vascularity", [(3, "vascularity_delta_a"), (4, "vascularity_delta_a")]),
    "vss_pigmentation": ("vss/pigmentation", [(3, "pigmentation_delta_mel_takiwaki"),
                                              (4, "pigmentation_delta_mel_takiwaki")]),
    "rim_erythema": ("jsw_keloid/rim_erythema", [(3, "rim_erythema_delta_a"), (4, "rim_erythema_delta_ei")]),
    "colour_mismatch": ("manchester/colour", [(5, "colour_mismatch_delta_e_weighted"),
                                              (6, "colour_mismatch_delta_e")]),
}


def _row(label: str, key: str, family: str, result) -> dict:
    check = next((c for c in result.checks if c.name == "distractors"), None)
    kinds = {}
    worst = None
    if check is not None:
        m = re.search(r"median per kind: ([^;]*); worst (\d+)%", check.text)
        if m:
            kinds = {k: int(v) / 100 for k, v in re.findall(r"(\w+) (\d+)%", m.group(1))}
            worst = int(m.group(2)) / 100
    failed = [c.name if c.name != "nuisance" else c.text.split(":")[0] for c in result.checks if not c.passed]
    return {"extractor": label, "output": key, "family": family, "rho": result.rho, "passed": result.passed,
            "distractor_q90": None if check is None else check.found, "distractor_worst": worst,
            "median_shift_per_kind": kinds, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="a,b", help="phantom families (default a,b)")
    args = parser.parse_args()
    from scafe.criteria import find_item
    from scafe.criterion_tests import run_criterion_tests
    from scafe.library import Library

    families = tuple(args.families.split(","))
    library = Library.open()
    rows: list[dict] = []
    started = time.perf_counter()
    for name, (ref, earlier) in BEFORE.items():
        item = find_item(ref)[1]
        active = library.get(name)
        runs = [(library.get(name, version), key) for version, key in earlier]
        for entry, key in runs + [(active, active.validation["criterion"]["output_key"])]:
            report = run_criterion_tests(library.source(entry), item, output_key=key, families=families)
            for family, result in report.families.items():
                rows.append(_row(entry.label, key, family, result))
    seconds = time.perf_counter() - started
    print(f"{'extractor':22s} {'output':34s} fam   rho    q90  worst  {'median shift per kind':44s} result")
    for r in rows:
        kinds = " ".join(f"{k[:4]}={v:.2f}" for k, v in r["median_shift_per_kind"].items())
        q90 = "-" if r["distractor_q90"] is None else f"{r['distractor_q90']:.3f}"
        worst = "-" if r["distractor_worst"] is None else f"{r['distractor_worst']:.2f}"
        verdict = "PASS" if r["passed"] else "FAIL: " + ", ".join(r["failed"])
        print(f"{r['extractor']:22s} {r['output']:34s} {r['family']:3s} {r['rho']:+.3f} {q90:>6s} {worst:>6s}  "
              f"{kinds:44s} {verdict}")
    print(f"({seconds:.0f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "families": list(families), "seconds": round(seconds, 1),
                                   "machine": platform.platform()}, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
