"""Smoke run of benchmarks/sandbox.py at a tiny size (``pytest -m benchmark``)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sandbox.py"


@pytest.mark.benchmark
def test_benchmark_measurements_run() -> None:
    spec = importlib.util.spec_from_file_location("sandbox_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the script's main() is guarded by __name__
    overhead = module.measure_overhead(4)  # raises SystemExit if sandboxed values differ
    start = module.measure_start(3)
    assert math.isfinite(overhead["overhead_ratio"])
    assert overhead["overhead_cpu_ratio"] > 0
    assert start["child_start_ms"] > 0
