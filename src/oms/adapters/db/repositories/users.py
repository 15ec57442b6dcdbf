"""Portal users (``oms.services.users.UserRepository``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import users
from oms.domain.users import Role, User

__all__ = ["SqlUserRepository"]

_u = users.c


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        tenant_id=row.tenant_id,
        password_hash=row.password_hash,
        created_at=row.created_at,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        disabled_at=row.disabled_at,
    )


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, user: User) -> bool:
        return insert_if_absent(
            self._conn,
            users,
            {
                "id": user.id,
                "email": user.email,
                "password_hash": user.password_hash,
                "role": user.role.value,
                "tenant_id": user.tenant_id,
                "failed_logins": user.failed_logins,
                "locked_until": user.locked_until,
                "created_at": user.created_at,
                "disabled_at": user.disabled_at,
            },
        )

    def get(self, user_id: UUID) -> User | None:
        row = self._conn.execute(select(users).where(_u.id == user_id)).first()
        return None if row is None else _user(row)

    def by_email(self, email: str, *, for_update: bool = False) -> User | None:
        query = select(users).where(_u.email == email)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else _user(row)

    def by_ids(self, ids: Iterable[UUID]) -> dict[UUID, User]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self._conn.execute(select(users).where(_u.id.in_(wanted)))
        return {row.id: _user(row) for row in rows}

    def all(self) -> list[User]:
        rows = self._conn.execute(select(users).order_by(_u.created_at, _u.id))
        return [_user(row) for row in rows]

    def record_login(self, user: User) -> None:
        self._conn.execute(
            update(users)
            .where(_u.id == user.id)
            .values(failed_logins=user.failed_logins, locked_until=user.locked_until)
        )
