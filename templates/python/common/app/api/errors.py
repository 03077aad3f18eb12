"""Turn ULM client errors into HTTP answers, so a ULM problem is never a 500.

* ``ULMNotFoundError``    -> 404, the detail names the user
* ``ULMUnavailableError`` -> 503, ULM is down, failing or timing out
* any other ``ULMError``  -> 502, ULM answered something we cannot use

Routes may catch these errors themselves to say more (see ``items.py``);
these handlers are the safety net for every route.
"""

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from app.clients.ulm import ULMError, ULMNotFoundError, ULMUnavailableError

logger = logging.getLogger(__name__)


async def _ulm_not_found(request: Request, exc: ULMNotFoundError) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})


async def _ulm_unavailable(request: Request, exc: ULMUnavailableError) -> JSONResponse:
    logger.warning("ULM unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": f"The user service (ULM) is unavailable, try again later: {exc}"},
    )


async def _ulm_error(request: Request, exc: ULMError) -> JSONResponse:
    logger.error("Unusable answer from ULM during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_502_BAD_GATEWAY,
        content={"detail": f"The user service (ULM) gave an unusable answer: {exc}"},
    )


def register_ulm_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ULMNotFoundError, _ulm_not_found)
    app.add_exception_handler(ULMUnavailableError, _ulm_unavailable)
    app.add_exception_handler(ULMError, _ulm_error)
