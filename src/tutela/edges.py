"""What every HTTP request meets before the application reads it.

- Its body is refused past a size limit, before any of it is parsed: by its declared length
  at once, or by counting what arrives.
- On an endpoint that needs a key, the key is checked before the body is read, so a caller
  without a valid key costs a lookup, not a parse, and counts towards the throttle. A valid
  key is never throttled: only failures are.
- A path or query holding a NUL character is refused (422); so is a JSON body holding one,
  or a lone surrogate (`StrictJsonRoute`): the database cannot store either.
- Over TLS, every answer carries HSTS.
- An unexpected error answers 500 and is logged by type and place only: its message may
  hold what the request sent.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio.to_thread
import orjson
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from tutela.access.gate import Actor
from tutela.access.service import authenticate
from tutela.access.throttle import FailureThrottle
from tutela.context import Context
from tutela.wire import json_loads

__all__ = ["ACTOR", "Edges", "StrictJsonRoute", "guarded_operations"]

logger = logging.getLogger("tutela.api")

ACTOR = "tutela_actor"  # where the authenticated caller waits in the request's state
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def guarded_operations(app: FastAPI) -> list[tuple[str, re.Pattern]]:
    """The operations that need a key (method, path pattern), as the OpenAPI document
    declares them: the contract callers read is the one enforced."""
    found = []
    for path, item in app.openapi().get("paths", {}).items():
        for method, operation in item.items():
            if operation.get("security"):
                found.append((method.upper(), compile_path(path)[0]))
    return found


class Edges:
    def __init__(self, app: Callable, *, fastapi: FastAPI, max_body: int) -> None:
        self.app = app
        self._fastapi = fastapi
        self._max_body = max_body
        self._guarded: list[tuple[str, re.Pattern]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def answer(status: int, body: dict, headers: tuple = ()) -> None:
            nonlocal started
            started = True
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        *self._hsts(scope),
                        *((k.encode(), v.encode()) for k, v in headers),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": orjson.dumps(body)})

        where = _nul_in_url(scope)
        if where:
            problem = {"loc": where, "msg": "NUL characters are not accepted", "type": "string_nul"}
            await answer(422, {"detail": [problem]})
            return
        length = _declared_length(scope)
        if length is not None and length > self._max_body:
            await answer(413, {"detail": f"request body over {self._max_body} bytes"})
            return
        if self._is_guarded(scope):
            refused = await self._authenticate(scope)
            if refused is not None:
                await answer(*refused)
                return
        received, refused = 0, False

        async def counted() -> dict:
            """The body as it arrives; past the limit, the 413 is sent and the application
            hears that the client left, so it stops reading."""
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_body:
                    if not started:
                        refused = True
                        await answer(413, {"detail": f"request body over {self._max_body} bytes"})
                    return {"type": "http.disconnect"}
            return message

        async def sent(message: dict) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out instead
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), *self._hsts(scope)]}
            await send(message)

        try:
            await self.app(scope, counted, sent)
        except Exception as exc:  # the last line: log the place, answer 500
            _log_unexpected(exc)
            if not started:
                await answer(500, {"detail": "internal error; the server log names its place"})

    @staticmethod
    def _hsts(scope: Scope) -> tuple:
        return (HSTS,) if scope.get("scheme") == "https" else ()

    def _is_guarded(self, scope: Scope) -> bool:
        if self._guarded is None:
            self._guarded = guarded_operations(self._fastapi)
        path, root = scope["path"], scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path
        method = scope["method"]
        return any(m == method and pattern.match(path) for m, pattern in self._guarded)

    async def _authenticate(self, scope: Scope) -> tuple | None:
        """Put the caller in the request's state; or the answer that refuses it."""
        ctx: Context = self._fastapi.state.ctx
        throttle: FailureThrottle = self._fastapi.state.throttle
        key = _bearer_key(scope)
        actor = None
        if key:
            if ctx.engine.dialect.name == "sqlite":  # a short read: on the loop
                actor = _lookup(ctx, key)
            else:
                actor = await anyio.to_thread.run_sync(_lookup, ctx, key)
        if actor is not None:
            scope.setdefault("state", {})[ACTOR] = actor
            return None
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = throttle.retry_after(client)
        if wait:
            detail = "too many failed authentications; try again later"
            return 429, {"detail": detail}, (("retry-after", str(wait)),)
        throttle.failed(client)
        detail = "a valid API key is required (Authorization: Bearer KEY)"
        return 401, {"detail": detail}, (("www-authenticate", "Bearer"),)


def _lookup(ctx: Context, key: str) -> Actor | None:
    return authenticate(engine=ctx.engine, key=key)


def _bearer_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return key.strip() or None
    return None


def _nul_in_url(scope: Scope) -> list[str] | None:
    """Where the path or the query string holds a NUL character, once decoded."""
    if "\x00" in scope["path"]:
        return ["path"]
    query = scope.get("query_string", b"")
    if b"\x00" not in query and b"%00" not in query:  # the only ways to write one
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if b"\x00" in unquote_to_bytes(value.replace(b"+", b" ")) or b"\x00" in unquote_to_bytes(
            name
        ):
            return ["query", unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", "")]
    return None


class _StrictRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by `wire.json_loads`: a lone surrogate or a NUL is a
    422 naming where, like any other invalid JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _log_unexpected(exc: BaseException) -> None:
    """The error's type and the frames it went through, never its message nor locals."""
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    place = " < ".join(
        f"{f.name} ({f.filename.rsplit('/', 1)[-1]}:{f.lineno})" for f in frames[::-1]
    )
    logger.error("unexpected %s in %s", type(exc).__name__, place)
