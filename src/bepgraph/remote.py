"""The one module that speaks HTTP to a SPARQL server holding the graph.

The remote store (:class:`bepgraph.store.RemoteStore`), the /sparql door
forwarding to it and the /gsp door all go through :class:`RemoteClient`, so
the endpoints, the credentials, the ``Accept`` header of each query form and
the checks that an answer is whole are written once.

Why the checks: a server may cut an answer and still say 200. Virtuoso
stops at its ``ResultSetMaxRows`` and says so only in an ``X-SPARQL-MaxRows``
header, and past its ``MaxQueryExecutionTime`` it returns the rows found so
far ("anytime" answers, flagged by ``X-SQL-State: S1TAT``). A cut answer is
a wrong answer, so each is an error naming the server setting to raise; a
row count equal to the cap the user configured (``BEPGRAPH_STORE_MAX_ROWS``)
is treated the same, for servers that cut without saying.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import QueryError, StoreError, StoreUnreachable
from .namespaces import GRAPH
from .settings import RemoteSettings
from .sparql_lexer import keywords, scan

__all__ = ["N_TRIPLES", "RESULTS_JSON", "Endpoints", "RemoteClient", "RemoteTimeout", "Reply", "TruncatedAnswer", "endpoints",
           "query_form", "user_graph"]

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_LABEL = re.compile(r"[^A-Za-z0-9_]")  # what a blank node label may not hold

_FORMS = keywords("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")  # what the prologue before the form never holds


class RemoteTimeout(StoreUnreachable):
    """The server did not answer within the client's timeout."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, timed_out=True)


class TruncatedAnswer(StoreError):
    """The server answered only part of the query (a row cap or a time limit of its own)."""


@dataclass(frozen=True)
class Endpoints:
    query_url: str
    update_url: str
    gsp_url: str


@dataclass(frozen=True)
class Reply:
    """A query's answer as the server sent it, once checked whole: its media type and bytes."""

    media_type: str
    body: bytes


def endpoints(location: str | None, remote: RemoteSettings) -> Endpoints:
    """The three endpoints: each one set in *remote* (BEPGRAPH_STORE_*_URL) wins; the others follow
    Oxigraph's layout (``/query``, ``/update``, ``/store`` under one root) from *location* (``--store URL``)."""
    base = (location or remote.query_url or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise StoreError("no SPARQL server named: pass --store URL or set BEPGRAPH_STORE_QUERY_URL")
    root = base[: -len("/query")] if base.endswith("/query") else base
    return Endpoints(remote.query_url or root + "/query", remote.update_url or root + "/update",
                     remote.gsp_url or root + "/store")


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword outside comments, strings and IRIs."""
    for word, *_ in scan(text, _FORMS):
        if word not in ("{", "}"):
            return word
    raise QueryError("the text is not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")


def user_graph(iri: str) -> bool:
    """The project's graphs are under its graph namespace; a server's own graphs (Virtuoso's
    virtrdf:, its DAV and LDP graphs) are not the user's and are neither listed nor unioned."""
    return iri.startswith(GRAPH)


def _auth(remote: RemoteSettings) -> httpx.Auth | None:
    if remote.auth == "basic":
        return httpx.BasicAuth(remote.user or "", remote.password or "")
    if remote.auth == "digest":
        return httpx.DigestAuth(remote.user or "", remote.password or "")
    if remote.auth == "bearer":
        return _Bearer(remote.token or "")
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


class RemoteClient:
    """One HTTP client for one server: queries, updates and Graph Store requests, checked."""

    def __init__(self, remote: RemoteSettings, where: Endpoints) -> None:
        self.settings = remote
        self.endpoints = where
        self._http = httpx.Client(timeout=remote.timeout_s, auth=_auth(remote))

    # --- the Protocol ---------------------------------------------------------------------------

    def query(self, text: str, default_graphs: list[str] | tuple[str, ...] = (),
              named_graphs: list[str] | tuple[str, ...] = (), timeout: float | None = None) -> Reply:
        """The answer to *text*, SPARQL results JSON for SELECT/ASK and N-Triples for CONSTRUCT/DESCRIBE."""
        form = query_form(text)
        params: list[tuple[str, str | int | float | bool | None]] = [("query", text)]
        params += [("default-graph-uri", g) for g in default_graphs] \
            + [("named-graph-uri", g) for g in named_graphs]
        accept = N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
        response = self._send("POST", self.endpoints.query_url, timeout, content=str(httpx.QueryParams(params)),
                              headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "text/plain" and accept == N_TRIPLES:
            media = N_TRIPLES  # Virtuoso's older name for N-Triples
        if media != accept:
            raise StoreError(f"the SPARQL server answered a {form} with '{media}', not '{accept}'")
        self._whole(response)
        body = response.content
        if media == RESULTS_JSON:
            body = self._checked_results(body)
        else:
            self._under_cap(sum(1 for line in body.splitlines() if line.strip()), "triples")
        return Reply(media, body)

    def update(self, text: str, using: Sequence[str] = (),
               using_named: Sequence[str] = (), timeout: float | None = None) -> None:
        params: list[tuple[str, str | int | float | bool | None]] = [("update", text)]
        params += [("using-graph-uri", g) for g in using] \
            + [("using-named-graph-uri", g) for g in using_named]
        self._send("POST", self.endpoints.update_url, timeout, content=str(httpx.QueryParams(params)),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})

    # --- the Graph Store Protocol -----------------------------------------------------------------

    def graph_request(self, method: str, params: Mapping[str, str], content: Any = None,
                      headers: dict[str, str] | None = None, checked: bool = True) -> httpx.Response:
        """A Graph Store Protocol request (*params*: ``graph=IRI``, ``default`` or none).

        *checked*: a status of 300 or more is an error; else the response is
        returned as it is (the /gsp door hands the server's status on).
        """
        if not checked:
            try:
                return self._http.request(method, self.endpoints.gsp_url, params=dict(params), content=content,
                                          headers=headers)
            except httpx.HTTPError as exc:
                raise StoreUnreachable(f"the graph store at {self.endpoints.gsp_url} could not be reached: "
                                       f"{exc}") from exc
        return self._send(method, self.endpoints.gsp_url, None, params=dict(params), content=content,
                          headers=headers, what=f"graph <{params.get('graph', 'default')}>")

    def close(self) -> None:
        self._http.close()

    # --- checks -----------------------------------------------------------------------------------

    def _send(self, method: str, url: str, timeout: float | None, what: str | None = None,
              **kwargs: Any) -> httpx.Response:
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteTimeout(f"the SPARQL server at {url} did not answer within "
                                f"{timeout or self.settings.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise StoreUnreachable(f"the SPARQL server at {url} could not be reached: {exc}") from exc
        if response.status_code in (401, 403):
            raise StoreError(f"the SPARQL server at {url} refused the credentials ({response.status_code}): set "
                             "BEPGRAPH_STORE_AUTH, BEPGRAPH_STORE_USER and BEPGRAPH_STORE_PASSWORD (or "
                             "BEPGRAPH_STORE_TOKEN), and grant that user updates on the server")
        if response.status_code == 400:
            raise QueryError(f"the SPARQL server rejected the request: {response.text.strip()[:500]}")
        if "S1T00" in response.text[:200]:  # Virtuoso: the query ran out of its time limit and returned nothing
            raise TruncatedAnswer(f"the SPARQL server at {url} stopped the request at its time limit: raise it "
                                  "(Virtuoso: MaxQueryExecutionTime in the [SPARQL] section of virtuoso.ini, 0 for "
                                  f"none): {response.text.strip()[:200]}")
        if "SR325" in response.text[:2000]:  # Virtuoso: one transaction's log outgrew its limit
            raise StoreError(f"the SPARQL server at {url} refused a transaction this large (a load commits "
                             "in one update): raise its limit (Virtuoso: TransactionAfterImageLimit in the "
                             f"[Parameters] section of virtuoso.ini): {response.text.strip()[:200]}")
        if response.status_code >= 300:
            target = f" {what}" if what else ""
            raise StoreError(f"the SPARQL server at {url} refused{target}: {response.status_code} "
                             f"{response.text.strip()[:300]}")
        return response

    def _whole(self, response: httpx.Response) -> None:
        """Refuse an answer the server marked as cut (its row cap) or partial (its time limit)."""
        cap = response.headers.get("x-sparql-maxrows")
        if cap is not None:
            raise TruncatedAnswer(f"the SPARQL server cut its answer at {cap} rows (X-SPARQL-MaxRows): raise its "
                                  "row cap (Virtuoso: ResultSetMaxRows in the [SPARQL] section of virtuoso.ini)")
        state = response.headers.get("x-sql-state", "")
        message = response.headers.get("x-sql-message", "")
        if state.upper() == "S1TAT" or "incomplete" in message.lower():
            raise TruncatedAnswer("the SPARQL server returned a partial answer when its time limit ran out "
                                  f"({message.strip() or state}): raise its query time limit (Virtuoso: "
                                  "MaxQueryExecutionTime in the [SPARQL] section of virtuoso.ini, 0 for none)")

    def _under_cap(self, count: int, what: str) -> None:
        cap = self.settings.max_rows
        if cap is not None and count >= cap:
            raise TruncatedAnswer(f"the SPARQL server answered {count} {what}, its configured row cap "
                                  f"(BEPGRAPH_STORE_MAX_ROWS={cap}), so the answer may be cut: raise the server's "
                                  "cap (Virtuoso: ResultSetMaxRows) and BEPGRAPH_STORE_MAX_ROWS with it")

    def _checked_results(self, body: bytes) -> bytes:
        """Results JSON under the configured cap, its terms in the forms the embedded store gives.

        Virtuoso stores ``true`` as the integer 1 and writes it back as
        ``"1"^^xsd:boolean`` in JSON results (the same value, but not the term
        loaded), and names blank nodes ``nodeID://b1``, which is no blank node
        label: both are written back in the standard form.
        """
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise StoreError(f"the SPARQL server's results are not JSON: {exc}") from exc
        rows = (data.get("results") or {}).get("bindings")
        if rows is None:
            return body  # an ASK
        self._under_cap(len(rows), "rows")
        if _BOOLEAN.encode() not in body and b"nodeID:" not in body:
            return body
        for row in rows:
            for term in row.values():
                if term.get("datatype") == _BOOLEAN and term.get("value") in ("1", "0"):
                    term["value"] = "true" if term["value"] == "1" else "false"
                elif term.get("type") == "bnode":
                    term["value"] = _LABEL.sub("_", term["value"])
        return json.dumps(data).encode()
