"""Log in (bearer tokens), log out, and who am I."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel

from dashboard.api.deps import CurrentUser, DbDep, LimiterDep, bearer_token, client_address
from dashboard.api.users import UserPublic
from engine.services import users
from engine.validation import LoginRequest

router = APIRouter(prefix='/auth', tags=['auth'])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal['bearer'] = 'bearer'


@router.post('/token', responses={401: {'description': 'wrong credentials'},
                                  429: {'description': 'too many attempts (see Retry-After)'}})
def login(body: LoginRequest, request: Request, db: DbDep, limiter: LimiterDep) -> TokenResponse:
    """Exchange a username and password for a bearer token (valid for 12 hours)."""
    client = client_address(request)
    wait = limiter.hit(body.username, client)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f'too many login attempts: try again in {wait} seconds',
                            headers={'Retry-After': str(wait)})
    user = users.authenticate(db, body.username, body.password, client=client)
    return TokenResponse(access_token=users.issue_token(db, user, name='login', client=client))


@router.post('/logout', status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, db: DbDep, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """Revoke the token this request was made with."""
    users.revoke_token(db, token, actor=user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get('/me')
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)
