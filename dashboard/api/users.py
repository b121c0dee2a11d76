"""User management (admin only). Password hashes never leave the service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel

from dashboard.api.deps import AdminOnly, DbDep, IdPath, LimiterDep
from engine.services import users
from engine.validation import UserCreate, UserUpdate
from storage.tables import User

router = APIRouter(prefix='/users', tags=['users'])


class UserPublic(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    locked_until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(id=user.id, username=user.username, role=user.role, active=user.active,
                   locked_until=user.locked_until, created_at=user.created_at)


@router.get('')
def list_users(_: AdminOnly, db: DbDep) -> list[UserPublic]:
    return [UserPublic.of(user) for user in users.list_users(db)]


@router.post('', status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, admin: AdminOnly, db: DbDep) -> UserPublic:
    return UserPublic.of(users.create_user(db, body, actor=admin.username))


@router.patch('/{user_id}')
def update_user(user_id: IdPath, body: UserUpdate, admin: AdminOnly, db: DbDep, limiter: LimiterDep) -> UserPublic:
    """Change role, active flag and/or password; a new password or deactivation revokes the user's tokens,
    and a new password or re-activation lifts the user's sign-in locks."""
    return UserPublic.of(users.update_user(db, user_id, body, actor=admin.username, limiter=limiter))
