"""``scafe generate`` and ``scafe criteria render`` through the CLI runner (and a real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scafe.cli import main
from scafe.library import Library
from tests.agents.scripted import (
    PIGMENT,
    REDNESS,
    REDNESS_AUGASSIGN,
    VSS,
    Router,
    code_reply,
    plan_json,
)
from tests.support.fake_llm import FakeLLMServer, Reply


def test_no_endpoint_is_a_config_error_with_setup_help(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFE_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["generate", "--criteria", str(VSS)]) == 2
    monkeypatch.delenv("SCAFE_CONFIG")
    monkeypatch.chdir(tmp_path)  # no scafe.toml here
    code = main(["generate", "--criteria", str(VSS), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    for needle in ("OPENAI_BASE_URL", "Ollama", "11434", "llama.cpp", "8080", "vLLM"):
        assert needle in err


def test_record_and_replay_conflict(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["generate", "--criteria", str(VSS), "--record", str(tmp_path / "a"), "--replay", str(tmp_path / "b")])
    assert code == 2
    assert "exclude each other" in capsys.readouterr().err


def test_unknown_item_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["generate", "--criteria", "vss", "--items", "vascularity,colour", "--base-url", "http://127.0.0.1:9/v1",
                 "--model", "m", "--runs-dir", str(tmp_path)])  # fmt: skip
    assert code == 2
    assert "--items colour not in vss.yaml" in capsys.readouterr().err


def test_criteria_render_shows_what_the_llm_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "render", "vss/vascularity"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("===== system =====")
    assert "===== user =====" in out
    assert "Task: propose between 1 and 3" in out
    assert main(["criteria", "render", "vss/vascularity", "--stage", "repair"]) == 0
    assert "failed validation on attempt 1" in capsys.readouterr().out
    assert main(["criteria", "render", "vss/vascularity", "--stage", "judge"]) == 2


def test_generate_prints_the_table_and_exits_3_when_an_item_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                    writes={"redness_contrast": "no code here"})  # fmt: skip
    with FakeLLMServer(router) as server:
        code = main(["generate", "--criteria", "vss", "--items", "vascularity", "--library", str(tmp_path / "lib"),
                     "--runs-dir", str(tmp_path / "runs"), "--base-url", server.url, "--model", "fake-model",
                     "--attempts", "1", "--run-id", "cli-run"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 3
    assert "redness_co" in out  # the table (column width depends on the terminal)
    assert "rejected" in out
    assert "No accepted extractor for: vascularity" in out
    assert "vascularity/redness_contrast: Your reply contained no ```python" in out
    assert (tmp_path / "runs" / "cli-run" / "summary.md").is_file()


def _run_files(directory: Path) -> dict[str, bytes]:
    volatile = {"checkpoint.sqlite", "events.jsonl", "run.json", "summary.json", "summary.md"}
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name not in volatile and not p.name.endswith(("report.json", "usefulness.json"))}  # fmt: skip


def _without_seconds(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("seconds", None)
    return data


@pytest.mark.slow
def test_record_then_replay_reproduces_the_run_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "exchanges.jsonl"
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                    writes={"redness_contrast": code_reply(REDNESS_AUGASSIGN)},
                    repairs={"redness_contrast": code_reply(REDNESS)})  # fmt: skip
    common = ["generate", "--criteria", str(VSS), "--items", "vascularity", "--runs-dir", str(tmp_path / "runs"),
              "--usefulness-n", "40"]  # fmt: skip
    with FakeLLMServer(router) as server:
        assert main([*common, "--library", str(tmp_path / "lib1"), "--run-id", "live", "--base-url", server.url,
                     "--model", "fake-model", "--record", str(rec)]) == 0  # fmt: skip
        live_requests = len(server.requests)
    # the server is gone: the replay must not need the network at all
    assert main([*common, "--library", str(tmp_path / "lib2"), "--run-id", "offline", "--replay", str(rec)]) == 0
    capsys.readouterr()
    live, offline = tmp_path / "runs" / "live", tmp_path / "runs" / "offline"
    assert _run_files(live) == _run_files(offline)  # prompts, replies, code: byte for byte
    useful = "vascularity/redness_contrast/usefulness.json"
    assert _without_seconds(live / useful) == _without_seconds(offline / useful)  # same dAUC and CI, only timing differs
    rows = [json.loads((d / "summary.json").read_text())["results"] for d in (live, offline)]
    assert rows[0] == rows[1]
    replay_usage = json.loads((offline / "summary.json").read_text())["usage_this_invocation"]
    assert replay_usage["replayed"] == replay_usage["calls"] == live_requests == 3
    sources = [Library.open(tmp_path / lib).source(Library.open(tmp_path / lib).entries()[0]).encode()
               for lib in ("lib1", "lib2")]  # fmt: skip
    assert sources[0] == sources[1] == REDNESS.encode()


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_accepted_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "lib"
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a")),
                           "pigmentation": plan_json(("melanin_contrast", "melanin_shift"))},
                    writes={"redness_contrast": code_reply(REDNESS),
                            # the first melanin reply never arrives in time: the process is killed while waiting
                            "melanin_contrast": [Reply(content=code_reply(PIGMENT), delay=120), code_reply(PIGMENT)]})  # fmt: skip
    with FakeLLMServer(router) as server:
        argv = [sys.executable, "-m", "scafe", "generate", "--criteria", str(VSS), "--items", "vascularity,pigmentation",
                "--library", str(library), "--runs-dir", str(tmp_path / "runs"), "--run-id", "crashy",
                "--base-url", server.url, "--model", "fake-model", "--timeout", "300", "--no-usefulness"]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                env=os.environ.copy())  # fmt: skip
        deadline = time.monotonic() + 180
        try:
            while time.monotonic() < deadline:
                registered = (library / "library.json").is_file() and "redness_contrast" in (library / "library.json").read_text()
                if registered and router.count("write", "melanin_contrast") == 1:
                    break
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.2)
            else:
                pytest.fail("the first run never reached the kill point")
            time.sleep(1.0)  # let the checkpoint of the finished spec land
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = list(router.log)
        code = main(["generate", "--resume", "crashy", "--runs-dir", str(tmp_path / "runs"), "--base-url", server.url])
    out = capsys.readouterr().out
    assert code == 0, out
    new_requests = router.log[len(before):]
    assert new_requests == [("write", "melanin_contrast")]  # nothing accepted or planned was asked again
    entries = Library.open(library).entries()
    assert sorted((e.name, e.version) for e in entries) == [("melanin_contrast", 1), ("redness_contrast", 1)]
    summary = json.loads((tmp_path / "runs" / "crashy" / "summary.json").read_text())
    assert [r["outcome"] for r in summary["results"]] == ["accepted", "accepted"]
    assert summary["resumed"] is True
