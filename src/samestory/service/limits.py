"""Request bodies the service accepts: at most ``limit`` bytes, declared or streamed (else
413), and each part in time (else 408). Pure ASGI middleware, so a body is never buffered
past the limit and a client that stops sending does not hold a worker."""
from __future__ import annotations

import json

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Seconds a request body may pause between parts (a client that stops sending gets 408).
DEFAULT_BODY_TIMEOUT = 30.0

async def _answer(send: Send, status: int, detail: str, close: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:   # the server drops the connection after this answer
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _BodyDeadline:
    """``receive`` with a deadline while the request body is incomplete. When the next part does
    not come in time: 408 with ``Connection: close`` (unless a response has started), the app is
    told the client left, and whatever it sends after is dropped."""

    def __init__(self, receive: Receive, send: Send, timeout: float):
        self._receive, self._send, self.timeout = receive, send, timeout
        self.body_done = self.started = self.answered = False

    async def receive(self) -> Message:
        if self.answered:
            return {"type": "http.disconnect"}
        if self.body_done:
            return await self._receive()
        try:
            with anyio.fail_after(self.timeout):
                message = await self._receive()
        except TimeoutError:
            self.answered = True
            if not self.started:
                await _answer(self._send, 408, f"the request body did not arrive within {self.timeout:g} s",
                              close=True)
            return {"type": "http.disconnect"}
        if message["type"] != "http.request" or not message.get("more_body"):
            self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if not self.answered:
            self.started = self.started or message["type"] == "http.response.start"
            await self._send(message)


class BodyLimit:
    """Pure ASGI middleware: 413 for bodies over the limit, declared or streamed; 408 for a body
    whose next part does not arrive within ``timeout`` seconds (``_BodyDeadline``)."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = DEFAULT_BODY_TIMEOUT):
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline = _BodyDeadline(receive, send, self.timeout)
        receive, send = deadline.receive, deadline.send
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(send)
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # Streamed (chunked) without a length: read it here, at most the limit, then replay it.
            chunks, seen = [], 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    return await self._reject(send)
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return whole
                return await receive()

            return await self.app(scope, replay, send)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await _answer(send, 413, f"request body over the {self.limit:,}-byte limit")


class _TooLarge(Exception):
    pass


