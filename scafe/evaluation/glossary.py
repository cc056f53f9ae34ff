"""Plain-language glossary of the features and terms a report shows.

Every library feature column ``<extractor>.<key>`` gets: the criterion item it measures (name and
definition from the criteria file), the extractor's one-line summary, the line of its docstring
that defines ``key`` (its formula) and, where the docstring states one, the unit or range.
Docstrings are read with :func:`ast.get_docstring` on the hash-checked source: parsed, never run
or imported (generated code is hostile). Everything here is untrusted text: escape it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import Any

from scafe.extraction.table import is_namespaced, split_column

#: Terms the report uses, in plain words.
TERMS: tuple[tuple[str, str], ...] = (
    ("keloid probability p", "The model's estimate, between 0 and 1, that a scar is a keloid rather than a "
                             "hypertrophic scar."),
    ("sensitivity", "Of the keloids, the share the model calls keloid (true positive rate)."),
    ("specificity", "Of the hypertrophic scars, the share the model calls hypertrophic (true negative rate)."),
    ("balanced accuracy", "The average of sensitivity and specificity: 0.5 is guessing, 1 is perfect, and it "
                          "is not flattered by an unequal number of keloids and hypertrophic scars."),
    ("AUC", "Area under the ROC curve: the chance that a random keloid gets a higher keloid probability than "
            "a random hypertrophic scar (0.5 = guessing, 1 = perfect ranking)."),
    ("PPV / NPV", "Positive / negative predictive value: of the scars called keloid, the share that are "
                  "keloids; of those called hypertrophic, the share that are hypertrophic. Both depend on how "
                  "common keloids are in the data."),
    ("Brier score", "The mean squared gap between the keloid probability and the truth (1 = keloid, "
                    "0 = hypertrophic): 0 is perfect, 0.25 is what always answering 0.5 scores."),
    ("calibration / reliability curve", "Whether probabilities mean what they say: of the scars given p ≈ 0.8, "
                                        "about 80% should be keloids. Points on the diagonal = calibrated."),
    ("ECE", "Expected calibration error: the case-weighted average distance of the reliability curve from the "
            "diagonal."),
    ("Youden threshold", "The decision threshold that maximises sensitivity + specificity − 1."),
    ("log-odds", "The logarithm of p / (1 − p): 0 means even odds (p = 0.5), +1 multiplies the odds of keloid "
                 "by e ≈ 2.7, −1 divides them by 2.7. Feature contributions below are in log-odds."),
    ("TreeSHAP contribution", "How much one feature pushed one case's keloid log-odds up (towards keloid) or "
                              "down (towards hypertrophic), from the trained trees (XGBoost pred_contribs)."),
    ("ITA (individual typology angle)", "Skin tone from colour: arctan((L* − 50) / b*) in degrees; higher is "
                                        "lighter skin. Bands: very light > 55°, light 41–55°, intermediate "
                                        "28–41°, tan 10–28°, brown −30–10°, dark ≤ −30°."),
    ("95% interval", "The range the figure would plausibly take on another test set and other training "
                     "subsets (bootstrap over test cases and repeats)."),
)

_TRAILING = re.compile(r"\s{2,}\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")
_RANGE = re.compile(r"^\s*Range:\s*(.+?)(?:\.\s|\.$|$)", re.M)


@dataclass(frozen=True)
class FeatureEntry:
    """One glossary row."""

    column: str
    extractor: str
    key: str
    item: str  # "scale/item"
    item_name: str
    item_definition: str
    summary: str  # the docstring's first line
    formula: str  # the docstring line(s) defining this key ("" when it does not say)
    unit: str  # the parenthesised note after the formula, "" when none
    value_range: str  # the docstring's "Range:" sentence, "" when none

    def axis_label(self) -> str:
        """An x-axis label: the key with its unit, else its range, as the extractor states them."""
        hint = self.unit or (f"range {self.value_range}" if self.value_range else "unit not stated by the extractor")
        return f"{self.key} ({hint})"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def docstring_of(source: str) -> str:
    """The module docstring of an extractor's source, '' when it has none or does not parse."""
    try:
        return ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""


def key_definition(doc: str, key: str) -> tuple[str, str]:
    """``(formula, unit)`` of ``key`` from a docstring: its defining line plus deeper-indented continuations."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not re.match(rf"{re.escape(key)}(\s|=|$)", stripped):
            continue
        indent = len(line) - len(stripped)
        block = [stripped]
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) > indent + 1:
                block.append(nxt.strip())
            else:
                break
        m = _TRAILING.search(block[0])
        unit = m.group(1).strip() if m else ""
        text = " ".join(" ".join(block).split())
        formula = text[len(key):].strip().lstrip("=").strip()
        return formula, unit
    return "", ""


def _criterion(ref: str) -> tuple[str, str]:
    try:
        from scafe.criteria import find_item

        item = find_item(ref)[1]
        return str(item.name), str(item.definition)
    except Exception:  # criteria moved or edited: the glossary still lists the feature
        return "", ""


def _sources(library: Any) -> dict[tuple[str, int], str]:
    from scafe.errors import ScafeError
    from scafe.library import Library

    try:
        lib = library if isinstance(library, Library) else Library.open(library)
        out = {}
        for entry in lib.entries():
            try:
                out[(entry.name, int(entry.version))] = lib.source(entry)  # hash-checked
            except (ScafeError, OSError):
                continue
        return out
    except (ScafeError, OSError):
        return {}


def feature_glossary(columns: list[str], meta: dict[str, dict[str, Any]], library: Any = None) -> list[FeatureEntry]:
    """Glossary rows of ``columns`` (namespaced feature columns) in their order."""
    sources = _sources(library)
    rows = []
    for column in columns:
        if not is_namespaced(column):
            continue
        extractor, key = split_column(column)
        m = meta.get(column, {})
        ref = f"{m.get('scale', '')}/{m.get('item', '')}" if m.get("scale") else ""
        name, definition = _criterion(ref) if ref else ("", "")
        source = sources.get((extractor, int(m.get("version", 0) or 0)), "")
        if not source:  # the version is not in this library: any version of the extractor explains the key
            source = next((s for (n, _), s in sorted(sources.items(), reverse=True) if n == extractor), "")
        doc = docstring_of(source)
        formula, unit = key_definition(doc, key)
        rng = _RANGE.search(doc)
        rows.append(FeatureEntry(column=column, extractor=extractor, key=key, item=ref,
                                 item_name=name or str(m.get("item_name", "")), item_definition=definition,
                                 summary=doc.strip().splitlines()[0] if doc.strip() else "", formula=formula,
                                 unit=unit, value_range=rng.group(1).strip() if rng else ""))
    return rows
