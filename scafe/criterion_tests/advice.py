"""Repair advice keyed to the failing checks *and* to what the code already does.

Generic advice repeated to code that already follows it wastes an attempt ("compare with the
perilesional skin" to code that already does). So each failing check is paired with a look at
the source (plain text patterns; the code is never imported) and the advice says what to change
next. Every text is in clinical words: no phantom column names.
"""

from __future__ import annotations

import re
from typing import Any

_PATTERNS = {
    "ring": r"distance_transform_edt|binary_dilation|dilation\(|isotropic_dilation|~\s*mask|np\.logical_not\(\s*mask",
    "lab": r"rgb2lab|COLOR_RGB2LAB|COLOR_RGB2Lab",
    "log": r"\blog(10|2|1p)?\(",
    "ratio_or_diff": r"\]\s*/\s*|\)\s*/\s*|mean\(\)\s*-|median\([^)]*\)\s*-",
    "fixed_axis": r"axis\s*=\s*[01]\b(?![^)]*hypot)|\bsobel_[hv]\b|\bscharr_[hv]\b|np\.diff\(",
    "float": r"astype\(\s*(np\.)?float|img_as_float|rgb2lab|rgb2gray|rgb2hsv|dtype\s*=\s*(np\.)?float",
    "glare": r"percentile\([^)]*9[5-9]|< *np\.percentile",
    "normalised_size": r"sqrt\(|equivalent|radius|mask\.sum\(\)|area",
    # CIELAB channel 0 (L*, lightness) taken from rgb2lab / cvtColor output
    "lab_lightness": r"(rgb2lab|cvtColor)\([^\n]*\)\s*\[\s*(:\s*,\s*:|\.\.\.)\s*,\s*0\s*\]|lab\w*\s*\[\s*(:\s*,\s*:|\.\.\.)\s*,\s*0\s*\]",
}
#: Items whose quantity is a redness (haemoglobin): a lightness contrast is a different quantity.
_REDNESS_COLUMNS = ("latent_hb_excess", "latent_rim_delta_a", "latent_central_delta_a")


def code_traits(code: str | None) -> set[str]:
    """Which of the traits in ``_PATTERNS`` the source shows."""
    if not code:
        return set()
    return {name for name, pattern in _PATTERNS.items() if re.search(pattern, code)}


def _nuisance_advice(column: str, words: str, traits: set[str]) -> str:
    if column in ("nuisance_ita", "nuisance_hb_baseline"):
        if "ring" in traits:
            return (f"It follows {words} although your code already compares the lesion with the surrounding "
                    "skin: the dependence comes from the formula, not the reference. Prefer ratios of optical "
                    "densities or chromaticities (log of lesion over skin) to differences of CIELAB values, whose "
                    "step size depends on the skin's own lightness.")
        return (f"It follows {words}: compare the lesion with a ring of skin just outside it (e.g. 3-15 px "
                "from the border) as a difference or ratio, so the patient's own colour cancels.")
    if column == "nuisance_color_temp_k":
        if "lab" in traits:
            return ("It follows the colour of the light: CIELAB assumes daylight, so divide each RGB channel by "
                    "its mean on the surrounding skin (white-balance on the skin) before converting, or use "
                    "log-channel differences against the skin.")
        return ("It follows the colour of the light: use log-channel differences against the surrounding skin, "
                "or white-balance each channel on the skin before computing.")
    if column == "nuisance_illum_gradient":
        if "ring" in traits:
            return ("It follows uneven lighting although it uses a skin ring: make the ring thinner and closer "
                    "to the border (3-15 px), or compare each lesion sector with the skin next to it.")
        return "It follows uneven lighting: compare with skin right next to the lesion, not image-wide values."
    if column == "nuisance_light_elevation_deg":
        if "glare" in traits:
            return ("It follows the light angle although it already trims bright pixels: measure the quantity "
                    "as a ratio to the same quantity on the surrounding skin, which sees the same light.")
        return ("It follows the light angle (shading, highlights): exclude glare (the brightest few per cent of "
                "pixels) and normalise by the same quantity on the surrounding skin.")
    if column == "nuisance_px_per_mm":
        return ("It changes with camera distance or zoom: express lengths relative to the lesion's own size "
                "(e.g. its equivalent radius) instead of fixed pixel counts.")
    if column.startswith("latent_"):
        return (f"It follows {words}, which is a different property of the scar: remove that part of the "
                "signal (normalise by it, or measure only what distinguishes this item).")
    return f"It follows {words}: measure it relative to the surrounding skin, which shares it."


def _wrong_way_advice(item: Any, traits: set[str]) -> list[str]:
    """The output moves against the item: a sign slip, or a different quantity that goes the other way.

    Flipping the sign is right only for the first; advising it blindly turned a lightness contrast
    into a "redness" measure (issue 11: misleading names in a library), so the text says when it applies.
    """
    from scafe.criterion_words import item_trend

    lines = [f"The output moves the wrong way: it {item_trend(item)}. If your code measures this very "
             "quantity with the opposite sign, use the opposite difference or the complement (e.g. 1 - x) "
             "and rename the key if its meaning changes. If it measures something else that merely goes "
             "along with it, flipping the sign will not make it a measure of this item: measure the "
             "quantity itself (see the measurement hint)."]
    if "lab_lightness" in traits and item.ground_truth.column in _REDNESS_COLUMNS:
        lines.append("Your code reads CIELAB channel 0, which is L* (lightness); redness is a* (channel 1), "
                     "or an erythema index from the red and green channels. A darker scar is not a redder "
                     "one (melanin darkens too).")
    return lines


def advice_for(report: Any, code: str | None, item: Any) -> list[str]:
    """Advice lines for a failed ``CriterionReport`` (or its ``to_dict()``), given the code."""
    from scafe.criteria import NUISANCE_TERMS

    traits = code_traits(code)
    families = report.get("families", {}) if isinstance(report, dict) else {
        f: r.to_dict() for f, r in report.families.items()}
    failing = [c for fam in families.values() for c in fam.get("checks", []) if not c.get("passed")]
    out: list[str] = []
    seen: set[str] = set()
    gt = item.ground_truth
    for check in failing:
        name, column = check.get("name"), check.get("column")
        key = f"{name}:{column}"
        if key in seen:
            continue
        seen.add(key)
        if name == "tracking":
            found = check.get("found")
            if found is not None and gt is not None and (found < -0.2 if gt.direction == "+" else found > 0.2):
                out += _wrong_way_advice(item, traits)
            elif gt is not None and gt.within is not None:
                out.append("The tracking is judged among photos with the same light elevation: use a shading cue "
                           "whose size grows with the elevation of the scar (border shading, highlight on the "
                           "dome, cast shadow), as a ratio to the same measure on the flat skin around it.")
            else:
                out.append(f"The output hardly follows {gt.quantity if gt else 'the item'}: measure it more "
                           "directly (see the measurement hint) and on the whole lesion, not a part of it.")
        elif name == "nuisance" and column:
            out.append(_nuisance_advice(column, NUISANCE_TERMS.get(column, "a nuisance"), traits))
        elif name == "invariance":
            if "fixed_axis" in traits:
                out.append("Your code uses a fixed image direction (an axis= derivative, a row/column split or "
                           "np.diff): use gradient magnitudes (hypot of both derivatives) or average over "
                           "directions, so rotating the photo cannot change the value.")
            else:
                out.append("Rotating or flipping the photo changed the value: avoid anything tied to image rows, "
                           "columns or a fixed direction; use magnitudes and symmetric neighbourhoods.")
        elif name == "output" and "float" not in traits:
            out.append("Convert pixels to float before arithmetic and guard divisions by zero.")
    return out
