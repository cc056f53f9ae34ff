"""Report figures: matplotlib (Agg backend, no display) rendered to inline base64 PNG.

Every function returns a ``data:image/png;base64,...`` URI so the HTML file is self-contained.
Colours: ours is always the same strong blue, the ceiling (oracle) green, nuisance-only grey,
the CNN orange, the radiomics family shades of purple, LLM methods red.
"""

from __future__ import annotations

import base64
import io
import textwrap

import matplotlib

matplotlib.use("Agg")  # before pyplot: the report must render on a headless machine
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

OURS = "library+xgboost"
MAIN = (OURS, "oracle", "radiomics+mrmr+xgboost", "cnn", "nuisance-only")
COLORS = {OURS: "#1f5fbf", "oracle": "#2e9e5b", "nuisance-only": "#9a9a9a", "cnn": "#e07b22",
          "llm-image": "#c8323c", "llm-features": "#8f1d3a"}
METRIC_LABELS = {"balanced_accuracy": "balanced accuracy", "auc": "AUC", "f1": "F1"}
_PURPLES = ["#6a3d9a", "#8e63b5", "#a889c9", "#7b5aa6", "#b69bd4", "#5b2d8a", "#c7b3e0"]


def color(method: str) -> str:
    """Stable colour of a method."""
    if method in COLORS:
        return COLORS[method]
    if method.startswith("radiomics+"):
        # fixed order (not hash(): string hashes change between processes), darkest for +xgboost
        models = ("xgboost", "rf", "gb", "svm", "nb", "lr", "mlp")
        model = method.rsplit("+", 1)[-1]
        return _PURPLES[models.index(model) % len(_PURPLES)] if model in models else _PURPLES[-1]
    return "#444444"


def _style() -> None:
    plt.rcParams.update({
        "font.size": 10, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.25, "axes.titleweight": "bold", "figure.dpi": 110, "savefig.bbox": "tight",
    })


def to_data_uri(fig) -> str:
    """PNG-encode and close a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def learning_curves(tables: dict[str, dict[str, dict[int, tuple[float, float, float]]]]) -> str:
    """One panel per metric: mean over repeats vs training size, 95% bootstrap band.

    ``tables[metric][method][n] = (mean, ci_low, ci_high)``. Main methods bold with bands; the six
    other radiomics models thin, without bands, so the plot stays readable.
    """
    _style()
    metrics = list(tables)
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.2 * len(metrics), 4.3), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for method, by_n in tables[metric].items():
            ns = sorted(n for n in by_n if n > 0)
            if not ns:
                continue
            mean = np.array([by_n[n][0] for n in ns], float)
            lo = np.array([by_n[n][1] for n in ns], float)
            hi = np.array([by_n[n][2] for n in ns], float)
            main = method in MAIN or method.startswith("llm")
            ax.plot(ns, mean, marker="o" if main else None, lw=2.4 if method == OURS else (1.6 if main else 0.9),
                    color=color(method), alpha=1.0 if main else 0.55, label=method, zorder=3 if main else 2)
            if main:
                ax.fill_between(ns, lo, hi, color=color(method), alpha=0.15, lw=0)
        ax.axhline(0.5, color="#777", lw=0.8, ls=":")
        ax.set_xscale("log")
        all_ns = sorted({n for by_n in tables[metric].values() for n in by_n if n > 0})
        ax.set_xticks(all_ns, [str(n) for n in all_ns])
        ax.minorticks_off()
        ax.set_xlabel("training cases (log scale)")
        label = METRIC_LABELS.get(metric, metric.replace("_", " "))
        ax.set_ylabel(label)
        ax.set_ylim(0.3, 1.02)
        ax.set_title(label[0].upper() + label[1:] + " on the held-out test set")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), frameon=False,
               bbox_to_anchor=(0.5, -0.12), fontsize=9)
    return to_data_uri(fig)


def _roc(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import roc_curve

    ok = ~np.isnan(p)
    fpr, tpr, _ = roc_curve(y[ok], p[ok])
    return fpr, tpr


def pooled_auc(y: np.ndarray, rows: list[np.ndarray]) -> float:
    """Area under the pooled ROC curve that :func:`roc_curves` draws (NaN scores left out)."""
    from sklearn.metrics import auc

    p = np.concatenate(rows)
    yy = np.tile(y[: len(rows[0])], len(rows))
    if len(np.unique(yy[~np.isnan(p)])) < 2:
        return float("nan")
    fpr, tpr = _roc(yy, p)
    return float(auc(fpr, tpr))


def roc_curves(y: np.ndarray, probas: dict[str, list[np.ndarray]], n_train: int) -> str:
    """ROC of each method at one training size, repeats pooled; the legend gives each curve's AUC."""
    _style()
    fig, ax = plt.subplots(figsize=(5.2, 4.8))
    for method, rows in probas.items():
        p = np.concatenate(rows)
        yy = np.tile(y[: len(rows[0])], len(rows))
        fpr, tpr = _roc(yy, p)
        ax.plot(fpr, tpr, color=color(method), lw=2.4 if method == OURS else 1.5,
                label=f"{method} (AUC {pooled_auc(y, rows):.3f})")
    ax.plot([0, 1], [0, 1], color="#999", ls=":", lw=0.8, label="chance (AUC 0.500)")
    ax.set_xlabel("1 − specificity (hypertrophic called keloid)")
    ax.set_ylabel("sensitivity (keloid found)")
    ax.set_title(f"ROC at n_train = {n_train} (repeats pooled)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_aspect("equal")
    return to_data_uri(fig)


def reliability_diagram(calibration: dict[str, dict]) -> str:
    """Observed share of keloids vs mean predicted probability per bin (marker area ~ cases), and
    below it how many predictions fall in each bin. ``calibration[method]`` is a
    :func:`scafe.evaluation.calibration.calibration_summary`."""
    _style()
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.6, 6.4), gridspec_kw={"height_ratios": [3, 1.1]}, sharex=True)
    ax.plot([0, 1], [0, 1], color="#999", ls=":", lw=0.9, label="perfectly calibrated")
    n_methods = max(1, len(calibration))
    for k, (method, cal) in enumerate(calibration.items()):
        curve = cal.get("curve") or []
        if not curve:
            continue
        x = [b["mean_predicted"] for b in curve]
        obs = [b["observed"] for b in curve]
        counts = np.array([b["count"] for b in curve], float)
        brier = cal.get("brier")
        label = f"{method} (Brier {brier:.3f})" if brier is not None else method
        ax.plot(x, obs, color=color(method), lw=2.2 if method == OURS else 1.3, marker="o", ms=3, label=label)
        ax.scatter(x, obs, s=12 + 120 * counts / counts.max(), color=color(method), alpha=0.35, lw=0)
        width = 0.9 / cal.get("bins", 10) / n_methods
        centres = [(b["low"] + b["high"]) / 2 - 0.45 / cal.get("bins", 10) + (k + 0.5) * width for b in curve]
        hist.bar(centres, counts, width=width, color=color(method), alpha=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("observed share of keloids")
    ax.set_title("Reliability (calibration) curve")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    hist.set_xlabel("predicted keloid probability (bin mean; bins 0.1 wide)")
    hist.set_ylabel("predictions")
    fig.tight_layout()
    return to_data_uri(fig)


def confusion_matrices(y: np.ndarray, probas: dict[str, list[np.ndarray]], n_train: int) -> str:
    """Row-normalised confusion matrices (threshold 0.5), summed over repeats; 3 per row."""
    _style()
    methods = list(probas)
    cols = min(3, len(methods))
    rows = int(np.ceil(len(methods) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols, 2.9 * rows), squeeze=False)
    for k, (ax, method) in enumerate(zip(axes.ravel(), methods, strict=False)):
        cm = np.zeros((2, 2))
        for p in probas[method]:
            yy = y[: len(p)]
            pred = np.where(np.isnan(p), 1 - yy, p >= 0.5).astype(int)
            for t in (0, 1):
                for q in (0, 1):
                    cm[t, q] += np.sum((yy == t) & (pred == q))
        norm = cm / cm.sum(axis=1, keepdims=True)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for t in (0, 1):
            for q in (0, 1):
                ax.text(q, t, f"{norm[t, q]:.2f}", ha="center", va="center",
                        color="white" if norm[t, q] > 0.6 else "black", fontsize=12, fontweight="bold")
        ax.set_xticks([0, 1], ["hypertr.", "keloid"])
        ax.set_yticks([0, 1], ["hypertr.", "keloid"] if k % cols == 0 else ["", ""])
        ax.set_xlabel("predicted")
        if k % cols == 0:
            ax.set_ylabel("true")
        ax.grid(False)
        ax.set_title(method, fontsize=9.5, color=color(method))
    for ax in axes.ravel()[len(methods):]:
        ax.axis("off")
    fig.suptitle(f"Confusion matrices at n_train = {n_train} (rows sum to 1)", fontweight="bold")
    fig.tight_layout()
    return to_data_uri(fig)


def importances(values: pd.Series, labels: dict[str, str], top: int = 15) -> str:
    """Horizontal bars of mean |TreeSHAP| (log-odds), labelled with criterion item and feature."""
    _style()
    v = values.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(8.5, 0.36 * len(v) + 1.2))
    ax.barh([labels.get(k, k) for k in v.index], v.to_numpy(), color=color(OURS), alpha=0.85)
    ax.set_xlabel("mean |TreeSHAP contribution| to the keloid log-odds")
    ax.set_title("What library+xgboost relies on (model trained on the whole pool)")
    ax.grid(axis="y", alpha=0)
    return to_data_uri(fig)


def class_distributions(frame: pd.DataFrame, y: np.ndarray, labels: dict[str, str], columns: list[str],
                        axis_labels: dict[str, str] | None = None) -> str:
    """Per-feature histograms, keloid vs hypertrophic (training pool), 4 per row.

    Each panel is titled with the criterion item and feature; its x axis names the feature key with
    the unit or range its extractor states (``axis_labels``), the y axis is the density.
    """
    _style()
    axis_labels = axis_labels or {}
    cols = 4
    rows = max(1, int(np.ceil(len(columns) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.4 * rows), squeeze=False)
    for k, (ax, column) in enumerate(zip(axes.ravel(), columns, strict=False)):
        x = frame[column].to_numpy(float)
        ok = np.isfinite(x)
        lo, hi = np.nanpercentile(x[ok], [1, 99]) if ok.any() else (0, 1)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 24)
        for cls, name, c in ((0, "hypertrophic", "#e0a030"), (1, "keloid", "#b03060")):
            ax.hist(np.clip(x[ok & (y == cls)], lo, hi), bins=bins, alpha=0.55, color=c, label=name, density=True)
        ax.set_title(textwrap.fill(labels.get(column, column), 40, break_long_words=False, break_on_hyphens=False),
                     fontsize=8.5)
        ax.set_xlabel(textwrap.fill(axis_labels.get(column, f"{column} (unit not stated)"), 44,
                                    break_on_hyphens=False), fontsize=7.5)
        if k % cols == 0:
            ax.set_ylabel("density (cases per unit)", fontsize=7.5)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(columns):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return to_data_uri(fig)


def case_thumbnail(image: np.ndarray, mask: np.ndarray, size: int = 220) -> str:
    """The photograph with the mask outline drawn in cyan (PNG data URI, no axes)."""
    from PIL import Image
    from scipy import ndimage

    edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
    out = np.asarray(image, dtype=np.uint8).copy()
    out[edge] = (0, 230, 255)
    img = Image.fromarray(out)
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
