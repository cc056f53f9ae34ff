"""The run directory ``runs/<run_id>/``: everything a reviewer needs to see what happened.

Layout::

    runs/<run_id>/
      run.json                 the arguments of the run (what --resume reuses)
      checkpoint.sqlite        LangGraph checkpoints (--resume)
      events.jsonl             one line per step (node, item, spec, attempt, outcome, seconds)
      <item>/plan.prompt.md    the plan prompt and
      <item>/plan.reply.md     the reply (retries: plan.2.prompt.md, ...)
      <item>/<spec>/attempt<k>.prompt.md | .reply.md | .code.py | .report.json
      summary.json, summary.md the outcome table

Files are written atomically (temp file + rename) so a killed run never leaves half a file.
Everything written passes through ``agents.redaction.redact`` (no API key in a run directory).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from agents.redaction import redact, redact_obj
from scafe.errors import UsageError

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def check_run_id(run_id: str, flag: str = "--run-id") -> str:
    """``run_id`` if it is a plain directory name (no separators, no ``..``); ``UsageError`` otherwise."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise UsageError(f"{flag} {run_id!r} must be letters, digits, '.', '_' or '-' (at most 80, no '..', no "
                         "path separators), e.g. 'vss-2026-11-22'")
    return run_id


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-<6 hex>``: sortable, unique enough for one machine."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def format_chat(messages: list[dict[str, Any]]) -> str:
    """Markdown view of chat messages (images shown as placeholders)."""
    parts = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = "\n".join(p.get("text", "[image]") for p in content)
        parts.append(f"## {message['role']}\n\n{content}\n")
    return "\n".join(parts)


class RunLog:
    """Writer for one run directory (thread-safe; nodes run in parallel)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    @property
    def run_id(self) -> str:
        """The directory name."""
        return self.directory.name

    @classmethod
    def existing(cls, runs_dir: Path, run_id: str) -> RunLog:
        """Open the directory of an earlier run (for ``--resume``); ``UsageError`` if absent."""
        check_run_id(run_id, "--resume")
        directory = Path(runs_dir) / run_id
        if not (directory / "run.json").is_file():
            known = sorted(p.parent.name for p in Path(runs_dir).glob("*/run.json")) if Path(runs_dir).is_dir() else []
            raise UsageError(
                f"No run {run_id!r} under {str(runs_dir)!r} (no run.json there); "
                f"known runs: {', '.join(known[-10:]) or 'none'}."
            )
        return cls(directory)

    def write(self, relative: str, text: str) -> Path:
        """Atomically write ``text`` to ``<run dir>/<relative>``."""
        path = self.directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(redact(text), encoding="utf-8")
        tmp.replace(path)
        return path

    def write_json(self, relative: str, data: Any) -> Path:
        """Atomically write pretty, sorted JSON."""
        return self.write(relative, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def read_json(self, relative: str) -> Any:
        """Read a JSON file of the run."""
        return json.loads((self.directory / relative).read_text(encoding="utf-8"))

    def event(self, **fields: Any) -> None:
        """Append one event line (``time`` added) to ``events.jsonl``."""
        line = redact(json.dumps(redact_obj({"time": round(time.time(), 3), **fields}), sort_keys=True, default=str))
        with self._lock, (self.directory / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def events(self) -> list[dict[str, Any]]:
        """All events so far."""
        path = self.directory / "events.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
