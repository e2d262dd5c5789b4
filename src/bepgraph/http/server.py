"""The uvicorn server as ``bepgraph serve`` runs it: limits for oversized and slow clients.

Why a protocol of our own: uvicorn bounds a request's head only with its
h11 parser (``h11_max_incomplete_event_size``); with httptools, which it
picks when installed (and the project installs it: it is faster), a client
could send megabytes of headers and the server would hold them all. The
subclass counts the bytes of a head as they arrive and answers 431 once
they pass :data:`MAX_HEAD_BYTES`.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "BoundedHeadProtocol", "server_config"]

MAX_HEAD_BYTES = 64 * 1024  # request line and headers; browsers' cookies fit many times over
_LINGER_S = 2.0
_BODY = b'{"error": "HeadersTooLarge", "detail": "the request line and headers pass %d bytes"}' % MAX_HEAD_BYTES
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
              b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(_BODY)) + _BODY


class BoundedHeadProtocol(HttpToolsProtocol):
    """httptools' protocol, refusing a request whose head passes :data:`MAX_HEAD_BYTES`.

    Two counts: the bytes received while a head is incomplete (a head still
    unfinished after that many bytes is refused without waiting for the
    rest), and the exact bytes of the request line and headers once parsed
    (a head finished in the same chunk that passed the limit). A refused
    request never reaches the app.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._received = 0  # bytes since the head began, while it is incomplete
        self._parsed = 0  # bytes of the head the parser handed over
        self._refused = False
        self._draining = False

    def on_message_begin(self) -> None:
        self._in_head, self._received, self._parsed, self._refused = True, 0, 0, False
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._parsed += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._parsed > MAX_HEAD_BYTES:
            self._refused = True
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return  # what the client still sends after the refusal is dropped, not held
        if self._in_head:
            self._received += len(data)
        super().data_received(data)
        unfinished = self._in_head and self._received > MAX_HEAD_BYTES
        if (self._refused or unfinished) and not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            # close a little later: closing with unread bytes would reset the connection, and the
            # client, still sending, might lose the answer
            self._draining = True
            self.loop.call_later(_LINGER_S, self.transport.close)


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration with the service's limits: the head size (either parser), idle keep-alive
    connections closed after 5 s, at most 256 connections, and 10 s to finish requests on shutdown."""
    return uvicorn.Config(app, host=host, port=port, log_level="warning", http=BoundedHeadProtocol,
                          h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_keep_alive=5,
                          limit_concurrency=256, timeout_graceful_shutdown=10)
