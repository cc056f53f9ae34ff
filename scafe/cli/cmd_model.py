"""``scafe train``, ``scafe predict``, ``scafe similar``, ``scafe evaluate``: the classifier's face."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_PARTIAL,
    console,
    emit,
    format_option,
    json_option,
    resolve_format,
    stdout,
)
from scafe.textsafe import safe_text


def _manifest_path(path: Path) -> Path:
    return path / "manifest.csv" if path.is_dir() else path


def read_labels(path: Path):
    """``id -> label`` from a manifest CSV (or a folder holding ``manifest.csv``)."""
    import pandas as pd

    from scafe.errors import DataError

    manifest = _manifest_path(path)
    if not manifest.is_file():
        raise DataError(f"Labels file {str(manifest)!r} does not exist; pass the dataset's manifest CSV.")
    frame = pd.read_csv(manifest, dtype={"id": str})
    missing = {"id", "label"} - set(frame.columns)
    if missing:
        raise DataError(f"{str(manifest)!r} lacks the column(s) {sorted(missing)}; a manifest needs id and label.")
    return frame.set_index("id")["label"]


def load_features(data: Path | None, features: Path | None, *, progress: bool = True):
    """A FeatureTable from ``--features`` (a saved table) or ``--data`` (extracted, cached)."""
    from scafe.errors import UsageError

    if (data is None) == (features is None):
        raise UsageError("Pass exactly one of --data DIR (features are extracted, cached) or --features F.csv.")
    if features is not None:
        from scafe.extraction import FeatureTable

        return FeatureTable.load(features)
    from scafe.extraction import extract

    return extract(data, progress=progress)


def _number(value: object) -> float | None:
    """A float for JSON/CSV (NaN -> None)."""
    import math

    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _cell(value: object) -> str:
    if value is None:
        return ""
    return safe_text(value) if isinstance(value, str) else f"{value:.4g}"


def register(app: typer.Typer) -> None:
    """Attach the model commands."""

    @app.command("train")
    def train(
        features: Path = typer.Option(..., "--features", "-f", help="Feature table CSV written by `scafe extract`."),
        labels: Path = typer.Option(..., "--labels", "-l", help="Manifest CSV (or dataset folder) with id,label."),
        out: Path = typer.Option(..., "--out", "-o", help="Model directory to write (model.json + meta.json)."),
        seed: int = typer.Option(0, "--seed", help="Random seed of XGBoost and of the inner early-stopping split."),
    ) -> None:
        """Train the XGBoost keloid classifier (class weights, inner early stopping) on a feature table."""
        import numpy as np

        from scafe.classifier import ScarClassifier
        from scafe.errors import DataError
        from scafe.extraction import FeatureTable

        table = FeatureTable.load(features)
        y = read_labels(labels)
        unlabelled = [i for i in table.frame.index if i not in y.index]
        if unlabelled:
            raise DataError(f"{len(unlabelled)} feature rows have no label in {str(labels)!r} (e.g. {unlabelled[:3]}); "
                            "pass the manifest of the same dataset.")
        model = ScarClassifier(params={"random_state": seed}).fit(
            table.frame, y.loc[table.frame.index].to_numpy(), feature_meta=table.meta.get("features", {}),
            library_version=table.meta.get("library_version"))
        model.save(out)
        n_nan = int(np.isnan(table.frame.to_numpy(float)).sum())
        stdout.print(f"trained on {model.n_train_['keloid']} keloid + {model.n_train_['hypertrophic']} hypertrophic "
                     f"cases, {len(model.feature_names_)} features, {model.n_rounds_} boosting rounds "
                     f"(library {model.library_version_}); {n_nan} missing values handled by XGBoost -> {out}",
                     highlight=False)

    @app.command("predict")
    def predict(
        model_dir: Path = typer.Option(..., "--model", "-m", help="Model directory written by `scafe train`."),
        data: Path = typer.Option(None, "--data", "-d", help="Dataset folder or manifest (features are extracted)."),
        features: Path = typer.Option(None, "--features", "-f", help="Or: a feature table CSV."),
        explain: bool = typer.Option(False, "--explain", help="Add each case's top TreeSHAP contributions, named "
                                     "by feature and criterion item."),
        top: int = typer.Option(3, "--top", help="Contributions shown per case with --explain."),
        allow_missing: bool = typer.Option(False, "--allow-missing", help="Continue when the table lacks model "
                                           "features (they become NaN; reported; exit code 3)."),
        out: Path = typer.Option(None, "--out", "-o", help="Also write the predictions to this CSV."),
    ) -> None:
        """Predict p(keloid) per case; with --explain, say why in criterion terms."""
        import pandas as pd
        from rich.table import Table

        from scafe.classifier import ScarClassifier

        model = ScarClassifier.load(model_dir)
        table = load_features(data, features)
        X, comp = model.align(table.frame, feature_meta=table.meta.get("features"),
                              library_version=table.meta.get("library_version"), allow_missing=allow_missing)
        p = model.predict_proba(X)[:, 1]
        frame = pd.DataFrame({"p_keloid": p, "prediction": model.predict(X)}, index=X.index)
        if explain:
            frame["explanation"] = ["; ".join(lines) for lines in model.explain(X, top=top)]
        view = Table(title=f"Predictions ({len(frame)} cases, model library {model.library_version_})")
        for col in ["id", *frame.columns]:
            view.add_column(col, overflow="fold")
        for case_id, row in frame.iterrows():
            view.add_row(safe_text(case_id), f"{row.p_keloid:.3f}", row.prediction,
                         *([row.explanation.replace("; ", "\n")] if explain else []))
        stdout.print(view)
        if out is not None:
            from scafe.extraction.outputs import neutralise_frame  # spreadsheet-safe ids (issue 12)

            neutralise_frame(frame).to_csv(out, index_label="id")
            console.print(f"wrote {out}")
        if comp.library_version_differs:
            console.print("[yellow]note:[/yellow] the table comes from another library version; every model "
                          "feature is present with the same extractor version, so predictions are valid.")
        if not comp.ok:
            console.print(f"[yellow]incomplete:[/yellow] missing {comp.missing}, changed {comp.changed} "
                          "(set to NaN because of --allow-missing)", highlight=False)
            raise typer.Exit(EXIT_PARTIAL)

    @app.command("similar")
    def similar(
        case_id: str = typer.Option(..., "--id", help="The case to find neighbours of."),
        data: Path = typer.Option(None, "--data", "-d", help="Dataset folder or manifest (features are extracted)."),
        features: Path = typer.Option(None, "--features", "-f", help="Or: a feature table CSV."),
        item: str = typer.Option(None, "--item", help="Compare only on one criterion item, e.g. jsw/rim_erythema."),
        k: int = typer.Option(5, "-k", help="How many neighbours."),
        as_json: bool = json_option(),
        fmt: str = format_option(),
    ) -> None:
        """Nearest cases by robustly standardised library features, overall or for one criterion item."""
        from rich.table import Table

        from scafe.similar import nearest_cases

        fmt = resolve_format(fmt, as_json)
        table = load_features(data, features)
        labels = read_labels(data) if data is not None else None
        near = nearest_cases(table.frame, case_id, k=k, item=item, feature_meta=table.meta.get("features", {}),
                             labels=labels)
        shown = [c for c in near.columns if c not in ("label", "distance", "shared")]
        query = table.frame.loc[case_id]
        rows = [{"id": case_id, "role": "query", "label": None if labels is None else labels.get(case_id),
                 "distance": None, "shared": None, **{c: _number(query[c]) for c in shown}}]
        for cid, row in near.iterrows():
            rows.append({"id": str(cid), "role": "neighbour", "label": row.get("label"),
                         "distance": _number(row["distance"]), "shared": int(row["shared"]),
                         **{c: _number(row[c]) for c in shown}})
        if labels is None:
            for row in rows:
                row.pop("label")
        if fmt != "table":
            emit(fmt, rows, payload={"query": case_id, "item": item, "cases": rows})
            return
        title = f"Cases nearest to {safe_text(case_id)}" + (f" on {safe_text(item)}" if item else "")
        view = Table(title=title)
        head = ["id", *(["label"] if labels is not None else []), "distance", "shared"]
        for col in head:
            view.add_column(col, justify="left" if col in ("id", "label") else "right")
        for row in rows:
            view.add_row(*[_cell(row[c]) + (" (query)" if c == "id" and row["role"] == "query" else "") for c in head])
        stdout.print(view)
        values = Table(title="Feature values (query first)")
        values.add_column("feature")
        for row in rows:
            values.add_column(safe_text(row["id"]), justify="right")
        for col in shown:
            values.add_row(safe_text(col), *[_cell(row[col]) for row in rows])
        stdout.print(values)

    @app.command("evaluate")
    def evaluate_cmd(
        data: Path = typer.Option(..., "--data", "-d", help="Training pool: dataset folder or manifest."),
        test: Path = typer.Option(None, "--test", "-t", help="Fixed held-out test set (default for phantom data: "
                                  "400 cached phantoms, seed 2002, 256 px)."),
        sizes: str = typer.Option("20,50,100,200", "--sizes", help="Comma-separated training sizes."),
        repeats: int = typer.Option(10, "--repeats", help="Stratified training subsets per size."),
        methods: str = typer.Option(None, "--methods", help="Comma-separated subset of methods (default: all)."),
        out: Path = typer.Option(Path("scafe-eval"), "--out", "-o", help="Folder for metrics.json and report.html."),
        profile: str = typer.Option("default", "--profile", help="Phantom profile of the default test set."),
        use_llm: bool = typer.Option(True, "--llm/--no-llm", help="Run the LLM methods when an endpoint is set."),
    ) -> None:
        """Learning curves of every method with bootstrap 95% intervals; writes metrics.json and report.html."""
        from scafe.cli.cmd_demo import llm_client_or_reason, print_summary, progress_factory
        from scafe.errors import UsageError
        from scafe.evaluation import evaluate
        from scafe.report import write_report

        try:
            size_list = [int(s) for s in sizes.split(",") if s.strip()]
        except ValueError:
            raise UsageError(f"--sizes must be comma-separated integers like 20,50,100; got {sizes!r}.") from None
        method_list = [m.strip() for m in methods.split(",")] if methods else None
        if test is None:
            header = _manifest_path(data).read_text().splitlines()[0] if _manifest_path(data).is_file() else ""
            if "latent_" not in header:
                raise UsageError("--test is required for a non-phantom dataset (a fixed held-out test set).")
            from scafe.demo import phantom_set

            test = phantom_set(400, 2002, 256, profile)
        client, reason = llm_client_or_reason(use_llm)
        with progress_factory() as factory:
            run = evaluate(data, test, sizes=size_list, repeats=repeats, methods=method_list, llm_client=client,
                           llm_unavailable=reason, progress=factory)
        metrics = run.write_metrics(out / "metrics.json")
        report = write_report(run, out / "report.html")
        print_summary(run)
        stdout.print(f"\nreport:  {report.resolve()}\nmetrics: {metrics.resolve()}", highlight=False)
