"""Error answers: ``{"code": <stable code>, "detail": <human message>}``, never a bare 500.

* ``ApiError``              -> its status and code (routes raise it)
* ``ULMNotFoundError``      -> 404 ``user_not_found``
* ``ULMUnauthorizedError``  -> 401 ``invalid_token``
* ``ULMTimeoutError``       -> 504 ``ulm_timeout``, with ``Retry-After``
* ``ULMUnavailableError``   -> 503 ``ulm_unavailable``, with ``Retry-After``
* any other ``ULMError``    -> 502 ``ulm_bad_answer``
* request validation        -> 422 ``validation_error`` (``detail`` lists the problems)
* anything else             -> 500 ``internal_error``, logged with its traceback and the
                               request id (a crud app adds its database outages:
                               ``app.api.database_errors``)

What went wrong in detail (hosts, ports, paths, other users' ids) goes to the
log; the answer only says what the caller can act on.
"""

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.clients.ulm import (
    ULMError,
    ULMNotFoundError,
    ULMTimeoutError,
    ULMUnauthorizedError,
    ULMUnavailableError,
    retry_after_seconds,
)
from app.core.logging import request_id
from app.core.request_id import HEADER as REQUEST_ID_HEADER

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Raise from a route to answer ``status_code`` with ``{"code": code, "detail": detail}``."""

    def __init__(self, status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status_code: int, code: str, detail: object, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"code": code, "detail": detail}, headers=headers)


def unauthorized(code: str, detail: str) -> ApiError:
    return ApiError(status.HTTP_401_UNAUTHORIZED, code, detail, {"WWW-Authenticate": "Bearer"})


def _where(request: Request) -> str:
    return f"{request.method} {request.url.path}"


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: 500, logged with its traceback. This handler runs outside the request id middleware,
    so it adds the ``X-Request-ID`` header itself."""
    logger.exception("Unhandled error during %s", _where(request), exc_info=exc)
    rid = request_id.get()
    headers = {REQUEST_ID_HEADER: rid} if rid else None
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Internal Server Error", headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        return await internal_error(request, exc)
    return error_response(exc.status_code, exc.code, exc.detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # registered for StarletteHTTPException only
        return await internal_error(request, exc)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    return error_response(exc.status_code, code, exc.detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        return await internal_error(request, exc)
    problems = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return error_response(422, "validation_error", jsonable_encoder(problems))


async def _ulm_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ULMError):  # registered for ULMError only
        return await internal_error(request, exc)
    if isinstance(exc, ULMNotFoundError):
        return error_response(status.HTTP_404_NOT_FOUND, "user_not_found", str(exc))
    if isinstance(exc, ULMUnauthorizedError):
        return error_response(
            status.HTTP_401_UNAUTHORIZED,
            "invalid_token",
            "The access token was not accepted.",
            {"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, ULMUnavailableError):
        logger.warning("ULM unavailable during %s: %s", _where(request), exc)
        timeout = isinstance(exc, ULMTimeoutError)
        return error_response(
            status.HTTP_504_GATEWAY_TIMEOUT if timeout else status.HTTP_503_SERVICE_UNAVAILABLE,
            "ulm_timeout" if timeout else "ulm_unavailable",
            "The user service (ULM) did not answer in time, try again later."
            if timeout
            else "The user service (ULM) is unavailable, try again later.",
            {"Retry-After": retry_after_seconds(exc.retry_after)},
        )
    logger.error("Unusable answer from ULM during %s: %s", _where(request), exc)
    return error_response(
        status.HTTP_502_BAD_GATEWAY, "ulm_bad_answer", "The user service (ULM) gave an unusable answer."
    )


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ULMError, _ulm_error)
    app.add_exception_handler(Exception, internal_error)
