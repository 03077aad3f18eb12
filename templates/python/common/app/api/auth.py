"""Who is calling: every app route needs ``Authorization: Bearer <token>``.

The token is one ULM issued; ULM says whose it is (``GET {ULM_BASE_URL}{ULM_AUTH_PATH}``,
200 with the user or 401), and the answer is cached for ``AUTH_CACHE_TTL`` seconds.
No token, or one ULM rejects -> 401. ULM down -> 503 (``app.api.errors``).
``/health/*`` does not use this.
"""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.errors import unauthorized
from app.clients.ulm import ULMUser, get_ulm_client

bearer = HTTPBearer(auto_error=False, description="An access token issued by ULM")


async def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ULMUser:
    """FastAPI dependency: the calling user, or 401.

    Every request runs it, so it asks for the process-wide ULM client itself rather than through
    a sub-dependency (each one FastAPI solves costs CPU on every request); tests put their client
    in its place (``tests/conftest.py``).
    """
    if credentials is None or not credentials.credentials:
        raise unauthorized("not_authenticated", "This route needs an Authorization: Bearer <token> header.")
    ulm = await get_ulm_client()
    return await ulm.authenticate(credentials.credentials)


CurrentUser = Annotated[ULMUser, Depends(current_user)]
