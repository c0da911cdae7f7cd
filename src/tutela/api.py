"""The FastAPI application: assembles the domains' routers and renders errors."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from swagger_ui_bundle import swagger_ui_path
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tutela import __version__
from tutela.access.router import router as access_router
from tutela.access.throttle import FailureThrottle
from tutela.breaches.router import router as breaches_router
from tutela.context import Context
from tutela.db import describe_error
from tutela.edges import Edges
from tutela.errors import InvalidInput, TutelaError
from tutela.register.router import public_router as notices_router
from tutela.register.router import router as register_router
from tutela.requests.opengdpr import router as opengdpr_router
from tutela.requests.router import router as requests_router
from tutela.subjects.router import router as subjects_router
from tutela.web.console_audit import router as console_audit_router
from tutela.web.console_breaches import router as console_breaches_router
from tutela.web.console_holds import router as console_holds_router
from tutela.web.console_people import router as console_people_router
from tutela.web.console_policy import router as console_policy_router
from tutela.web.console_policy_changes import router as console_policy_changes_router
from tutela.web.console_principals import router as console_principals_router
from tutela.web.console_register import router as console_register_router
from tutela.web.console_request_files import router as console_request_files_router
from tutela.web.console_request_steps import router as console_request_steps_router
from tutela.web.console_requests import router as console_requests_router
from tutela.web.forecast_chart import ForecastCache
from tutela.web.pages import router as console_router
from tutela.web.portal import router as portal_router
from tutela.web.portal_choices import router as choices_router

__all__ = ["create_app", "create_app_from_settings"]

logger = logging.getLogger("tutela.api")
THREADS = 4
# The documentation page loads nothing from another host, and the browser holds it to that.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'"
)

DESCRIPTION = """\
Tutela keeps the personal data of clients and prospects encrypted and discloses it only for a
declared purpose that the caller's roles are granted by the data protection policy.

Authenticate with `Authorization: Bearer <API key>`.
"""


def _error(request: Request, exc: TutelaError) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        loc = exc.location.split(".") if exc.location else []
        if loc[:1] not in (["query"], ["path"]):  # where else input comes from: the body
            loc = ["body", *loc]
        body = {"detail": [{"loc": loc, "msg": exc.message, "type": "policy"}]}
    else:
        body = {"detail": str(exc)}
    return JSONResponse(status_code=exc.http_status, content=body)


def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Each error names the field and the rule broken, never the value sent: it may be
    personal, and rendering it has failed before (bytes, surrogates)."""
    detail = [
        {"loc": list(e.get("loc", ())), "msg": _message(e), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _message(error: dict) -> str:
    """The rule broken. A JSON error also says where the parser stopped (its message names
    a line and a column, or a field, never what was there)."""
    message = error.get("msg", "invalid")
    if error.get("type") == "json_invalid" and (ctx := error.get("ctx")):
        return f"{message}: {ctx.get('error')}"
    return message


def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    # Never the statement nor the driver's message: they may quote what was sent.
    logger.error("database error: %s", describe_error(exc))
    return JSONResponse(status_code=503, content={"detail": "database unavailable"})


@asynccontextmanager
async def _lifespan(app: FastAPI):
    # Few threads for blocking endpoints: each SQLite call releases the GIL, and dozens of
    # threads fighting to take it back cost more than they overlap.
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    # What the process built to serve (the policy, the routes and models, the compiled
    # statements) lives as long as it does: kept out of the collector's full passes, which
    # otherwise walk all of it, for tens of milliseconds, every few thousand requests. No
    # collection first: freezing is a splice of lists, a collection would walk them all.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(
        title="Tutela",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,  # served below from the installed Swagger UI: nothing from another host
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.throttle = FailureThrottle()
    app.state.forecasts = ForecastCache(ctx.settings.forecast_cache_seconds)
    app.state.sign_in_throttle = FailureThrottle(limit=5)  # console passwords: 5 a minute
    # Portal requests: 5 a minute from one client, 3 an hour for one e-mail address.
    app.state.portal_throttles = (FailureThrottle(limit=5), FailureThrottle(limit=3, window=3600))
    app.add_exception_handler(TutelaError, _error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_middleware(Edges, fastapi=app, max_body=ctx.settings.max_body_bytes)
    if ctx.settings.trusted_proxies:  # outermost: the client address is known before the rest
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=ctx.settings.trusted_proxies)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness, with the version of the policy in force."""
        return {"status": "ok", "policy_version": ctx.policy.version}

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Tutela API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no call to the public validator
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    app.include_router(subjects_router)
    app.include_router(access_router)
    app.include_router(requests_router)
    app.include_router(opengdpr_router)
    app.include_router(register_router)
    app.include_router(breaches_router)
    app.include_router(notices_router)
    app.include_router(console_router)
    app.include_router(portal_router)
    app.include_router(choices_router)
    app.include_router(console_requests_router)
    app.include_router(console_request_steps_router)
    app.include_router(console_request_files_router)
    app.include_router(console_breaches_router)
    app.include_router(console_people_router)
    app.include_router(console_audit_router)
    app.include_router(console_register_router)
    app.include_router(console_principals_router)
    app.include_router(console_policy_router)
    app.include_router(console_policy_changes_router)
    app.include_router(console_holds_router)
    app.mount(
        "/console/static",
        StaticFiles(packages=[("tutela.web", "static")]),
        name="console-static",
    )
    return app


def create_app_from_settings() -> FastAPI:
    """The app for the environment's settings: the factory uvicorn workers import."""
    from tutela.context import build_context
    from tutela.settings import get_settings

    return create_app(build_context(get_settings()))
