"""Two real processes registering at once; a process SIGKILLed mid-write."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from scafe.library import Library
from scafe.library.store import TEST_PAUSE_ENV

from .conftest import extractor_source

WORKER = """
import sys
from pathlib import Path
from scafe.library import Library
lib_dir, criteria_dir, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
shared = len(sys.argv) > 5  # every process registers versions of one shared name
lib = Library.open(lib_dir, criteria_dir=Path(criteria_dir))
for i in range(n):
    key = "shared_k" if shared else f"{name}_k{i}"
    source = f'def extract(image, mask):\\n    return {{"{key}": {i}.0}}  # {name}\\n'
    lib.register(source, name="shared" if shared else f"{name}_{i}", criterion="vss/vascularity",
                 origin="generated", outputs=[key])
print("done", lib.version_id)
"""


def spawn(library: Library, criteria_dir: Path, name: str, n: int, pause: str,
          shared: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, TEST_PAUSE_ENV: pause}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(library.path), str(criteria_dir), name, str(n), *(["shared"] if shared else [])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(predicate, timeout: float = 300.0) -> None:  # generous: a loaded machine starts Python slowly
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the subprocess")
        time.sleep(0.02)


def test_two_processes_registering_at_once_both_succeed(library: Library, criteria_dir: Path) -> None:
    # each registration holds the lock for 0.15 s between writing the source and the manifest,
    # so the two processes' read-modify-write cycles overlap unless the lock serialises them
    procs = [spawn(library, criteria_dir, name, 3, "after_source:0.15") for name in ("alpha", "beta")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    reopened = Library.open(library.path, criteria_dir=criteria_dir)
    labels = sorted(e.label for e in reopened.entries())
    assert labels == sorted(f"{n}_{i}@v1" for n in ("alpha", "beta") for i in range(3))
    data = json.loads(reopened.manifest_path.read_text())
    assert data["version_id"] == reopened.version_id
    assert len(data["history"]) == 6
    for entry in reopened.entries():
        assert reopened.source(entry).count("return") == 1


def test_two_processes_adding_versions_of_one_name(library: Library, criteria_dir: Path) -> None:
    procs = [spawn(library, criteria_dir, name, 2, "after_source:0.15", shared=True) for name in ("alpha", "beta")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    reopened = Library.open(library.path, criteria_dir=criteria_dir)
    versions = reopened.entries()
    assert [e.version for e in versions] == [1, 2, 3, 4]
    assert [e.label for e in reopened.active()] == ["shared@v4"]
    assert [e.parent for e in versions] == [None, 1, 2, 3]
    found = [re.search(r"(\d+)\.0\}  # (\w+)", reopened.source(e)) for e in versions]
    writers = sorted(f"{m.group(2)}{m.group(1)}" for m in found if m)
    assert writers == ["alpha0", "alpha1", "beta0", "beta1"]  # no version overwrote another


def _kill_at(library: Library, criteria_dir: Path, pause: str, ready) -> None:
    proc = spawn(library, criteria_dir, "victim", 1, pause)
    try:
        wait_for(lambda: ready() or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL


def test_kill_after_source_before_manifest_keeps_previous_state(library: Library, criteria_dir: Path) -> None:
    library.register(extractor_source("kept"), name="kept", criterion="vss/vascularity", origin="reference", outputs=["kept"])
    before_bytes = library.manifest_path.read_bytes()
    before_id = library.version_id
    orphan = library.path / "extractors" / "victim_0" / "v1.py"
    _kill_at(library, criteria_dir, "after_source:60", orphan.exists)
    assert library.manifest_path.read_bytes() == before_bytes
    after = Library.open(library.path, criteria_dir=criteria_dir)
    assert after.version_id == before_id
    assert [e.label for e in after.entries()] == ["kept@v1"]
    assert orphan.exists()  # unreferenced: not part of the library
    # the lock died with the process; the next registration of that version replaces the orphan
    entry = after.register(extractor_source("victim_k0", 5.0), name="victim_0", criterion="vss/vascularity",
                           origin="reference", outputs=["victim_k0"])
    assert entry.version == 1
    assert after.source(entry) == extractor_source("victim_k0", 5.0)
    assert {s.state for s in after.status()} == {"active"}


def test_kill_before_manifest_rename_keeps_previous_state(library: Library, criteria_dir: Path) -> None:
    library.register(extractor_source("kept"), name="kept", criterion="vss/vascularity", origin="reference", outputs=["kept"])
    before_bytes = library.manifest_path.read_bytes()
    _kill_at(library, criteria_dir, "before_replace:60", lambda: any(library.path.glob(".library.json.*.tmp")))
    assert library.manifest_path.read_bytes() == before_bytes
    after = Library.open(library.path, criteria_dir=criteria_dir)
    assert [e.label for e in after.entries()] == ["kept@v1"]
