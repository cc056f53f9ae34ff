"""``scafe train``, ``scafe predict``, ``scafe similar``, ``scafe evaluate``: the classifier's face."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_PARTIAL,
    SKIP_BAD_HELP,
    apply_bit_depth,
    bit_depth_option,
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
    frame = pd.read_csv(manifest, dtype={"id": str, "label": str})
    missing = {"id", "label"} - set(frame.columns)
    if missing:
        raise DataError(f"{str(manifest)!r} lacks the column(s) {sorted(missing)}; a manifest needs id and label.")
    return frame.set_index("id")["label"]


def load_features(data: Path | None, features: Path | None, *, progress: bool = True, skip_bad: bool = False,
                  skipped_next_to: Path | None = None):
    """A FeatureTable from ``--features`` (a saved table) or ``--data`` (extracted, cached).

    With ``skip_bad`` bad manifest rows are dropped and written next to ``skipped_next_to``
    (default: the dataset folder); ``table.meta["skipped_rows"]`` then holds that path.
    """
    from scafe.errors import UsageError

    if (data is None) == (features is None):
        raise UsageError("Pass exactly one of --data DIR (features are extracted, cached) or --features F.csv.")
    if features is not None:
        from scafe.extraction import FeatureTable

        return FeatureTable.load(features)
    from scafe.cli._common import load_dataset_for, write_skipped
    from scafe.extraction import extract

    dataset = load_dataset_for(data, skip_bad)
    table = extract(dataset, progress=progress)
    skipped = write_skipped(dataset.bad, skipped_next_to or dataset.root)
    if skipped is not None:
        table.meta["skipped_rows"] = str(skipped)
    return table


def goal_size(run) -> int:
    """The training size the goals are checked at: 50 when evaluated, else the largest size."""
    sizes = run.result.sizes
    return 50 if 50 in sizes or not sizes else max(sizes)


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
        skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip feature rows without a usable label (none, "
                                      "unknown, or two different ones) instead of stopping: they are written to "
                                      "OUT/skipped_rows.csv and the exit code is 3 (partial)."),
    ) -> None:
        """Train the XGBoost keloid classifier (class weights, inner early stopping) on a feature table
        (exit 3: rows skipped)."""
        import numpy as np

        from scafe.classifier import ScarClassifier, training_rows
        from scafe.cli._common import write_skipped
        from scafe.data.dataset import MAX_LISTED, BadRow
        from scafe.errors import DataError
        from scafe.extraction import FeatureTable

        table = FeatureTable.load(features)
        X, y, problems = training_rows(table.frame, read_labels(labels))
        bad = [BadRow(row, case_id, reason) for row, case_id, reason in problems]
        if bad and not skip_bad:
            shown = "\n  ".join(str(b) for b in bad[:MAX_LISTED])
            more = f"\n  ... and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
            raise DataError(f"{len(bad)} feature row(s) of {str(features)!r} have no label, or no usable one, in "
                            f"{str(labels)!r}:\n  {shown}{more}\nPass the manifest of the same dataset, fix "
                            "the labels, or pass --skip-bad to train without them.")
        if X.empty:
            raise DataError(f"no feature row of {str(features)!r} has a usable label in {str(labels)!r}; pass the "
                            "manifest of the same dataset.")
        model = ScarClassifier(params={"random_state": seed}).fit(
            X, y.to_numpy(), feature_meta=table.meta.get("features", {}),
            library_version=table.meta.get("library_version"))
        model.save(out)
        n_nan = int(np.isnan(X.to_numpy(float)).sum())
        stdout.print(f"trained on {model.n_train_['keloid']} keloid + {model.n_train_['hypertrophic']} hypertrophic "
                     f"cases, {len(model.feature_names_)} features, {model.n_rounds_} boosting rounds "
                     f"(library {model.library_version_}); {n_nan} missing values handled by XGBoost -> {out}",
                     highlight=False)
        if write_skipped(bad, out, "skipped_rows.csv") is not None:
            raise typer.Exit(EXIT_PARTIAL)

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
        as_json: bool = json_option(),
        fmt: str = format_option(),
        skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
        bit_depth: str | None = bit_depth_option(),
    ) -> None:
        """Predict p(keloid) per case; with --explain, say why in criterion terms (exit 3: rows skipped)."""
        import pandas as pd
        from rich.table import Table

        from scafe.classifier import ScarClassifier

        apply_bit_depth(bit_depth)

        model = ScarClassifier.load(model_dir)
        table = load_features(data, features, skip_bad=skip_bad, skipped_next_to=out)
        X, comp = model.align(table.frame, feature_meta=table.meta.get("features"),
                              library_version=table.meta.get("library_version"), allow_missing=allow_missing)
        p = model.predict_proba(X)[:, 1]
        frame = pd.DataFrame({"p_keloid": p, "prediction": model.predict(X)}, index=X.index)
        if explain:
            frame["explanation"] = ["; ".join(lines) for lines in model.explain(X, top=top)]
        fmt = resolve_format(fmt, as_json)
        rows = [{"id": str(case_id), "p_keloid": float(row.p_keloid), "prediction": row.prediction,
                 **({"explanation": row.explanation} if explain else {})} for case_id, row in frame.iterrows()]
        view = Table(title=f"Predictions ({len(frame)} cases, model library {model.library_version_})")
        for col in ["id", *frame.columns]:
            view.add_column(col, overflow="fold")
        for case_id, row in frame.iterrows():
            view.add_row(safe_text(case_id), f"{row.p_keloid:.3f}", row.prediction,
                         *([row.explanation.replace("; ", "\n")] if explain else []))
        emit(fmt, rows, table=view, payload={"model_library": model.library_version_, "cases": rows})
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
        if table.meta.get("skipped_rows"):
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
        skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
        bit_depth: str | None = bit_depth_option(),
    ) -> None:
        """Nearest cases by robustly standardised library features, overall or for one criterion item
        (exit 3: rows skipped)."""
        from rich.table import Table

        from scafe.similar import nearest_cases

        apply_bit_depth(bit_depth)

        fmt = resolve_format(fmt, as_json)
        table = load_features(data, features, skip_bad=skip_bad)
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
            if table.meta.get("skipped_rows"):
                raise typer.Exit(EXIT_PARTIAL)
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
        if table.meta.get("skipped_rows"):
            raise typer.Exit(EXIT_PARTIAL)

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
        use_llm: bool = typer.Option(True, "--llm/--no-llm", show_default=False,
                                     help="Run the LLM methods when an endpoint is set (default: --llm)."),
        folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds when there is no test set "
                                  "(grouped by patient_id when the manifest has it; a split column is honoured)."),
        cv: bool = typer.Option(False, "--cv", help="Cross-validate on --data even for a phantom set (default "
                                "for a user dataset without --test)."),
        skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_BAD_HELP),
        fail_on_goal: bool = typer.Option(False, "--fail-on-goal", help="Exit 1 when a declared goal is missed "
                                          "(for CI gates); goals that could not be evaluated do not fail."),
        subgroup: list[str] = typer.Option(None, "--subgroup", help="Manifest column to report performance by "
                                           "(repeatable; skin tone and group_* columns are always used)."),
        bit_depth: str | None = bit_depth_option(),
        fmt: str = format_option(),
    ) -> None:
        """Learning curves of every method with bootstrap 95% intervals; writes metrics.json and report.html.

        With --test: a fixed held-out test set. Without it on a user dataset (or with --cv): repeated
        stratified cross-validation on --data, grouped by patient_id. Exit 1 with --fail-on-goal when a
        goal is missed, 3 when rows were skipped.
        """
        from scafe.cli.cmd_demo import llm_client_or_reason, print_summary, progress_factory
        from scafe.errors import UsageError
        from scafe.evaluation import evaluate
        from scafe.report import write_report

        fmt = resolve_format(fmt)
        try:
            size_list = [int(s) for s in sizes.split(",") if s.strip()]
        except ValueError:
            raise UsageError(f"--sizes must be comma-separated integers like 20,50,100; got {sizes!r}.") from None
        method_list = [m.strip() for m in methods.split(",")] if methods else None
        from scafe.cli._common import load_dataset_for, write_skipped

        apply_bit_depth(bit_depth)

        dataset = load_dataset_for(data, skip_bad)
        if test is None and not cv:
            header = _manifest_path(data).read_text().splitlines()[0] if _manifest_path(data).is_file() else ""
            if "latent_" in header:  # a phantom pool: the fixed phantom test set, as before
                from scafe.demo import phantom_set

                test = phantom_set(400, 2002, 256, profile)
        if cv and test is not None:
            raise UsageError("--cv and --test contradict each other; pass one of them.")
        test_set = load_dataset_for(test, skip_bad) if test is not None else None
        client, reason = llm_client_or_reason(use_llm and test is not None)
        with progress_factory() as factory:
            run = evaluate(dataset, test_set, sizes=size_list, repeats=repeats, methods=method_list,
                           llm_client=client, llm_unavailable=reason, progress=factory, folds=folds,
                           subgroups=subgroup or None)
        out.mkdir(parents=True, exist_ok=True)
        skipped = [p for p in (write_skipped(dataset.bad, out, "skipped_rows.csv"),
                               write_skipped(test_set.bad, out, "skipped_test_rows.csv") if test_set else None) if p]
        run.dataset["skipped_rows"] = [str(p) for p in skipped]
        metrics = run.write_metrics(out / "metrics.json")
        report = write_report(run, out / "report.html")
        print_summary(run, goal_size(run), fmt=fmt)
        (stdout if fmt == "table" else console).print(f"\nreport:  {report.resolve()}\nmetrics: {metrics.resolve()}",
                                                      highlight=False)
        if fail_on_goal:
            from scafe.evaluation.goals import check_goals

            missed = [g.goal for g in check_goals(run.metrics, goal_size(run)) if g.passed is False]
            if missed:
                console.print(f"[red]goal(s) missed[/red] (--fail-on-goal): {'; '.join(missed)}", highlight=False)
                raise typer.Exit(1)
        if skipped:
            raise typer.Exit(EXIT_PARTIAL)
