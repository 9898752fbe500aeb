"""Deadlines for slow clients, in the HTTP protocol that ``advlab serve`` runs.

uvicorn closes a connection that is idle between requests (its keep-alive timeout), but not one
that sends a request's headers or body a byte at a time ("slow loris"): each such connection would
hold a socket and a buffer for as long as the client likes. Here a request's headers must arrive
within ``header_s`` of the connection opening (or of the previous response), and its body within
``body_s`` of the headers; otherwise the connection is closed, with a 408 when part of a request
arrived and no response has started (a connection that sent nothing, such as a browser's
preconnect, is closed silently, as browsers expect of an idle connection).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MESSAGE = b"The request arrived too slowly and was closed. Please try again."


def deadline_protocol(header_s: float, body_s: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the two deadlines, for ``uvicorn.run(http=...)``."""

    class DeadlineProtocol(_Deadlines):
        header_timeout, body_timeout = header_s, body_s

    return DeadlineProtocol


class _Deadlines(HttpToolsProtocol):
    header_timeout: float
    body_timeout: float
    _timer: asyncio.TimerHandle | None = None
    _begun = False  # some of the current request has arrived

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._begun = False
        if not self.transport.is_closing():
            self._arm(self.header_timeout)  # the next request on this keep-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        waiting = self.cycle is None or self.cycle.response_complete  # for a new request's headers
        if self._begun and (waiting or not self.cycle.response_started):  # a silent connection: just closed
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(MESSAGE), MESSAGE)
            )
        self.transport.close()
