"""Settings: one frozen dataclass, read from the command line and the environment once, at the edge."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ParameterError

__all__ = ["BulkSettings", "RemoteSettings", "Settings"]


AUTH_KINDS = ("basic", "digest", "bearer")
DATASET_KINDS = ("union", "listed")
BULK_KINDS = ("virtuoso", "oxigraph")


@dataclass(frozen=True)
class BulkSettings:
    """How to hand a load to a SPARQL server's own bulk loader (``bulk_load.py``) instead of its Graph Store.

    ``oxigraph``: the N-Quads are POSTed to the server's ``/store`` with
    ``no_transaction`` (Oxigraph's bulk loader); nothing more to set.
    ``virtuoso``: the N-Quads are written into *folder*, a folder the server
    can read (listed in its ``DirsAllowed``), and loaded by ``ld_dir`` and
    ``rdf_loader_run`` through ``isql-vt`` on the server's SQL port.
    """

    kind: str  # BEPGRAPH_STORE_BULK: virtuoso or oxigraph
    folder: Path | None = None  # BEPGRAPH_STORE_BULK_DIR: where the N-Quads file is written
    server_folder: str | None = None  # BEPGRAPH_STORE_BULK_SERVER_DIR: that folder as the server names it
    isql: str = "127.0.0.1:1111"  # BEPGRAPH_STORE_ISQL: Virtuoso's SQL host:port
    isql_command: str = "isql-vt"  # BEPGRAPH_STORE_ISQL_COMMAND
    user: str | None = None  # BEPGRAPH_STORE_ISQL_USER, else BEPGRAPH_STORE_USER
    password: str | None = field(default=None, repr=False)  # BEPGRAPH_STORE_ISQL_PASSWORD, else BEPGRAPH_STORE_PASSWORD

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "BulkSettings | None":
        kind = env.get("BEPGRAPH_STORE_BULK", "").strip().lower()
        if not kind:
            return None
        if kind not in BULK_KINDS:
            raise ParameterError(f"BEPGRAPH_STORE_BULK '{kind}' is not one of {', '.join(BULK_KINDS)}")
        if kind == "oxigraph":
            return cls(kind)
        folder = env.get("BEPGRAPH_STORE_BULK_DIR", "")
        if not folder:
            raise ParameterError("BEPGRAPH_STORE_BULK=virtuoso needs BEPGRAPH_STORE_BULK_DIR: a folder this process "
                                 "writes and Virtuoso reads (listed in DirsAllowed in its virtuoso.ini)")
        user = env.get("BEPGRAPH_STORE_ISQL_USER") or env.get("BEPGRAPH_STORE_USER")
        password = env.get("BEPGRAPH_STORE_ISQL_PASSWORD") or env.get("BEPGRAPH_STORE_PASSWORD")
        if not user or not password:
            raise ParameterError("BEPGRAPH_STORE_BULK=virtuoso needs a SQL user and password: set "
                                 "BEPGRAPH_STORE_ISQL_USER and BEPGRAPH_STORE_ISQL_PASSWORD (or BEPGRAPH_STORE_USER "
                                 "and BEPGRAPH_STORE_PASSWORD)")
        return cls(kind, Path(folder), env.get("BEPGRAPH_STORE_BULK_SERVER_DIR") or None,
                   env.get("BEPGRAPH_STORE_ISQL") or cls.isql,
                   env.get("BEPGRAPH_STORE_ISQL_COMMAND") or cls.isql_command, user, password)


@dataclass(frozen=True)
class RemoteSettings:
    """How to reach a SPARQL server holding the graph: its three endpoints, credentials and limits.

    Credentials come from the environment only, never from the command line,
    where other users of the machine could read them in the process list.
    """

    query_url: str | None = None  # BEPGRAPH_STORE_QUERY_URL; else --store / BEPGRAPH_STORE (Oxigraph's /query)
    update_url: str | None = None  # BEPGRAPH_STORE_UPDATE_URL; else beside the query URL (/update)
    gsp_url: str | None = None  # BEPGRAPH_STORE_GSP_URL; else beside the query URL (/store)
    auth: str | None = None  # BEPGRAPH_STORE_AUTH: basic, digest or bearer
    user: str | None = None  # BEPGRAPH_STORE_USER
    password: str | None = field(default=None, repr=False)  # BEPGRAPH_STORE_PASSWORD
    token: str | None = field(default=None, repr=False)  # BEPGRAPH_STORE_TOKEN (bearer)
    max_rows: int | None = None  # BEPGRAPH_STORE_MAX_ROWS: the server's own row cap (Virtuoso's ResultSetMaxRows)
    # BEPGRAPH_STORE_DATASET: "union" when the server's default graph is the union of the named graphs
    # (oxigraph serve --union-default-graph); "listed" when it is not (Virtuoso), so each query names the
    # project's graphs as its dataset
    dataset: str = "union"
    timeout_s: float = 300.0  # BEPGRAPH_STORE_TIMEOUT: seconds one HTTP request to the server may take
    bulk: BulkSettings | None = None  # BEPGRAPH_STORE_BULK*: the server's own bulk loader, for loads

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "RemoteSettings":
        values: dict[str, object] = {}
        for key in ("query_url", "update_url", "gsp_url", "user", "password", "token"):
            raw = env.get("BEPGRAPH_STORE_" + key.upper(), "")
            if raw:
                values[key] = raw
        auth = env.get("BEPGRAPH_STORE_AUTH", "").strip().lower()
        if auth:
            if auth not in AUTH_KINDS:
                raise ParameterError(f"BEPGRAPH_STORE_AUTH '{auth}' is not one of {', '.join(AUTH_KINDS)}")
            needs = ("BEPGRAPH_STORE_TOKEN",) if auth == "bearer" else ("BEPGRAPH_STORE_USER", "BEPGRAPH_STORE_PASSWORD")
            missing = [n for n in needs if not env.get(n)]
            if missing:
                raise ParameterError(f"BEPGRAPH_STORE_AUTH={auth} needs {' and '.join(missing)}")
            values["auth"] = auth
        if env.get("BEPGRAPH_STORE_MAX_ROWS"):
            values["max_rows"] = int(_number("BEPGRAPH_STORE_MAX_ROWS", env["BEPGRAPH_STORE_MAX_ROWS"], int))
        if env.get("BEPGRAPH_STORE_TIMEOUT"):
            values["timeout_s"] = _number("BEPGRAPH_STORE_TIMEOUT", env["BEPGRAPH_STORE_TIMEOUT"], float)
        dataset = env.get("BEPGRAPH_STORE_DATASET", "").strip().lower()
        if dataset:
            if dataset not in DATASET_KINDS:
                raise ParameterError(f"BEPGRAPH_STORE_DATASET '{dataset}' is not one of {', '.join(DATASET_KINDS)}")
            values["dataset"] = dataset
        values["bulk"] = BulkSettings.from_env(env)
        return cls(**values)  # type: ignore[arg-type]


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
    read_token: str | None = None  # bearer token for every read (BEPGRAPH_READ_TOKEN); None: reads are open
    service_allow: tuple[str, ...] = ()  # the only endpoints SERVICE/LOAD may call (BEPGRAPH_SERVICE_ALLOW)
    max_body: int = 4 << 20  # bytes of a /sparql or /graphql request body (BEPGRAPH_MAX_BODY)
    max_gsp_body: int = 256 << 20  # bytes of a /gsp request body, which only a writer may send (BEPGRAPH_MAX_GSP_BODY)
    cors_origins: tuple[str, ...] = ()  # origins a browser may call from (BEPGRAPH_CORS_ORIGINS); none by default
    query_timeout_s: float = 30.0
    result_limit: int = 100_000
    max_page_size: int = 100
    load_on_start: bool = True
    findings_files: tuple[Path, ...] = ()  # every door's findings read from these files (serve --findings-file)
    remote: RemoteSettings = field(default_factory=RemoteSettings)  # a SPARQL server's endpoints (BEPGRAPH_STORE_*)
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Settings from ``BEPGRAPH_*`` variables, then explicit overrides (the CLI's options)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "BEPGRAPH_TOKEN" in env and env["BEPGRAPH_TOKEN"]:
            values["token"] = env["BEPGRAPH_TOKEN"]
        if "BEPGRAPH_QUERY_TIMEOUT" in env:
            values["query_timeout_s"] = _number("BEPGRAPH_QUERY_TIMEOUT", env["BEPGRAPH_QUERY_TIMEOUT"], float)
        if "BEPGRAPH_RESULT_LIMIT" in env:
            values["result_limit"] = _number("BEPGRAPH_RESULT_LIMIT", env["BEPGRAPH_RESULT_LIMIT"], int)
        if "BEPGRAPH_STORE" in env:
            values["store"] = env["BEPGRAPH_STORE"]
        if env.get("BEPGRAPH_READ_TOKEN"):
            values["read_token"] = env["BEPGRAPH_READ_TOKEN"]
        for name, key in (("BEPGRAPH_SERVICE_ALLOW", "service_allow"), ("BEPGRAPH_CORS_ORIGINS", "cors_origins")):
            if name in env:
                values[key] = tuple(item.strip() for item in env[name].split(",") if item.strip())
        for name, key in (("BEPGRAPH_MAX_BODY", "max_body"), ("BEPGRAPH_MAX_GSP_BODY", "max_gsp_body")):
            if name in env:
                values[key] = _size(name, env[name])
        values["remote"] = RemoteSettings.from_env(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _number(name: str, raw: str, kind: type[float] | type[int]) -> float:
    try:
        value = kind(raw)
    except ValueError:
        raise ParameterError(f"{name} '{raw}' is not a number") from None
    if not value > 0:
        raise ParameterError(f"{name} must be positive, not '{raw}'")
    return value


def _size(name: str, raw: str) -> int:
    """A byte count, plain or with a k/M/G suffix (powers of 1024)."""
    text = raw.strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    try:
        value = int(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise ParameterError(f"{name} '{raw}' is not a size in bytes (e.g. 4194304 or 4M)") from None
    if value <= 0:
        raise ParameterError(f"{name} must be positive, not '{raw}'")
    return value
