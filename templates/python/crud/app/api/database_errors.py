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


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGES):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


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
    logger.warning("Database unavailable during %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return database_unavailable()


def register_database_error_handlers(app: FastAPI) -> None:
    for kind in (*OUTAGES, sa_exc.DBAPIError):
        app.add_exception_handler(kind, _database_error)
