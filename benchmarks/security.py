"""Security probe set (issue 12): every attack reproduced there, run against today's code.

Each probe is one regression test in ``tests/security/`` (a real attack input: a tampered
extractor file, an edited cache row, a ``library.json`` pointing outside the library, a 200-byte
TIFF claiming 10 gigapixels, a 349-byte YAML alias bomb, a template calling ``os.popen``, a
``run.json`` redirecting the API key, a server echoing the key, a server trickling one byte at a
time, an edited cassette, rich markup in server errors, formula ids in CSV). This script runs
them through pytest and prints one line per probe: the issue item, the probe, and its outcome
(``held`` = the defence worked, ``BROKEN`` = the test failed, ``skipped``).

Writes ``benchmarks/results/security.json`` (probe -> item, outcome, seconds) and exits 1 if any
probe is broken.

Run: ``python benchmarks/security.py [-k EXPR]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is sys.path[0] when run as a script, and benchmarks/sandbox.py would shadow the
# sandbox package: the checkout root must come first.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
RESULTS = ROOT / "benchmarks" / "results" / "security.json"

#: Test name prefix -> issue 12 item it covers (the first match wins).
ITEMS: list[tuple[str, str]] = [
    ("test_edited_cache_cell", "2 cache integrity"),
    ("test_manifest_path", "3 confined paths"), ("test_cli_refuses_escaping", "3 confined paths"),
    ("test_symlinked", "3 confined paths"), ("test_deeply_nested", "3 malformed manifest"),
    ("test_malformed_manifest", "3 malformed manifest"), ("test_leftover", "3 leftover temp files"),
    ("test_status_reports", "3 leftover temp files"), ("test_verify_checks", "4 verify every entry"), ("test_cli_activate", "4 activate re-checks"),
    ("test_extract_refuses", "1 hash at every use"), ("test_cli_extract_exits", "1 hash at every use"),
    ("test_poisoned", "1 hash at every use"), ("test_engine_refuses", "1 hash at every use"),
    ("test_library_specs", "1 hash at every use"), ("test_show_refuses", "1 hash at every use"),
    ("test_generate_usefulness", "1 hash at every use"),
    ("test_default_limit", "5 pixel limit"), ("test_tiff", "5 pixel limit"), ("test_tiled", "5 pixel limit"),
    ("test_png", "5 pixel limit"), ("test_jpeg", "5 pixel limit"), ("test_bad_limit", "5 pixel limit"),
    ("test_image_crashing", "5 crash reason"),
    ("test_alias_bomb", "6 YAML"), ("test_a_few_aliases", "6 YAML"), ("test_oversized_yaml", "6 YAML"),
    ("test_deep_nesting", "6 YAML"), ("test_python_tags", "6 YAML"),
    ("test_templates_cannot", "7 Jinja sandbox"), ("test_template_environment", "7 Jinja sandbox"),
    ("test_resume", "8 endpoint on resume"), ("test_run_ids", "8 run id validation"),
    ("test_key_echoed", "9 key redaction"), ("test_url_password", "9 key redaction"),
    ("test_trickling", "10 deadlines"), ("test_run_deadline", "10 deadlines"), ("test_retry_after", "10 Retry-After cap"),
    ("test_oversized_reply", "10 reply size cap"), ("test_implausible_token", "10 local token count"),
    ("test_plausible_token", "10 local token count"),
    ("test_untouched_cassette", "11 replay digests"), ("test_edited_cassette", "11 replay digests"),
    ("test_progress_printer", "12 escaping"), ("test_error_with_markup", "12 escaping"),
    ("test_textsafe", "12 escaping"),
    ("test_formula_ids", "15 CSV formulas"), ("test_neutralise", "15 CSV formulas"),
    ("test_extract_cli_writes", "15 CSV formulas"), ("test_failed_write", "15 atomic table set"),
]


def item_of(name: str) -> str:
    """The issue item a probe (test function name) covers."""
    return next((item for prefix, item in ITEMS if name.startswith(prefix)), "?")


class _Collector:
    """pytest plugin: one record per test (call phase, or setup when it failed/skipped there)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            name = report.nodeid.split("::", 1)[1]
            outcome = "held" if report.passed else "skipped" if report.skipped else "BROKEN"
            self.records[name] = {"file": report.nodeid.split("::")[0], "item": item_of(name),
                                  "outcome": outcome, "seconds": round(report.duration, 3)}


def main(argv: list[str] | None = None) -> int:
    """Run the probes, print the table, write the JSON; exit 1 if a probe is broken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default=None, help="only probes matching this pytest -k expression")
    args = parser.parse_args(argv)
    collector = _Collector()
    started = time.perf_counter()
    pytest_args = [str(ROOT / "tests" / "security"), "-q", "-p", "no:cacheprovider", "--no-header",
                   "-o", "addopts=--import-mode=importlib"]
    if args.k:
        pytest_args += ["-k", args.k]
    code = pytest.main(pytest_args, plugins=[collector])
    seconds = time.perf_counter() - started
    records = dict(sorted(collector.records.items(), key=lambda kv: (int(kv[1]["item"].split()[0])
                                                                      if kv[1]["item"][0].isdigit() else 99, kv[0])))
    print()
    print(f"{'item':<24} {'outcome':<8} {'s':>6}  probe")
    for name, rec in records.items():
        print(f"{rec['item']:<24} {rec['outcome']:<8} {rec['seconds']:>6.2f}  {name}")
    counts = {o: sum(r["outcome"] == o for r in records.values()) for o in ("held", "BROKEN", "skipped")}
    print(f"\n{len(records)} probes: {counts['held']} held, {counts['BROKEN']} broken, {counts['skipped']} skipped "
          f"({seconds:.1f} s)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"probes": records, "counts": counts, "seconds": round(seconds, 1),
                                   "pytest_exit_code": int(code), "python": platform.python_version(),
                                   "machine": platform.machine()}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if counts["BROKEN"] or int(code) not in (0, 5) else 0


if __name__ == "__main__":
    sys.exit(main())
