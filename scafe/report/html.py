"""HTML building blocks of the report: one stylesheet, escaped tables, cards. No template engine
needed for a page this size, and everything is escaped at one place (:func:`esc`)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

CSS = """
:root { --ink:#1d2433; --muted:#5b6478; --line:#e3e7ef; --bg:#f5f7fb; --card:#fff; --ours:#1f5fbf;
        --good:#1e8a4c; --bad:#c0392b; --warn:#b7791f; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background: linear-gradient(120deg,#17306b,#1f5fbf); color:#fff; padding:28px 40px 24px; }
header h1 { margin:0 0 6px; font-size:26px; letter-spacing:.2px; }
header p { margin:0; opacity:.9; max-width:1000px; }
.chips { margin-top:14px; display:flex; flex-wrap:wrap; gap:8px; }
.chip { background:rgba(255,255,255,.14); border:1px solid rgba(255,255,255,.25); border-radius:999px;
        padding:3px 12px; font-size:13px; }
main { max-width:1320px; margin:0 auto; padding:24px 32px 60px; }
section { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:20px 24px;
          margin:18px 0; box-shadow:0 1px 2px rgba(20,30,60,.04); }
h2 { margin:0 0 4px; font-size:19px; }
.lead { color:var(--muted); margin:0 0 14px; font-size:14px; }
img.fig { max-width:100%; display:block; margin:8px auto; }
table { border-collapse:collapse; width:100%; font-size:13.5px; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { background:#f0f3f9; font-weight:600; color:#344; position:sticky; top:0; }
tr.ours td { background:#eef4ff; font-weight:600; }
tr.ref td { color:var(--muted); }
.ci { color:var(--muted); font-size:12px; }
.pass { color:var(--good); font-weight:700; } .fail { color:var(--bad); font-weight:700; }
.na { color:var(--warn); font-weight:700; }
.grid2 { display:grid; grid-template-columns: minmax(0,0.85fr) minmax(0,1.15fr); gap:18px; align-items:start; }
.gallery { display:grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap:14px; }
.case { border:1px solid var(--line); border-radius:10px; padding:10px; background:#fbfcfe; }
.case img { width:100%; border-radius:6px; display:block; }
.case .head { display:flex; justify-content:space-between; margin:8px 0 4px; font-size:13px; }
.case ul { margin:4px 0 0; padding-left:18px; font-size:12.5px; color:#333; }
.tag { border-radius:6px; padding:1px 8px; font-size:12px; font-weight:600; }
.tag.keloid { background:#fbe3ea; color:#a0284f; } .tag.hypertrophic { background:#fdf1d9; color:#8a5a00; }
.tag.right { background:#e3f5ea; color:var(--good); } .tag.wrong { background:#fbe4e1; color:var(--bad); }
ul.skipped li { margin:4px 0; } code { background:#f0f3f9; padding:1px 5px; border-radius:4px; font-size:12.5px; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap:4px 18px; margin:0; font-size:14px; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
footer { color:var(--muted); font-size:12.5px; text-align:center; margin-top:30px; }
.scroll { overflow-x:auto; }
table.wrap td, table.wrap th { white-space:normal; text-align:left; vertical-align:top; }
h3 { margin:16px 0 6px; font-size:15.5px; }
"""


def esc(value: object) -> str:
    """HTML-escape any value's ``str``."""
    return html.escape(str(value), quote=True)


def fmt(x: float | None, digits: int = 3) -> str:
    """A number, or an en dash for missing/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def cell(mean: float | None, lo: float | None, hi: float | None) -> str:
    """``0.912 [0.88, 0.94]`` with the interval in small muted type."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{fmt(mean)} <span class='ci'>[{fmt(lo, 2)}, {fmt(hi, 2)}]</span>"


def table(headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], *, wrap: bool = False) -> str:
    """A table; each row is ``(css_class, cells)``; cells are trusted HTML (escape before).

    ``wrap``: cells wrap and align left (for prose columns)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(f"<tr class='{cls}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cls, cells in rows)
    cls = " class='wrap'" if wrap else ""
    return f"<div class='scroll'><table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def section(title: str, lead: str, body: str, anchor: str = "") -> str:
    """A card with a heading, a one-paragraph lead (trusted HTML) and a body."""
    aid = f" id='{esc(anchor)}'" if anchor else ""
    return f"<section{aid}><h2>{esc(title)}</h2><p class='lead'>{lead}</p>{body}</section>"


def figure(uri: str, alt: str) -> str:
    """An inline PNG figure."""
    return f"<img class='fig' src='{uri}' alt='{esc(alt)}'>"


def verdict(passed: bool | None) -> str:
    """✔ met / ✘ missed / not evaluated."""
    if passed is None:
        return "<span class='na'>not evaluated</span>"
    return "<span class='pass'>✔ met</span>" if passed else "<span class='fail'>✘ missed</span>"


def page(title: str, subtitle: str, chips: Sequence[str], body: str, footer: str) -> str:
    """The whole document."""
    chip_html = "".join(f"<span class='chip'>{esc(c)}</span>" for c in chips)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{subtitle}</p><div class='chips'>{chip_html}</div></header>"
        f"<main>{body}<footer>{footer}</footer></main></body></html>"
    )
