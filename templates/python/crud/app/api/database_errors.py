"""Database failures as 503/504 with ``Retry-After``; everything else stays a 500.

* the database too slow: a statement past ``statement_timeout`` or ``lock_timeout`` (the server
  cancelled it), or the client's own deadline (connect, ``command_timeout``, no pooled connection
  within ``DB_POOL_TIMEOUT``) -> 504 ``database_timeout``;
* the database unreachable (connection refused, DNS), restarting, or out of connections
  -> 503 ``database_unavailable``.

An ``OSError`` or ``TimeoutError`` counts only when the database layer raised it (SQLAlchemy or
asyncpg code is on its traceback): ``open('/nonexistent')`` in a route is a bug, a 500 that
alerting sees, not an outage. What failed, and where, goes to the log with the request id.
"""

import logging

import asyncpg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from app.api.errors import error_response, internal_error
from app.core.database import DatabaseTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# Raised by the database layer only.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,  # DBAPI: the database's operation failed (SQLite: cannot open the file)
    sa_exc.InterfaceError,  # the driver's connection is unusable (asyncpg: "connection is closed")
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)
_TIMEOUT: tuple[type[BaseException], ...] = (
    DatabaseTimeoutError,  # a session's work past DB_SESSION_TIMEOUT
    sa_exc.TimeoutError,  # the pool had no connection within DB_POOL_TIMEOUT
    asyncpg.QueryCanceledError,  # statement_timeout (57014)
    asyncpg.LockNotAvailableError,  # lock_timeout (55P03)
)
# Raised by anything: they count only with the database layer on their traceback.
_GENERIC: tuple[type[BaseException], ...] = (OSError, TimeoutError)

# SQLSTATEs of a server that cannot take us now: connection exceptions (08), shutting down or
# starting up (57P01-57P03), too many connections (53300); and of a timeout (57014, 55P03).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_TIMEOUT_SQLSTATES = ("57014", "55P03")
_DATABASE_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")
MAX_CHAIN = 10


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc``, the driver's error SQLAlchemy wraps (``.orig``), and what caused them."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < MAX_CHAIN:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        orig = e.orig if isinstance(e, sa_exc.DBAPIError) else None
        todo += [e.__cause__, e.__context__, orig if isinstance(orig, BaseException) else None]
    return seen


def _raised_by_database(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES):
            return True
        tb = tb.tb_next
    return False


def classify(exc: BaseException) -> str | None:
    """``"timeout"``, ``"unavailable"``, or None when ``exc`` is not a database outage."""
    from_database = isinstance(exc, (sa_exc.DBAPIError, *_UNAVAILABLE, *_TIMEOUT)) or _raised_by_database(exc)
    if not from_database:
        return None
    for e in _chain(exc):
        sqlstate = getattr(e, "sqlstate", None)
        if isinstance(e, _TIMEOUT) or (isinstance(sqlstate, str) and sqlstate.startswith(_TIMEOUT_SQLSTATES)):
            return "timeout"
        if isinstance(e, TimeoutError):
            return "timeout"
    for e in _chain(exc):
        sqlstate = getattr(e, "sqlstate", None)
        if isinstance(e, (*_UNAVAILABLE, *_GENERIC)) or (
            isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        ):
            return "unavailable"
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return "unavailable"
    return None


def database_unavailable() -> JSONResponse:
    return error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "database_unavailable",
        "The database is unavailable, try again later.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def database_timeout() -> JSONResponse:
    return error_response(
        status.HTTP_504_GATEWAY_TIMEOUT,
        "database_timeout",
        "The database did not answer in time, try again later.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    kind = classify(exc)
    if kind is None:
        return await internal_error(request, exc)
    logger.warning("Database %s during %s %s: %s: %s", kind, request.method, request.url.path, type(exc).__name__, exc)
    return database_timeout() if kind == "timeout" else database_unavailable()


def register_database_error_handlers(app: FastAPI) -> None:
    for kind in (*_UNAVAILABLE, *_TIMEOUT, *_GENERIC, sa_exc.DBAPIError):
        app.add_exception_handler(kind, _database_error)
