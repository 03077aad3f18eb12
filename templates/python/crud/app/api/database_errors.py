"""Database outages as 503 with ``Retry-After``, never a bare 500.

The database unreachable (connection refused, DNS, timeouts), restarting
("the database system is starting up"), out of connections, or the pool
exhausted (no connection within DB_POOL_TIMEOUT): the request may well succeed
in a moment, so the answer says so. What failed, and where, goes to the log.
"""

import logging

import asyncpg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from app.api.errors import error_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionRefusedError, socket.gaierror, ...: asyncpg raises them as they are
    TimeoutError,
    sa_exc.TimeoutError,  # the pool had no connection within DB_POOL_TIMEOUT
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


# SQLSTATE classes and codes of a server that cannot take us now: connection exceptions (08),
# shutting down or starting up (57P01-57P03), too many connections (53300).
OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
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


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or cannot take us now."""
    for e in _chain(exc):
        if isinstance(e, OUTAGES):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        sqlstate = getattr(e, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(OUTAGE_SQLSTATES):
            return True
    return False


def database_unavailable() -> JSONResponse:
    return error_response(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "database_unavailable",
        "The database is unavailable, try again later.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_outage(exc):
        logger.exception("Database error during %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Internal Server Error")
    logger.warning(
        "Database unavailable during %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc
    )
    return database_unavailable()


def register_database_error_handlers(app: FastAPI) -> None:
    for kind in (*OUTAGES, sa_exc.DBAPIError):
        app.add_exception_handler(kind, _database_error)
