"""The bare pages `bench_console.py` compares the console with: a FastAPI route per console
page that runs the very SQL statements that page ran (recorded by SQLite's trace, values
included) on a copy of the same database, in a transaction it rolls back, and answers a
minimal HTML page. No session, template, language or policy: what is left of a page once
Tutela is taken away.

    python bench/bare_console_app.py DATABASE STATEMENTS PORT
"""

from __future__ import annotations

import pickle
import sqlite3
import sys
import threading

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PRAGMAS = (  # as tutela.db sets them on each connection
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
)


def create(database: str, statements: dict[str, list[str]]) -> FastAPI:
    app = FastAPI()
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:
            local.conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            for pragma in PRAGMAS:
                local.conn.execute(pragma)
        return local.conn

    @app.get("/bare/{name}")
    def replay(name: str) -> HTMLResponse:
        conn = connection()
        rows = 0
        conn.execute("BEGIN")
        try:
            for sql in statements[name]:
                rows += len(conn.execute(sql).fetchall())
        finally:
            conn.execute("ROLLBACK")
        return HTMLResponse(f"<!doctype html><title>{name}</title><p>{rows} rows</p>")

    return app


if __name__ == "__main__":
    database, recorded, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(recorded, "rb") as handle:
        pages = pickle.load(handle)
    uvicorn.run(create(database, pages), host="127.0.0.1", port=port, log_level="warning")
