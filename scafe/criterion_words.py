"""How a criterion test is put into words: the one place that decides "rises" or "falls".

The plan, write and repair prompts, the criterion tests' failure texts and ``scafe criteria list``
all take their wording from here, so the direction a prompt asks for and the direction the test
checks cannot disagree (issue 11: a "-" item once asked for "less shape" in the plan and "must
fall as shape increases" in the write prompt while the test wanted the opposite).

The convention, for every item: **the main output rises as the item gets more pronounced**. The
file's ``direction`` is the sign of the output's correlation with the physical quantity, chosen to
keep that convention (JSW shape: the output rises with irregularity, so it *falls* as solidity
rises, direction "-"). Two-sided items (pigmentation: lighter and darker are both abnormal) accept
either the size of the deviation or a signed value in ``direction``.

Nothing here names a phantom column: prompts and feedback speak in clinical words only.
"""

from __future__ import annotations

from typing import Any

INVARIANCE_WORDS = ("rotating the photo by 90, 180 or 270 degrees or flipping it must not change "
                    "the value by more than {tol:.0f}%")


def trend(direction: str) -> str:
    """``"rise"`` for ``"+"``, ``"fall"`` for ``"-"``: how the output moves as the quantity rises."""
    if direction not in ("+", "-"):
        raise ValueError(f"direction must be '+' or '-'; got {direction!r}")
    return "rise" if direction == "+" else "fall"


def quantity_trend(gt: Any) -> str:
    """``"rise as <quantity> increases"`` (or fall): the sentence the test checks, in words."""
    return f"{trend(gt.direction)} as {gt.quantity} increases"


def item_trend(item: Any) -> str:
    """The direction requirement for ``item``'s main output, one sentence, as every prompt says it.

    Example: ``must rise as shape gets more pronounced (more irregular): it must fall as the
    solidity of the outline (lesion area / convex-hull area) increases``.
    """
    gt = item.ground_truth
    name = item.name.lower()
    if gt is None:
        return f"must rise as {name} gets more pronounced"
    if gt.two_sided:
        return (f"must rise as {name} gets more abnormal in either direction: either the size of the "
                f"deviation (rises as the scar gets lighter or darker than the skin around it), or a "
                f"signed value that must {quantity_trend(gt)} (positive when darker, negative when lighter)")
    return f"must rise as {name} gets more pronounced: it must {quantity_trend(gt)}"


def tracking_requirement(gt: Any, n_families: int = 1) -> str:
    """What the tracking check requires, in words (threshold included)."""
    within = ""
    if gt.within is not None:
        from scafe.criteria import NUISANCE_TERMS

        within = (f", compared among photos taken at the same {NUISANCE_TERMS[gt.within].removeprefix('the ')} "
                  "(partial rank correlation given it)")
    where = "on each of the independent phantom families" if n_families > 1 else "on validation phantoms"
    return (f"Spearman rank correlation with {gt.quantity} of at least {gt.min_rho:.2f} in the required "
            f"direction{within}, {where}")


def nuisance_lines(gt: Any) -> list[str]:
    """One line per tested nuisance: the bound and its physical reason, in words."""
    return [f"{n.words}: partial rank correlation {n.allowed} once {gt.quantity} is accounted for "
            f"(why: {' '.join(n.why.split())})" for n in gt.nuisances]


def spec_brief(item: Any, *, invariance_tol: float = 0.02, n_families: int = 1) -> dict[str, Any]:
    """Everything the criterion test will check for ``item``, in clinical words (for templates).

    Keys: ``trend`` (see :func:`item_trend`), ``tracking``, ``nuisances`` (list of lines),
    ``invariance`` (text or ``None``), ``why`` (the file's note on its thresholds or ``""``).
    """
    gt = item.ground_truth
    if gt is None:
        return {"trend": item_trend(item), "tracking": "", "nuisances": [], "invariance": None, "why": ""}
    invariance = INVARIANCE_WORDS.format(tol=100 * invariance_tol) if item.orientation_free else None
    return {
        "trend": item_trend(item),
        "tracking": tracking_requirement(gt, n_families),
        "nuisances": nuisance_lines(gt),
        "invariance": invariance,
        "why": " ".join((gt.why or "").split()),
    }
