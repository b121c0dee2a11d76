"""Log in (bearer tokens), log out, and who am I."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, status
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
                                  429: {'description': 'too many attempts or failed logins (Retry-After)'}})
def login(body: LoginRequest, request: Request, db: DbDep, limiter: LimiterDep) -> TokenResponse:
    """Exchange a username and password for a bearer token (valid for 12 hours).

    Five wrong passwords for a username from one address lock it for that address (429 with
    Retry-After); unknown usernames answer exactly like existing ones."""
    signed_in = users.sign_in(db, limiter, body.username, body.password, client=client_address(request))
    return TokenResponse(access_token=signed_in.token)


@router.post('/logout', status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, db: DbDep, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """Revoke the token this request was made with."""
    users.revoke_token(db, token, actor=user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get('/me')
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)
