"""The FastAPI application: assembles the domains' routers and renders errors."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from tutela import __version__
from tutela.access.router import router as access_router
from tutela.access.throttle import FailureThrottle
from tutela.context import Context
from tutela.errors import InvalidInput, TutelaError
from tutela.requests.opengdpr import router as opengdpr_router
from tutela.requests.router import router as requests_router
from tutela.subjects.router import router as subjects_router

__all__ = ["create_app", "create_app_from_settings"]

logger = logging.getLogger("tutela.api")
THREADS = 4

DESCRIPTION = """\
Tutela keeps the personal data of clients and prospects encrypted and discloses it only for a
declared purpose that the caller's roles are granted by the data protection policy.

Authenticate with `Authorization: Bearer <API key>`.
"""


def _error(request: Request, exc: TutelaError) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        loc = ["body", *exc.location.split(".")] if exc.location else ["body"]
        body = {"detail": [{"loc": loc, "msg": exc.message, "type": "policy"}]}
    else:
        body = {"detail": str(exc)}
    return JSONResponse(status_code=exc.http_status, content=body)


def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    # Never echo the statement: its parameters are ciphertext at best.
    logger.error(
        "database error: %s",
        type(getattr(exc, "orig", exc)).__name__
        + ": "
        + str(getattr(exc, "orig", exc)).splitlines()[0],
    )
    return JSONResponse(status_code=503, content={"detail": "database unavailable"})


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Few threads for blocking endpoints: each SQLite call releases the GIL, and dozens of
    # threads fighting to take it back cost more than they overlap.
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="Tutela", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    app.state.ctx = ctx
    app.state.throttle = FailureThrottle()
    app.add_exception_handler(TutelaError, _error)
    app.add_exception_handler(SQLAlchemyError, _database_error)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness, with the version of the policy in force."""
        return {"status": "ok", "policy_version": ctx.policy.version}

    app.include_router(subjects_router)
    app.include_router(access_router)
    app.include_router(requests_router)
    app.include_router(opengdpr_router)
    return app


def create_app_from_settings() -> FastAPI:
    """The app for the environment's settings: the factory uvicorn workers import."""
    from tutela.context import build_context
    from tutela.settings import get_settings

    return create_app(build_context(get_settings()))
