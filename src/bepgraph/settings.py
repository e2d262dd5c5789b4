"""Settings: one frozen dataclass, read from the command line and the environment once, at the edge."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start; nothing reads the environment after this is built."""

    host: str = "127.0.0.1"
    port: int = 8000
    store: str | None = None  # None/"memory", a folder, or a SPARQL server URL
    bundles: tuple[Path, ...] | None = None  # None: the example bundle
    plan: Path | None = None  # None: the JNL Series Trust filing
    allow_updates: bool = False
    token: str | None = None  # bearer token for updates (BEPGRAPH_TOKEN)
    query_timeout_s: float = 30.0
    result_limit: int = 100_000
    max_page_size: int = 100
    load_on_start: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Settings from ``BEPGRAPH_*`` variables, then explicit overrides (the CLI's options)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "BEPGRAPH_TOKEN" in env and env["BEPGRAPH_TOKEN"]:
            values["token"] = env["BEPGRAPH_TOKEN"]
        if "BEPGRAPH_QUERY_TIMEOUT" in env:
            values["query_timeout_s"] = float(env["BEPGRAPH_QUERY_TIMEOUT"])
        if "BEPGRAPH_RESULT_LIMIT" in env:
            values["result_limit"] = int(env["BEPGRAPH_RESULT_LIMIT"])
        if "BEPGRAPH_STORE" in env:
            values["store"] = env["BEPGRAPH_STORE"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
