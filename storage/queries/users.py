"""Questions about users and their API tokens."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from storage.tables import ApiToken, Role, User


def user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def user_for_update(session: Session, user_id: int) -> User | None:
    """The user row, locked for a read-modify-write (PostgreSQL; SQLite is locked by BEGIN IMMEDIATE)."""
    return session.get(User, user_id, with_for_update=True)


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def count_active_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN, col(User.active).is_(True))
    return session.exec(query).one()


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def live_tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked).is_(False))
    return list(session.exec(query))
