"""Report sections a clinical reader needs besides the learning curves: the data, calibration,
operating thresholds, subgroups, provenance and the glossary.

Each function returns one ``<section>`` (see :func:`scafe.report.html.section`). Every value that
comes from outside the code (file names, manifest column values, docstrings, criteria text,
package and library metadata) goes through :func:`scafe.report.html.esc`.
"""

from __future__ import annotations

from typing import Any

from scafe.report import figures
from scafe.report.html import esc, figure, fmt, section, table

LOG_ODDS = ("log-odds = ln(p / (1 − p)): 0 is even odds; +1 multiplies the odds of keloid by e ≈ 2.7, −1 "
            "divides them by 2.7")
SUBGROUP_METHODS = ("library+xgboost", "radiomics+mrmr+xgboost", "cnn", "oracle")


def _cls(method: str) -> str:
    return "ours" if method == "library+xgboost" else ("ref" if method in ("oracle", "nuisance-only") else "")


def _shown(clin: dict[str, Any], key: str) -> list[str]:
    """Main methods first (in the figures' order), then the others with results."""
    have = list(clin.get(key, {}))
    return [m for m in figures.MAIN if m in have] + [m for m in have if m not in figures.MAIN and
                                                     not m.startswith("radiomics+")]


def data_section(info: dict[str, Any]) -> str:
    """What the data are: phantoms (which families) or a user dataset, and where they came from."""
    facts = [("data", esc(info.get("data_kind", "not described"))),
             ("manifest", f"<code>{esc(info.get('manifest') or info.get('train'))}</code>")]
    if info.get("test_data_kind"):
        facts += [("test data", esc(info["test_data_kind"])),
                  ("test manifest", f"<code>{esc(info.get('test_manifest'))}</code>")]
    facts.append(("protocol", esc(info.get("protocol", "fixed held-out test set"))
                  + (f", grouped by <code>{esc(info['grouped_by'])}</code>" if info.get("grouped_by") else "")))
    lead = ("Synthetic phantoms have known ground truth (the latent_* columns the oracle uses); a user dataset "
            "has only its labels, so figures on it say how well scafe separates those labels, nothing more."
            if info.get("synthetic") else
            "A user dataset: the figures say how well each method separates its keloid/hypertrophic labels; there "
            "is no ground truth beyond them, so the oracle and nuisance-only references cannot run.")
    body = "<dl class='facts'>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    return section("The data", lead, body, "data")


def calibration_section(clin: dict[str, Any]) -> str:
    """Reliability curve and Brier score of the main methods."""
    methods = _shown(clin, "calibration")
    if not methods:
        return ""
    cal = {m: clin["calibration"][m] for m in methods}
    rows = [(_cls(m), [esc(m), fmt(c.get("brier")), fmt(c.get("ece")), esc(c.get("n")), esc(c.get("n_unscored"))])
            for m, c in cal.items()]
    lead = (f"At n_train = {esc(clin.get('n_train'))}, every repeat's test-set predictions pooled. Brier score: "
            "mean squared gap between the keloid probability and the truth (0 perfect, 0.25 = always p = 0.5). "
            "ECE: case-weighted distance of the curve from the diagonal. Points on the diagonal mean a "
            "probability of 0.8 is right about 80% of the time.")
    body = (f"<div class='grid2'>{figure(figures.reliability_diagram(cal), 'reliability curve')}<div>"
            + table(["method", "Brier score", "ECE", "predictions", "unscored"], rows) + "</div></div>")
    return section("Calibration", lead, body, "calibration")


def operating_section(clin: dict[str, Any]) -> str:
    """Sensitivity, specificity, PPV and NPV at chosen thresholds."""
    blocks = []
    for method in _shown(clin, "operating_points")[:3]:
        rows = [(_cls(method) if r["rule"].startswith("p ≥ 0.5") else "",
                 [esc(r["rule"]), fmt(r["threshold"]), fmt(r["sensitivity"]), fmt(r["specificity"]), fmt(r["ppv"]),
                  fmt(r["npv"]), f"{r['tp']} / {r['fp']} / {r['tn']} / {r['fn']}"])
                for r in clin["operating_points"][method]]
        blocks.append(f"<h3>{esc(method)}</h3>" + table(
            ["rule", "threshold", "sensitivity", "specificity", "PPV", "NPV", "TP / FP / TN / FN"], rows))
    if not blocks:
        return ""
    lead = ("A scar is called keloid when p ≥ threshold. Youden: the threshold maximising sensitivity + "
            "specificity − 1; sensitivity ≥ 0.90: the highest threshold still finding 90% of keloids; "
            "specificity ≥ 0.90: the lowest threshold calling at most 10% of hypertrophic scars keloid. "
            "These thresholds are chosen on the very predictions they are scored on, so they are optimistic: "
            "fix a threshold on a validation set before using it.")
    return section("Operating thresholds", lead, "".join(blocks), "thresholds")


def subgroup_section(clin: dict[str, Any], manifest: str | None) -> str:
    """Performance by skin tone and declared grouping columns."""
    subgroups = clin.get("subgroups", {})
    problems = "".join(f"<p class='fail'>{esc(p)}</p>" for p in clin.get("problems", []))
    if not subgroups:
        body = (f"<p>No grouping column in <code>{esc(manifest)}</code>: add <code>skin_tone</code> or "
                "<code>fitzpatrick</code> (user data; phantoms carry <code>nuisance_ita</code>), any "
                "<code>group_*</code> column, or pass <code>--subgroup COLUMN</code>.</p>")
        return section("Subgroups", "Performance by skin tone and other groups.", problems + body, "subgroups")
    blocks = []
    for title, by_method in subgroups.items():
        rows = []
        for method in [m for m in SUBGROUP_METHODS if m in by_method][:3]:
            for r in by_method[method]:
                note = "<span class='na'>too few cases / one class</span>" if r["too_few"] else ""
                rows.append((_cls(method), [esc(r["group"]), esc(method), esc(r["n"]), esc(r["n_keloid"]),
                                            fmt(r["sensitivity"]), fmt(r["specificity"]),
                                            fmt(r["balanced_accuracy"]), fmt(r["auc"]), note]))
        blocks.append(f"<h3>{esc(title)}</h3>" + table(
            ["group", "method", "cases", "keloids", "sensitivity", "specificity", "balanced accuracy", "AUC", ""],
            rows))
    lead = (f"At n_train = {esc(clin.get('n_train'))}, mean over repeats, threshold p = 0.5. A gap between "
            "groups means the method works less well for some patients; groups under 10 cases or with one "
            "class are flagged (their figures are mostly noise).")
    return section("Subgroups", lead, problems + "".join(blocks), "subgroups")


def provenance_section(prov: dict[str, Any], run_facts: list[tuple[str, str]], skipped_html: str) -> str:
    """Versions, commit, dataset hashes, the active extractors and the model settings."""
    facts = [("scafe version", esc(prov.get("scafe_version", "unknown"))),
             ("git commit", f"<code>{esc(prov.get('git_commit') or 'not a git checkout')}</code>"),
             ("Python", esc(f"{prov.get('python', '?')} on {prov.get('platform', '?')}")),
             ("library version", f"<code>{esc(prov.get('library_version') or 'none')}</code>"),
             *run_facts]
    body = "<dl class='facts'>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    datasets = prov.get("datasets") or {}
    if datasets:
        body += "<h3>Datasets</h3>" + table(
            ["side", "manifest", "manifest sha256", "images + masks sha256", "cases"],
            [("", [esc(k), f"<code>{esc(d.get('manifest'))}</code>", f"<code>{esc((d.get('manifest_sha256') or '–')[:16])}</code>",
                   f"<code>{esc((d.get('files_sha256') or '–')[:16])}</code>", esc(d.get("n_cases"))])
             for k, d in datasets.items()])
    extractors = prov.get("active_extractors") or []
    body += "<h3>Active extractors</h3>" + (table(
        ["name", "version", "origin", "criterion item", "contract", "criterion test", "rho"],
        [("", [esc(e.get("name")), esc(e.get("version")), esc(e.get("origin")), esc(e.get("criterion")),
               esc(e.get("contract") or "–"), esc(e.get("criterion_test")), fmt(e.get("rho"))])
         for e in extractors]) if extractors else "<p>No active extractor was found in the library.</p>")
    for heading, pairs in (("Packages", prov.get("packages") or {}), ("Model settings", prov.get("model_settings") or {})):
        body += (f"<h3>{heading}</h3><dl class='facts'>"
                 + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs.items()) + "</dl>")
    return section("Provenance and what was skipped", "Everything needed to reproduce or question these figures.",
                   body + skipped_html, "provenance")


def glossary_section(entries: list[Any], terms: tuple[tuple[str, str], ...]) -> str:
    """Plain-language meaning of every term and library feature the report shows."""
    dl = "<dl class='facts'>" + "".join(f"<dt><b>{esc(t)}</b></dt><dd>{esc(d)}</dd>" for t, d in terms) + "</dl>"
    rows = []
    for e in entries:
        item = f"<b>{esc(e.item_name or e.item or '–')}</b> <span class='ci'>{esc(e.item)}</span>"
        if e.item_definition:
            item += f"<br><span class='ci'>{esc(e.item_definition)}</span>"
        what = esc(e.summary) + (f"<br><code>{esc(e.formula)}</code>" if e.formula else "")
        unit = esc(e.unit or "–") + (f"<br><span class='ci'>range: {esc(e.value_range)}</span>" if e.value_range else "")
        rows.append(("", [f"<code>{esc(e.column)}</code>", item, what, unit]))
    features = ("<h3>Library features</h3>" + table(["feature", "criterion item", "what it measures (extractor "
                                                     "docstring)", "unit / range"], rows, wrap=True)) if rows else ""
    return section("Glossary", "What the words and features in this report mean, in plain language. Feature "
                   "descriptions come from each extractor's docstring and the criterion item it measures.",
                   "<h3>Terms</h3>" + dl + features, "glossary")
