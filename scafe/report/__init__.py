"""The evaluation report: one self-contained HTML file (inline CSS, figures as base64 PNG).

Sections: headline table and goals at ``n_train = 50``, what the data are, learning curves with 95%
bands, the full learning-curve table, ROC curves (AUC in the legend) and confusion matrices,
calibration (reliability curve, Brier score), operating thresholds, subgroups (skin tone and
declared columns), what the classifier relies on (TreeSHAP importances labelled with criterion
items), per-feature class distributions, a gallery of test cases with mask outlines and their
explanations, the provenance (versions, commit, dataset hashes, active extractors, model
settings, what was skipped and why) and a plain-language glossary (:mod:`scafe.report.sections`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from scafe.report import figures, sections
from scafe.report.html import cell, esc, figure, fmt, page, section, table, verdict

HEADLINE_N = 50
METHOD_NOTES = (
    ("library+xgboost", "ours: the active extractors of the feature library (each tied to a criterion item, run "
                        "in the sandbox) → XGBoost with class weights and inner early stopping"),
    ("radiomics+mrmr+*", "seed 002's baseline: 67 generic radiomics features (shape2D, first order, GLCM, GLSZM on "
                         "the grey image) → mRMR picks 8 on each training subset → XGBoost, RF, GB, SVM, NB, LR, MLP"),
    ("cnn", "a ~16k-parameter CNN trained from scratch on the 64 px photo + mask (end-to-end learning)"),
    ("oracle", "XGBoost on the phantoms' true latent class variables: the ceiling any feature set can reach"),
    ("nuisance-only", "XGBoost on skin tone, lighting and camera variables only: must stay at chance (0.5)"),
    ("llm-image / llm-features", "an LLM asked directly, zero-shot, from the photo or from the named library "
                                 "features (only with a configured endpoint)"),
)


def _feature_label(name: str, meta: dict[str, Any]) -> str:
    item = meta.get("item_name") or meta.get("item")
    scale = str(meta.get("scale", "")).upper()
    return f"{item} ({scale}) · {name}" if item else name


def _explanatory_model(run: Any):
    """library+xgboost trained on the whole pool (for importances and the gallery), or None."""
    from scafe.classifier import ScarClassifier

    pool, test = run.pool, run.test
    if pool.cases.library is None or test.cases.library is None or pool.cases.library.shape[1] == 0:
        return None
    meta = (pool.features.meta if pool.features is not None else {}).get("features", {})
    return ScarClassifier().fit(pool.cases.library, pool.cases.y, feature_meta=meta,
                                library_version=run.library_version)


def _glossary(run: Any, model: Any) -> list[Any]:
    from scafe.evaluation.glossary import feature_glossary

    if model is None:
        return []
    return feature_glossary(list(model.feature_names_), model.feature_meta_, run.library)


def _gallery(run: Any, model: Any, k: int = 8) -> str:
    """The first keloids and hypertrophic scars of the test set, then the model's worst mistakes (up to 2)."""
    test = run.test
    y = test.cases.y
    p_all = model.predict_proba(test.cases.library)[:, 1]
    wrong = np.flatnonzero((p_all >= 0.5) != (y == 1))
    wrong = wrong[np.argsort(-np.abs(p_all[wrong] - 0.5))][:2]
    rest = (k - len(wrong)) // 2
    others = np.setdiff1d(np.arange(len(y)), wrong)  # no case twice
    picks = [*others[y[others] == 1][:rest], *others[y[others] == 0][:rest], *wrong]
    X = test.cases.library.iloc[picks]
    probs = p_all[picks]
    expl = model.explain(X, top=3)
    cards = []
    for j, i in enumerate(picks):
        case = test.dataset.cases[i]
        image, mask = case.load()
        truth = "keloid" if y[i] == 1 else "hypertrophic"
        pred = "keloid" if probs[j] >= 0.5 else "hypertrophic"
        ok = "right" if pred == truth else "wrong"
        verdict_html = f"<span class='tag {ok}'>p(keloid) = {probs[j]:.2f}{'' if ok == 'right' else ' ✘'}</span>"
        items = "".join(f"<li>{esc(line)}</li>" for line in expl[j])
        cards.append(
            f"<div class='case'><img src='{figures.case_thumbnail(image, mask, 300)}' alt='{esc(case.id)}'>"
            f"<div class='head'><span><b>{esc(case.id)}</b> <span class='tag {truth}'>{truth}</span></span>"
            f"{verdict_html}</div><ul>{items}</ul></div>"
        )
    return "<div class='gallery'>" + "".join(cards) + "</div>"


def _headline(run: Any, n: int) -> str:
    res = run.result
    rows = []
    for method in res.methods():
        point = n if n in res.probas[method] else (0 if 0 in res.probas[method] else None)
        if point is None:
            continue
        s = res.summary(method, point)
        cls = "ours" if method == "library+xgboost" else ("ref" if method in ("oracle", "nuisance-only") else "")
        label = esc(method) + (" <span class='ci'>(zero-shot)</span>" if point == 0 else "")
        rows.append((cls, [label, *(cell(s[m].mean, s[m].ci_low, s[m].ci_high) for m in
                                    ("balanced_accuracy", "auc", "sensitivity", "specificity", "f1", "accuracy"))]))
    return table(["method", "balanced accuracy", "AUC", "sensitivity", "specificity", "F1", "accuracy"], rows)


def _curve_table(run: Any, metric: str) -> str:
    res = run.result
    sizes = res.sizes
    rows = []
    for method, by_n in res.table(metric).items():
        cls = "ours" if method == "library+xgboost" else ("ref" if method in ("oracle", "nuisance-only") else "")
        rows.append((cls, [esc(method), *(cell(*by_n[n]) if n in by_n else "–" for n in sizes)]))
    return table(["method", *(f"n = {n}" for n in sizes)], rows)


def _goals(run: Any, n: int) -> str:
    from scafe.evaluation.goals import check_goals

    rows = [("", [esc(g.goal), fmt(g.ours), fmt(g.target), fmt(g.margin), verdict(g.passed)])
            for g in check_goals(run.metrics, n)]
    return table(["goal (balanced accuracy, library+xgboost)", "ours", "target", "margin", "verdict"], rows)


def write_report(run: Any, path: str | Path, *, title: str = "scafe — keloid vs hypertrophic scar",
                 notes: list[str] | None = None) -> Path:
    """Render the report of an :class:`scafe.evaluation.EvaluationRun` to ``path``; return it."""
    res = run.result
    started = time.perf_counter()
    n_head = HEADLINE_N if HEADLINE_N in res.sizes else (res.sizes[len(res.sizes) // 2] if res.sizes else 0)
    info = run.dataset
    backend = info.get("radiomics_backend") or "not computed"
    backend_text = {"pyradiomics": "PyRadiomics 3.0.1", "scikit-image": "scikit-image re-implementation "
                    "of the PyRadiomics families (PyRadiomics not installed)"}.get(backend, backend)
    clin = run.clinical(n_head) if res.sizes or any(0 in by_n for by_n in res.probas.values()) else {}
    body = []
    body.append(section(
        f"Results at n_train = {n_head}", "Mean over repeated stratified training subsets, scored on "
        f"{'out-of-fold predictions' if info.get('protocol') == 'cross-validation' else 'one fixed held-out test set'}"
        "; brackets are bootstrap 95% intervals (test cases and repeats resampled). "
        "Keloid is the positive class; the decision threshold is p = 0.5.",
        _headline(run, n_head) + "<h3>Goals</h3>" + _goals(run, n_head), "headline"))
    body.append(sections.data_section(info))
    curves = figures.learning_curves({m: res.table(m) for m in ("balanced_accuracy", "auc")})
    body.append(section("Learning curves", "How each method improves with more training cases. Bands: 95% "
                        "bootstrap intervals (main methods); thin lines: the other radiomics models.",
                        figure(curves, "learning curves") + "<h3>Balanced accuracy</h3>" +
                        _curve_table(run, "balanced_accuracy") + "<h3>AUC</h3>" + _curve_table(run, "auc"),
                        "curves"))
    notes_html = "<dl class='facts'>" + "".join(f"<dt><b>{esc(m)}</b></dt><dd>{esc(t)}</dd>"
                                                for m, t in METHOD_NOTES) + "</dl>"
    body.append(section("The methods", "Every method trains on the same stratified subsets and is scored on the "
                        "same test cases.", notes_html, "methods"))
    main = [m for m in figures.MAIN if m in res.probas and n_head in res.probas[m]]
    if main:
        roc = figures.roc_curves(res.y_test, {m: res.probas[m][n_head] for m in main}, n_head)
        cm = figures.confusion_matrices(res.y_test, {m: res.probas[m][n_head] for m in main}, n_head)
        body.append(section("ROC curves and confusion matrices", f"At n_train = {n_head}, every repeat's "
                            "test-set predictions pooled. The legend's AUC is the area under the pooled curve "
                            "drawn (the tables give the mean over repeats with its interval).",
                            f"<div class='grid2'>{figure(roc, 'ROC')}<div>"
                            f"{figure(cm, 'confusion matrices')}</div></div>", "roc"))
    if clin:
        body += [sections.calibration_section(clin), sections.operating_section(clin),
                 sections.subgroup_section(clin, info.get("test_manifest") or info.get("manifest"))]
    model = _explanatory_model(run)
    glossary = _glossary(run, model)
    if model is not None:
        labels = {c: _feature_label(c, model.feature_meta_.get(c, {})) for c in model.feature_names_}
        axis = {g.column: g.axis_label() for g in glossary}
        imp = model.importances(run.test.cases.library)
        body.append(section("What the classifier relies on", "Mean absolute TreeSHAP contribution (XGBoost "
                            "<code>pred_contribs</code>) on the test set, for library+xgboost trained on the whole "
                            f"pool of {len(run.pool.cases.y)} cases; each feature is named by its criterion item. "
                            f"Contributions are in {esc(sections.LOG_ODDS)}.",
                            figure(figures.importances(imp, labels), "feature importances"), "importances"))
        top = list(imp.index[:8])
        dist = figures.class_distributions(run.pool.cases.library, run.pool.cases.y, labels, top, axis)
        body.append(section("Per-feature class distributions", "The eight most relied-on library features in the "
                            "training pool, keloid vs hypertrophic; x axes in the unit (or range) the extractor "
                            "states, see the glossary.", figure(dist, "class distributions"), "distributions"))
        body.append(section("Example test cases", "Cases from the test set with their mask outline "
                            "(cyan), the model's keloid probability and its three largest TreeSHAP contributions "
                            f"(feature: criterion item, in {esc(sections.LOG_ODDS)}). The last cards are the "
                            "model's most confident mistakes, if it made any.", _gallery(run, model), "gallery"))
    skipped = "".join(f"<li><b>{esc(s['method'])}</b>: {esc(s['reason'])}</li>" for s in res.skipped)
    secs = ", ".join(f"{esc(m)} {t:.1f} s" for m, t in sorted(res.seconds.items(), key=lambda kv: -kv[1]))
    facts = [("library features", esc(len(run.pool.cases.library.columns) if run.pool.cases.library is not None else 0)),
             ("training pool", f"{esc(info.get('n_train_pool'))} cases — <code>{esc(info.get('train'))}</code>"),
             ("test set", f"{esc(info.get('n_test'))} cases ({esc(info.get('test_keloid'))} keloid) — "
                          f"<code>{esc(info.get('test'))}</code>"),
             ("training sizes × repeats", f"{esc(res.sizes)} × {esc(res.repeats)}"),
             ("radiomics backend", esc(backend_text)),
             ("fit + predict time per method", secs or "–")]
    facts += [(esc(k.removeprefix("phantom_").replace("_", " ")), esc(v)) for k, v in info.items()
              if k.startswith("phantom_") and k not in ("phantom_sizes", "phantom_repeats")]
    if info.get("timings"):
        facts.append(("wall-clock phases", esc(", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.0f} s"
                                                          for k, v in info["timings"].items()))))
    prov = {"library_version": run.library_version, **(run.provenance or {})}
    body.append(sections.provenance_section(
        prov, facts, (f"<h3>Skipped</h3><ul class='skipped'>{skipped}</ul>" if skipped else "") +
        "".join(f"<p>{esc(n)}</p>" for n in (notes or []))))
    from scafe.evaluation.glossary import TERMS

    body.append(sections.glossary_section(glossary, TERMS))
    synthetic = bool(info.get("synthetic")) and info.get("test_synthetic", True)
    chips = [f"library {run.library_version or 'none'}", "phantoms" if synthetic else "user data",
             f"test n = {info.get('n_test')}", f"radiomics: {backend}",
             f"{len(res.methods())} methods run, {len(res.skipped)} skipped"]
    where = (esc(info["data_kind"]) if info.get("data_kind") else "the data described below")
    subtitle = ("Does a small library of clinically meaningful, sandbox-validated features beat generic "
                f"radiomics and end-to-end learning when data are scarce? Learning curves on {where}"
                + (", against the ceiling (oracle on the true latent variables) and the floor (nuisance "
                   "variables only)." if synthetic else "."))
    footer = (f"Generated by scafe on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; report built in "
              f"{time.perf_counter() - started:.1f} s. Figures are matplotlib PNGs embedded in this file.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, subtitle, chips, "".join(body), footer), encoding="utf-8")
    return path

__all__ = ["write_report"]
