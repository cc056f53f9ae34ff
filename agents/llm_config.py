"""LLM endpoint configuration: flags > environment > config file, validated once (pydantic).

Configuration (highest precedence first): explicit arguments / CLI flags, the environment
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``SCAFE_MODEL``), then the ``[llm]`` table of the config
file (``SCAFE_CONFIG`` or ``<project root>/scafe.toml``)::

    [llm]
    base_url = "http://localhost:11434/v1"
    model = "qwen2.5-coder:7b"
    timeout_s = 120
    max_retries = 4

With no endpoint at all, :class:`scafe.errors.ConfigError` carries :data:`SETUP_HELP`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.recording import Replayer
from scafe.errors import ConfigError

__all__ = ["LLMConfig", "SETUP_HELP", "configured_api_key", "configured_endpoint"]

SETUP_HELP = """No LLM endpoint is configured. Point scafe at any OpenAI-compatible server:
  OpenAI:     export OPENAI_API_KEY=sk-...  SCAFE_MODEL=gpt-4o-mini  (base URL defaults to https://api.openai.com/v1 when a key is set)
  Azure:      export OPENAI_BASE_URL=https://<resource>.openai.azure.com/openai/v1/  OPENAI_API_KEY=<key>  SCAFE_MODEL=<deployment>
  vLLM:       vllm serve Qwen/Qwen2.5-Coder-7B-Instruct; export OPENAI_BASE_URL=http://localhost:8000/v1  SCAFE_MODEL=Qwen/Qwen2.5-Coder-7B-Instruct
  Ollama:     ollama pull qwen2.5-coder:7b; export OPENAI_BASE_URL=http://localhost:11434/v1  SCAFE_MODEL=qwen2.5-coder:7b
  llama.cpp:  llama-server -m model.gguf --port 8080; export OPENAI_BASE_URL=http://localhost:8080/v1  SCAFE_MODEL=local
or pass --base-url/--model, or put them in the [llm] table of scafe.toml (or the file named by SCAFE_CONFIG).
To run offline from a recording, pass --replay FILE."""


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class LLMConfig(BaseModel):
    """Validated client settings (see the module docstring for where each comes from).

    ``base_url`` may be ``None`` only in replay mode.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    model: str
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=2048, gt=0, description="completion tokens per call")
    timeout_s: float = Field(default=120.0, gt=0, description="wall-clock limit of one HTTP request, reply included")
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    retry_after_cap_s: float = Field(default=60.0, ge=0, description="longest single wait a Retry-After may ask for")
    retry_wait_total_s: float = Field(default=120.0, ge=0, description="total waiting between the retries of one call")
    call_deadline_s: float | None = Field(default=None, gt=0, description="wall clock of one call, retries included "
                                          "(default: (max_retries + 1) * timeout_s + retry_wait_total_s)")
    run_deadline_s: float | None = Field(default=None, gt=0, description="wall clock of all calls of this client")
    max_reply_bytes: int = Field(default=4 * 1024 * 1024, gt=0, description="larger HTTP bodies are refused")
    concurrency: int = Field(default=4, ge=1)
    max_calls: int | None = Field(default=None, ge=1)
    max_total_tokens: int | None = Field(default=None, ge=1)
    record: Path | None = None
    replay: Path | None = None

    @property
    def call_deadline(self) -> float:
        """Seconds one :meth:`LLMClient.chat` may take, retries and waits included."""
        if self.call_deadline_s is not None:
            return self.call_deadline_s
        return (self.max_retries + 1) * self.timeout_s + self.retry_wait_total_s

    @property
    def provider(self) -> str:
        """A best guess at the kind of server, for provenance (``openai``, ``azure``, ``ollama``, ...)."""
        if self.replay is not None and self.base_url is None:
            return "replay"
        parsed = urlparse(self.base_url or "")
        host, port = parsed.hostname or "", parsed.port
        if host.endswith("openai.azure.com"):
            return "azure"
        if host == "api.openai.com":
            return "openai"
        if port == 11434:
            return "ollama"
        if port == 8080:
            return "llama.cpp"
        if port == 8000:
            return "vllm"
        return "openai-compatible"

    @classmethod
    def from_env(
        cls,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        *,
        config_file: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> LLMConfig:
        """Merge arguments, environment and config file; raise ``ConfigError`` with setup help.

        ``overrides`` are any other field (``timeout_s=30``, ``replay=Path(...)``); ``None`` values
        are ignored so CLI flags can be passed through unconditionally.
        """
        settings = _read_config_file(config_file)
        env = {"base_url": os.environ.get("OPENAI_BASE_URL"), "api_key": os.environ.get("OPENAI_API_KEY"),
               "model": os.environ.get("SCAFE_MODEL")}
        for key, value in env.items():
            if value:
                settings[key] = value
        explicit = {"base_url": base_url, "api_key": api_key, "model": model, **overrides}
        settings.update({k: v for k, v in explicit.items() if v is not None})

        replay = settings.get("replay")
        if replay is not None:
            replay_models = Replayer(Path(replay)).models
            if not settings.get("model"):
                if len(replay_models) != 1:
                    raise ConfigError(
                        f"The replay file {str(replay)!r} holds models {sorted(replay_models)}; choose one with --model."
                    )
                settings["model"] = next(iter(replay_models))
        else:
            if not settings.get("base_url") and settings.get("api_key"):
                settings["base_url"] = "https://api.openai.com/v1"
            if not settings.get("base_url"):
                raise ConfigError(SETUP_HELP)
            if not settings.get("model"):
                raise ConfigError(
                    f"No model is configured for the endpoint {settings['base_url']!r}; set SCAFE_MODEL, pass "
                    "--model, or add `model = ...` to the [llm] table of scafe.toml."
                )
            host = urlparse(settings["base_url"]).hostname or ""
            if not settings.get("api_key"):
                if host in _LOCAL_HOSTS or not host.endswith(("openai.com", "azure.com")):
                    settings["api_key"] = "not-needed"  # local servers ignore it; the SDK insists on one
                else:
                    raise ConfigError(
                        f"The endpoint {settings['base_url']!r} needs an API key; set OPENAI_API_KEY or pass --api-key."
                    )
        try:
            return cls(**settings)
        except ValidationError as exc:
            raise ConfigError(f"Invalid LLM configuration: {exc}") from exc


def configured_endpoint(base_url: str | None = None, *, config_file: str | os.PathLike[str] | None = None
                        ) -> tuple[str | None, str]:
    """``(base URL, where it came from)`` from flags > environment > config file, or ``(None, "")``.

    A stored run's URL is deliberately not part of this: ``generate --resume`` compares it with
    the configured one instead of letting a ``run.json`` decide where the API key is sent.
    """
    if base_url:
        return base_url, "--base-url"
    if os.environ.get("OPENAI_BASE_URL"):
        return os.environ["OPENAI_BASE_URL"], "OPENAI_BASE_URL"
    from_file = _read_config_file(config_file).get("base_url")
    return (str(from_file), "the config file") if from_file else (None, "")


def configured_api_key(api_key: str | None = None, *, config_file: str | os.PathLike[str] | None = None) -> str | None:
    """The API key from flags > environment > config file, if any."""
    return api_key or os.environ.get("OPENAI_API_KEY") or _read_config_file(config_file).get("api_key") or None


def _read_config_file(config_file: str | os.PathLike[str] | None) -> dict[str, Any]:
    path_text = config_file or os.environ.get("SCAFE_CONFIG")
    if path_text:
        path = Path(path_text)
        if not path.is_file():
            raise ConfigError(f"The config file {str(path)!r} (from --config or SCAFE_CONFIG) does not exist.")
    else:
        from scafe.paths import project_root

        path = project_root() / "scafe.toml"
        if not path.is_file():
            return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("llm", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {str(path)!r} is not valid TOML: {exc}") from exc
    if not isinstance(table, dict):
        raise ConfigError(f"The [llm] entry of {str(path)!r} must be a table of settings.")
    return dict(table)
