"""What the data of an evaluation are, in words (metrics.json ``dataset`` and the report header).

A phantom set (its manifest has ``latent_*`` ground-truth columns) is described with the phantom
families it holds (a manifest may mix family A and family B, see docs/PHANTOMS.md); a user
dataset is called one, never "synthetic phantoms with known ground truth". The skip reasons of
the oracle and nuisance-only methods name each manifest that lacks the columns they need.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

FAMILY_NAMES = {"a": "family A (procedural renderer)", "b": "family B (independent spectral renderer)"}
NEEDED = {"oracle": ("latent_", "the phantoms' true latent class variables"),
          "nuisance-only": ("nuisance_", "the phantoms' skin, lighting and camera variables")}


def manifest_of(loaded: Any) -> str:
    """The manifest path of a loaded set (its folder when it has none)."""
    ds = loaded.dataset
    return str(getattr(ds, "manifest", None) or getattr(ds, "root", "?"))


def columns_of(loaded: Any) -> set[str]:
    """Column names of the manifest behind a loaded set (from its frame, else its cases)."""
    frame = getattr(loaded.dataset, "frame", None)
    if frame is not None:
        return {str(c) for c in frame.columns}
    cases = getattr(loaded.dataset, "cases", [])
    return set().union(*(c.extra.keys() for c in cases)) if cases else set()


def families(loaded: Any) -> dict[str, int]:
    """``{family: count}`` of the phantom families in a set (empty when there is no ``family`` column)."""
    values = [str(c.extra.get("family", "")).strip().lower() for c in getattr(loaded.dataset, "cases", [])
              if "family" in c.extra]
    return dict(sorted(Counter(v or "not recorded" for v in values).items()))


def _kind(loaded: Any) -> tuple[bool, str]:
    cases = loaded.cases
    phantoms = cases.latent is not None and cases.latent.shape[1] > 0
    n = len(cases.y)
    if not phantoms:
        return False, (f"user dataset: {n} labelled images, no ground truth beyond the keloid/hypertrophic "
                       "labels")
    fam = families(loaded)
    held = (", ".join(f"{FAMILY_NAMES.get(k, 'family ' + k)}: {v}" for k, v in fam.items())
            if fam else "phantom family not recorded in the manifest")
    return True, f"synthetic phantoms with known ground truth (latent_* columns), {n} cases — {held}"


def describe_data(pool: Any, test: Any | None = None) -> dict[str, Any]:
    """``data_kind``, ``synthetic``, ``manifest``, ``families`` (and the same for a separate test set)."""
    synthetic, kind = _kind(pool)
    out: dict[str, Any] = {"data_kind": kind, "synthetic": synthetic, "manifest": manifest_of(pool),
                           "families": families(pool)}
    if test is not None and test is not pool:
        t_synth, t_kind = _kind(test)
        out.update(test_data_kind=t_kind, test_synthetic=t_synth, test_manifest=manifest_of(test),
                   test_families=families(test))
    return out


def name_missing_columns(skipped: list[dict[str, str]], sides: dict[str, Any]) -> None:
    """Rewrite the oracle/nuisance-only skip reasons: which manifest (side) lacks which columns."""
    for entry in skipped:
        if entry["method"] not in NEEDED:
            continue
        prefix, what = NEEDED[entry["method"]]
        lacking = [f"the {side} manifest {manifest_of(loaded)}" for side, loaded in sides.items()
                   if not any(c.startswith(prefix) for c in columns_of(loaded))]
        if lacking:
            entry["reason"] = (f"{' and '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} no {prefix}* "
                               f"columns ({what}); this method needs them in every manifest, "
                               "so it runs on phantom sets only")
