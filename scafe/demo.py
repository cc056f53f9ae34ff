"""``scafe demo``: phantoms → sandboxed extraction with the committed library → every offline
method → ``report.html`` and ``metrics.json``.

Sizes (chosen so the run fits 2 CPU cores):

======== ============ ========= ======= ===================== ======= ==========================
profile  train pool   test set  pixels  training sizes        repeats measured, fresh cache
======== ============ ========= ======= ===================== ======= ==========================
default  400          400       256     20, 50, 100, 200      10      260 s (load ~1-3), 488 s (load ~5)
quick    120          120       192     20, 50, 100           3       47 s (load ~1), 259 s (load ~9)
======== ============ ========= ======= ===================== ======= ==========================

(2 shared cores; "load" is the machine's load average from other users during the run.) Most of
the time goes to the learning curves, and there to the CNN (one training per subset).

Phantom sets are cached under ``cache_dir()/phantoms`` (same keys as
:func:`scafe.data.phantoms.cached_phantom_set`) and extraction results in the extraction cache,
so a second run only re-trains. The pool and the test set use different seeds (no overlap).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ProgressFactory = Callable[[str, int], Callable[[], None]]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run (see the module docstring)."""

    n_pool: int = 400
    n_test: int = 400
    size: int = 256
    sizes: tuple[int, ...] = (20, 50, 100, 200)
    repeats: int = 10
    profile: str = "default"
    family: str = "a"  # phantom family (docs/PHANTOMS.md)
    pool_seed: int = 1001
    test_seed: int = 2002
    methods: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


DEFAULT = DemoConfig()
QUICK = DemoConfig(n_pool=120, n_test=120, size=192, sizes=(20, 50, 100), repeats=3)


def phantom_set(n: int, seed: int, size: int, profile: str, advance: Callable[[], None] | None = None,
                family: str = "a") -> Path:
    """A cached phantom folder (:func:`scafe.data.phantoms.cached_phantom_set`) with per-phantom progress.

    ``advance`` is called once per phantom, also when the set was already cached, so a progress
    bar always reaches its total.
    """
    from scafe.data.phantoms import cache_key, cached_phantom_set
    from scafe.paths import cache_dir

    was_cached = (cache_dir() / "phantoms" / cache_key(n, seed, size, profile, family=family) / "manifest.csv").is_file()
    folder = cached_phantom_set(n, seed, size, profile, family=family,
                                progress=(lambda _done, _n: advance()) if advance else None)
    if was_cached and advance:
        for _ in range(n):
            advance()
    return folder


@dataclass
class DemoOutcome:
    """Where the demo wrote its files, and the evaluation behind them."""

    report: Path
    metrics: Path
    run: Any  # scafe.evaluation.EvaluationRun
    seconds: float
    config: DemoConfig


def check_config(config: DemoConfig) -> None:
    """Raise ``UsageError`` (exit 2, naming the choices) for an unknown family or profile, before any work."""
    from scafe.data.phantom_format import check_profile
    from scafe.data.phantoms import check_family

    check_family(config.family)
    check_profile(config.profile)


def _require_library(library: Any) -> None:
    """The demo exists to show the library: without one it fails (exit 2) instead of skipping "ours"."""
    from scafe.errors import ConfigError
    from scafe.library import Library

    lib = library if isinstance(library, Library) else Library.open(library)
    if not lib.manifest_path.is_file() or not lib.active():
        raise ConfigError(f"the feature library at {str(lib.path)!r} has no active extractor, so the demo would "
                          "only run the baselines; run from a clone of the repository, set SCAFE_LIBRARY (or "
                          "SCAFE_ROOT) to one, or reinstall with `pip install .` (the wheel ships the library)")


def run_demo(
    out: str | Path,
    *,
    config: DemoConfig = DEFAULT,
    library: Any = None,
    llm_client: Any = None,
    llm_unavailable: str | None = None,
    progress: ProgressFactory | None = None,
) -> DemoOutcome:
    """Run the whole demo into ``out`` (created). See the module docstring for the sizes.

    ``llm_client`` (built by the CLI from the environment) enables ``llm-image``/``llm-features``;
    otherwise they are skipped with ``llm_unavailable`` as the reason.
    """
    from scafe.evaluation import evaluate
    from scafe.evaluation.methods import NO_ENDPOINT
    from scafe.report import write_report

    check_config(config)
    _require_library(library)
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gen = progress("generating phantoms (cached after the first run)", config.n_pool + config.n_test) if progress else None
    pool_dir = phantom_set(config.n_pool, config.pool_seed, config.size, config.profile, gen, config.family)
    test_dir = phantom_set(config.n_test, config.test_seed, config.size, config.profile, gen, config.family)
    phantom_seconds = round(time.perf_counter() - started, 1)
    info = {f"phantom_{k}": v for k, v in asdict(config).items() if k not in ("methods", "extra")}
    run = evaluate(pool_dir, test_dir, sizes=list(config.sizes), repeats=config.repeats,
                   methods=list(config.methods) if config.methods else None, library=library,
                   llm_client=llm_client, llm_unavailable=llm_unavailable or NO_ENDPOINT,
                   progress=progress, dataset_info={"profile": config.profile, "family": config.family, **info})
    run.dataset.setdefault("timings", {})["phantoms_s"] = phantom_seconds
    metrics = run.write_metrics(out / "metrics.json")
    report = write_report(run, out / "report.html", notes=[
        f"Demo phantoms: family {config.family}, profile {config.profile}, pool {config.n_pool} / test {config.n_test} at {config.size} px, "
        f"training sizes {list(config.sizes)} × {config.repeats} repeats."])
    return DemoOutcome(report=report, metrics=metrics, run=run, seconds=time.perf_counter() - started, config=config)
