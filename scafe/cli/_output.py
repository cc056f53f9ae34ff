"""Terminal output that survives pipes and CI logs.

* :class:`ScafeConsole` never hard-wraps a message when its stream is not a terminal.
* Rich tables printed through it are never cut: on a terminal every column folds instead of
  ending in "…"; off a terminal (a pipe, a file, a CI log) the table is written as plain
  aligned columns when that fits in 80 columns, else as one block of ``column: value`` lines
  per row, so no cell is lost whatever the width of the reader.
* :func:`emit` prints rows as a table, CSV or JSON (``--format``/``--json`` of every listing command).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

PLAIN_WIDTH = 80  # off a terminal: plain columns up to this width, else one block per row
FORMATS = ("table", "csv", "json")
FORMAT_HELP = "Output format: table (plain columns or one block per row when not a terminal), csv or json."
JSON_HELP = "Print JSON on stdout (same as --format json)."


class ScafeConsole(Console):
    """A rich console that never hard-wraps messages or cuts table cells when not on a terminal.

    Rich wraps at 80 columns (or ``$COLUMNS``) when writing to a pipe or a CI log, which splits
    commands, paths and quoted suggestions mid-line, and squeezes tables until their cells end
    in "…". Off a terminal ``soft_wrap`` is on (each message is one line; the reader wraps it) and
    tables are printed in a plain layout (:func:`plain_table`). Decided at each print, so a
    redirected stream (pytest's capsys) counts as what it is.
    """

    @property  # type: ignore[override]
    def soft_wrap(self) -> bool:
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:  # rich's __init__ assigns it; the property decides
        pass

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if any(isinstance(o, Table) for o in objects):
            if not self.is_terminal:
                for obj in objects:
                    if isinstance(obj, Table):
                        self.file.write(plain_table(obj) + "\n")
                        self.file.flush()
                    else:
                        super().print(obj, **kwargs)
                return
            for obj in objects:
                if isinstance(obj, Table):
                    _fold_columns(obj)
        super().print(*objects, **kwargs)


def _fold_columns(table: Table) -> None:
    """On a terminal: let every column wrap or fold rather than end in "…"."""
    for column in table.columns:
        column.no_wrap = False
        if column.overflow in ("ellipsis", "crop"):
            column.overflow = "fold"


def cell_text(cell: RenderableType | None) -> str:
    """The plain text of one table cell (markup and styles removed)."""
    if cell is None:
        return ""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        try:
            return Text.from_markup(cell).plain
        except Exception:  # noqa: BLE001 - not markup after all: show it as it is
            return cell
    console = Console(width=1000, file=io.StringIO(), color_system=None, soft_wrap=True)
    console.print(cell)
    return console.file.getvalue().rstrip("\n")  # type: ignore[attr-defined]


def table_cells(table: Table) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a rich table as plain strings."""
    headers = [cell_text(c.header) for c in table.columns]
    n_rows = max((len(c._cells) for c in table.columns), default=0)
    rows = [[cell_text(c._cells[i]) if i < len(c._cells) else "" for c in table.columns] for i in range(n_rows)]
    return headers, rows


def plain_table(table: Table, width: int = PLAIN_WIDTH) -> str:
    """A rich table as plain text that no reader can cut (see the module docstring)."""
    headers, rows = table_cells(table)
    title = cell_text(table.title) if table.title else ""
    return plain_layout(title, headers, rows, width)


def plain_layout(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = PLAIN_WIDTH) -> str:
    """Aligned columns when they fit in ``width``, else one ``header: value`` block per row."""
    lines = [title] if title else []
    cells = [[[part.rstrip() for part in str(cell).split("\n")] for cell in row] for row in rows]
    widths = [max([len(h)] + [len(part) for row in cells for part in row[i]]) for i, h in enumerate(headers)]
    if sum(widths) + 2 * max(len(widths) - 1, 0) <= width:
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in cells:
            height = max((len(cell) for cell in row), default=1)
            for k in range(height):
                parts = [cell[k] if k < len(cell) else "" for cell in row]
                lines.append("  ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip())
        return "\n".join(lines)
    label_width = max((len(h) for h in headers[1:]), default=0)
    for row in cells:
        lines.append("")
        lines.append(" ".join(row[0]) if row else "")
        for header, cell in zip(headers[1:], row[1:], strict=True):
            lines.append(f"  {header.ljust(label_width)}  {cell[0] if cell else ''}".rstrip())
            lines.extend(f"  {'':{label_width}}  {part}".rstrip() for part in cell[1:])
    return "\n".join(lines)


def resolve_format(fmt: str, as_json: bool = False) -> str:
    """The output format from ``--format`` and the older ``--json`` flag."""
    from scafe.errors import UsageError

    fmt = (fmt or "table").lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if as_json:
        if fmt not in ("table", "json"):
            raise UsageError(f"--json and --format {fmt} contradict each other; pass one of them")
        return "json"
    return fmt


def format_option() -> Any:
    """The ``--format table|csv|json`` option of a listing command."""
    return typer.Option("table", "--format", help=FORMAT_HELP, metavar="table|csv|json")


def json_option() -> Any:
    """The ``--json`` flag (kept: shorter, and scripts use it)."""
    return typer.Option(False, "--json", help=JSON_HELP)


def to_json(payload: Any) -> str:
    """JSON as every command prints it (indented, non-ASCII kept, paths and numpy as text)."""
    return json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """CSV text of ``rows`` (lists become ``;``-joined, ``None`` empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """One level of nested dicts becomes ``key.sub`` columns (for CSV)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            out[key] = value
    return out


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def emit(
    fmt: str,
    rows: Sequence[dict[str, Any]],
    *,
    table: Table | None = None,
    columns: Sequence[str] | None = None,
    payload: Any = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` as ``fmt``: JSON (``payload`` if given, else the rows), CSV (``columns``,
    default: the keys of the first row) or the rich ``table`` (built from the rows if not given)."""
    if fmt == "json":
        typer.echo(to_json(rows if payload is None else payload))
        return
    keys = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    if fmt == "csv":
        flat = [flatten(row) for row in rows]
        flat_keys: list[str] = []
        for key in keys:
            dotted = list(dict.fromkeys(k for row in flat for k in row if k.startswith(key + ".")))
            if not dotted or any(row.get(key) is not None for row in flat):
                flat_keys.append(key)
            flat_keys.extend(dotted)
        typer.echo(to_csv(flat_keys, flat), nl=False)
        return
    if table is None:
        table = Table()
        for key in keys:
            table.add_column(key)
        for row in rows:
            table.add_row(*[Text(_csv_cell(row.get(k))) for k in keys])
    if console is None:
        from scafe.cli._common import stdout

        console = stdout
    console.print(table)
