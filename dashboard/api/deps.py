"""Shared route dependencies: the process objects on `app.state`, the current user, role checks.

main.py sets `app.state.db` (Database), `app.state.settings` (Settings) and `app.state.secrets`
(SecretBox). Optional: `app.state.erpnext_transport` (an httpx transport for ERPNext calls, tests
point it at the sandbox app). The rate limiters are `app.state.process`'s (shared with the UI);
an app without a process keeps its own in `app.state.login_limiter` / `provision_limiter`
(see dashboard/state.py).
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dashboard import state
from engine.rate_limits import LoginLimiter, ProvisionLimiter, seconds_text
from engine.security import SecretBox
from engine.services import users
from engine.settings import Settings
from engine.validation import MAX_ID
from storage.db import Database
from storage.tables import Role, User

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
_bearer = HTTPBearer(auto_error=False, description='a token from POST /api/v1/auth/token')


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_secrets(request: Request) -> SecretBox:
    return request.app.state.secrets


def get_erpnext_transport(request: Request) -> httpx.AsyncBaseTransport | None:
    return state.erpnext_transport(request.app)


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SecretsDep = Annotated[SecretBox, Depends(get_secrets)]
TransportDep = Annotated[httpx.AsyncBaseTransport | None, Depends(get_erpnext_transport)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else 'unknown'


def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The raw token of `Authorization: Bearer …`, or 401."""
    if credentials is None or not credentials.credentials:
        raise _unauthenticated('not authenticated: send Authorization: Bearer <token>')
    return credentials.credentials


def current_user(db: DbDep, token: Annotated[str, Depends(bearer_token)]) -> User:
    """The user behind the bearer token, or 401 (unknown, revoked or expired token, inactive user)."""
    user = users.user_for_token(db, token)
    if user is None:
        raise _unauthenticated('invalid or expired token: log in again')
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role | str):
    """A dependency that lets only users with one of `roles` through (403 otherwise)."""
    allowed = frozenset(Role(role) for role in roles)
    names = ' or '.join(sorted(allowed))

    def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f'this needs the {names} role')
        return user

    return dependency


AnyUser = CurrentUser
SupportPlus = Annotated[User, Depends(require_roles(Role.SUPPORT, Role.ADMIN))]
ManagerPlus = Annotated[User, Depends(require_roles(Role.MANAGER, Role.ADMIN))]
AdminOnly = Annotated[User, Depends(require_roles(Role.ADMIN))]


async def get_login_limiter(request: Request) -> LoginLimiter:
    # async: runs on the event loop, so two first requests cannot both create one
    return state.limiter(request.app, 'login_limiter', LoginLimiter)


async def get_provision_limiter(request: Request) -> ProvisionLimiter:
    return state.limiter(request.app, 'provision_limiter', ProvisionLimiter)


LimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]


def provision_rate_limit(user: Annotated[User, Depends(require_roles(Role.SUPPORT, Role.ADMIN))],
                         limiter: Annotated[ProvisionLimiter, Depends(get_provision_limiter)]) -> User:
    """Support+ only, and at most PROVISION_PER_USER provision requests per user (429 + Retry-After)."""
    wait = limiter.hit(user.username)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f'too many provision requests: try again in {seconds_text(wait)}',
                            headers={'Retry-After': str(wait)})
    return user


ProvisioningUser = Annotated[User, Depends(provision_rate_limit)]


def _unauthenticated(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={'WWW-Authenticate': 'Bearer'})
