"""The gate every request passes: body limits, HEAD and OPTIONS, CORS, and the read token, over real HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from bepgraph.http.app import create_app
from bepgraph.loading import load_all
from bepgraph.settings import Settings
from bepgraph.store import EmbeddedStore

from .bundles import MINI, write_bundle
from .servers import free_port
from .w3c.runner import running

READ, WRITE = "read-token-for-tests", "write-token-for-tests"
GET_ROUTES = ["/", "/healthz", "/sparql", "/graphql", "/viz", "/viz/data", "/yasgui/yasgui.min.js"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore()
    load_all(store, [write_bundle(tmp_path_factory.mktemp("bundle") / "mini", MINI)])
    return store


@pytest.fixture(scope="module")
def open_app(store: EmbeddedStore) -> Iterator[str]:
    settings = Settings(load_on_start=False, max_body=64 * 1024, allow_updates=True, token=WRITE,
                        max_gsp_body=256 * 1024)
    with running(create_app(settings, store=store), free_port()) as base:
        yield base


@pytest.fixture(scope="module")
def locked_app(store: EmbeddedStore) -> Iterator[str]:
    settings = Settings(load_on_start=False, read_token=READ, allow_updates=True, token=WRITE,
                        cors_origins=("https://tools.example.org",))
    with running(create_app(settings, store=store), free_port(), headers={"authorization": f"Bearer {READ}"}) as base:
        yield base


def _raw(base: str, request: bytes, wait_s: float = 10.0) -> bytes:
    """Send *request* as bytes on a fresh connection and read what comes back until the server closes or stops."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), None)
                    if length is not None and len(body) >= length:
                        break
        except socket.timeout:
            pass
    return b"".join(chunks)


# --- body limits -----------------------------------------------------------------------------------

@pytest.mark.server
def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(open_app: str) -> None:
    for path, ctype in (("/sparql", "application/sparql-query"), ("/graphql", "application/json")):
        started = time.monotonic()
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {10 << 30}\r\n\r\n").encode()
        answer = _raw(open_app, head + b"SELECT")  # 10 GiB announced, 6 bytes sent: nothing waits for the rest
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"PayloadTooLarge" in answer and b"BEPGRAPH_MAX_BODY" in answer
        assert time.monotonic() - started < 5


@pytest.mark.server
def test_a_streamed_body_is_counted_and_refused_once_past_the_limit(open_app: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"SELECT * WHERE { ?s ?p ?o } # "
        for _ in range(100):
            yield b"x" * 4096  # 400 kB in all, no Content-Length: the limit is 64 kB

    answer = httpx.post(open_app + "/sparql", content=chunks(), headers={"content-type": "application/sparql-query"})
    assert answer.status_code == 413 and answer.json()["error"] == "PayloadTooLarge"
    graphql = httpx.post(open_app + "/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert graphql.status_code == 413
    small = httpx.post(open_app + "/sparql", content=b"ASK {}", headers={"content-type": "application/sparql-query"})
    assert small.status_code == 200


@pytest.mark.server
def test_the_graph_store_takes_a_larger_body_than_the_query_doors(open_app: str) -> None:
    triples = b"".join(b"<http://example.org/s%d> <http://example.org/p> \"%d\" .\n" % (i, i) for i in range(2000))
    assert 64 * 1024 < len(triples) < 256 * 1024
    auth = {"authorization": f"Bearer {WRITE}", "content-type": "application/n-triples"}
    put = httpx.put(open_app + "/gsp", params={"graph": "http://example.org/big"}, content=triples, headers=auth)
    assert put.status_code == 201, put.text
    assert httpx.put(open_app + "/gsp", params={"graph": "http://example.org/big"}, content=triples * 3,
                     headers=auth).status_code == 413
    assert httpx.delete(open_app + "/gsp", params={"graph": "http://example.org/big"}, headers=auth).status_code == 204


# --- HEAD, OPTIONS, CORS -----------------------------------------------------------------------------

@pytest.mark.server
def test_head_answers_every_get_route_as_get_without_a_body(open_app: str) -> None:
    for path in GET_ROUTES:
        get = httpx.get(open_app + path)
        head = httpx.head(open_app + path)
        assert head.status_code == get.status_code, path
        assert head.content == b"" and head.headers.get("content-type") == get.headers.get("content-type"), path


@pytest.mark.server
def test_options_lists_the_methods_of_each_route(open_app: str) -> None:
    for path in GET_ROUTES:
        answer = httpx.options(open_app + path)
        assert answer.status_code == 204, path
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert {"GET", "HEAD", "OPTIONS"} <= allowed, path
    assert "POST" in httpx.options(open_app + "/sparql").headers["allow"]
    assert "PUT" in httpx.options(open_app + "/gsp").headers["allow"]
    assert httpx.options(open_app + "/nowhere").status_code == 404


@pytest.mark.server
def test_cors_is_off_by_default_and_only_for_listed_origins(open_app: str, locked_app: str) -> None:
    origin = {"origin": "https://tools.example.org"}
    assert "access-control-allow-origin" not in httpx.get(open_app + "/healthz", headers=origin).headers
    auth = {"authorization": f"Bearer {READ}"}
    listed = httpx.get(locked_app + "/healthz", headers=origin | auth)
    assert listed.headers["access-control-allow-origin"] == "https://tools.example.org"
    other = httpx.get(locked_app + "/healthz", headers={"origin": "https://evil.example"} | auth)
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(locked_app + "/sparql", headers=origin | {"access-control-request-method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


# --- the read token ------------------------------------------------------------------------------------

DATA_DOORS = [
    ("GET", "/sparql", {"params": {"query": "ASK {}"}}),
    ("GET", "/sparql", {}),  # the service description
    ("POST", "/sparql", {"content": b"ASK {}", "headers": {"content-type": "application/sparql-query"}}),
    ("POST", "/graphql", {"json": {"query": "{ allSeries(first: 1) { totalCount } }"}}),
    ("GET", "/graphql", {"params": {"query": "{ __typename }"}}),
    ("GET", "/viz/data", {}),
    ("GET", "/healthz", {}),
    ("GET", "/gsp", {"params": {"default": ""}}),
]


@pytest.mark.server
def test_with_a_read_token_every_data_door_needs_it(locked_app: str) -> None:
    for method, path, kwargs in DATA_DOORS:
        bare = httpx.request(method, locked_app + path, **kwargs)
        assert bare.status_code == 401, (method, path, bare.text)
        assert bare.headers["www-authenticate"].startswith("Bearer") and bare.json()["error"] == "Unauthorized"
        kwargs_wrong = dict(kwargs, headers={**kwargs.get("headers", {}), "authorization": "Bearer wrong"})
        assert httpx.request(method, locked_app + path, **kwargs_wrong).status_code == 401
        kwargs_ok = dict(kwargs, headers={**kwargs.get("headers", {}), "authorization": f"Bearer {READ}"})
        answer = httpx.request(method, locked_app + path, **kwargs_ok)
        assert answer.status_code not in (401, 500), (method, path, answer.status_code, answer.text)


@pytest.mark.server
def test_the_write_token_also_reads_and_writes_still_need_it(locked_app: str) -> None:
    write = {"authorization": f"Bearer {WRITE}"}
    assert httpx.get(locked_app + "/sparql", params={"query": "ASK {}"}, headers=write).status_code == 200
    read = {"authorization": f"Bearer {READ}", "content-type": "application/sparql-update"}
    update = httpx.post(locked_app + "/sparql", content=b"INSERT DATA { <urn:a> <urn:b> <urn:c> }", headers=read)
    assert update.status_code == 403  # the read token opens the door, not the write


@pytest.mark.server
def test_pages_open_for_a_browser_and_carry_the_script_that_asks_for_the_token(locked_app: str) -> None:
    for path in ("/", "/graphql", "/sparql", "/viz"):
        page = httpx.get(locked_app + path, headers={"accept": "text/html"})
        assert page.status_code == 200, path
        assert '<script src="/auth.js"></script>' in page.text, path
        assert int(page.headers["content-length"]) == len(page.content)
    script = httpx.get(locked_app + "/auth.js")
    assert script.status_code == 200 and "sessionStorage" in script.text and "Authorization" in script.text
    assert READ not in script.text
    # a query is data, whatever the Accept header says
    assert httpx.get(locked_app + "/sparql", params={"query": "ASK {}"}, headers={"accept": "text/html"}).status_code == 401


@pytest.mark.server
def test_without_a_read_token_pages_are_served_unchanged(open_app: str) -> None:
    assert "/auth.js" not in httpx.get(open_app + "/", headers={"accept": "text/html"}).text


# --- the server's own limits --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(store: EmbeddedStore) -> Iterator[str]:
    """The app under the uvicorn configuration ``bepgraph serve`` uses."""
    import threading

    import uvicorn

    from bepgraph.http.server import server_config

    port = free_port()
    server = uvicorn.Server(server_config(create_app(Settings(load_on_start=False), store=store), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 30
    while not server.started and time.monotonic() < until:
        time.sleep(0.02)  # poll until uvicorn listens, bounded by the deadline
    yield base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.server
@pytest.mark.parametrize("size", [100_000, 5_000_000])
def test_a_request_head_past_64_kib_is_refused_431(limited: str, size: int) -> None:
    answer = _raw(limited, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert b"HeadersTooLarge" in answer


@pytest.mark.server
def test_ordinary_requests_pass_the_server_limits(limited: str) -> None:
    with httpx.Client(base_url=limited) as client:
        for _ in range(3):  # on one keep-alive connection
            assert client.get("/healthz", headers={"x-some": "a" * 8000}).status_code == 200
        body = b"ASK {} # " + b"x" * 200_000  # a body larger than the head limit is no head
        assert client.post("/sparql", content=body, headers={"content-type": "application/sparql-query"}).status_code == 200
