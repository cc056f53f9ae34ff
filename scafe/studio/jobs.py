"""Background jobs with progress (re-running an item's criterion tests from a page).

One job runs at a time (a single worker thread): verification is CPU-bound and the sandbox
already runs children in parallel where it can. A page polls ``/api/jobs/<id>`` for
``done``/``total`` and shows a progress bar, then the result.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Job:
    """One background task; ``state`` is ``queued``, ``running``, ``done`` or ``failed``."""

    id: str
    label: str
    total: int
    done: int = 0
    step: str = "queued"
    state: str = "queued"
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON for the page."""
        return {"id": self.id, "label": self.label, "total": self.total, "done": self.done, "step": self.step,
                "state": self.state, "result": self.result, "error": self.error,
                "seconds": round((self.finished or time.time()) - self.started, 1)}


class JobRunner:
    """Runs submitted functions one after another on a daemon thread."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queue: list[tuple[Job, Callable[[Job], Any]]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, label: str, total: int, work: Callable[[Job], Any]) -> Job:
        """Queue ``work(job)``; it updates ``job.done``/``job.step`` and returns the result."""
        with self._lock:
            job = Job(id=f"j{next(self._ids)}", label=label, total=max(1, total))
            self._jobs[job.id] = job
            self._queue.append((job, work))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="studio-jobs", daemon=True)
                self._thread.start()
            self._wake.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    self._wake.wait()
                job, work = self._queue.pop(0)
            job.state = "running"
            try:
                job.result = work(job)
                job.state = "done"
            except Exception as exc:  # a job's failure is reported on its page, never kills the server
                job.state = "failed"
                job.error = f"{type(exc).__name__}: {exc}"
                job.result = {"traceback": traceback.format_exc(limit=3)}
            job.done = job.total if job.state == "done" else job.done
            job.finished = time.time()
