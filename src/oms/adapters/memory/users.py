"""Portal users in memory: the ``UserRepository`` the use case tests run on, and a unit of
work over it (with just enough of the tenants to say which exist)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self
from uuid import UUID

from oms.domain.tenancy import Tenant
from oms.domain.users import User

__all__ = ["MemoryUserStore", "MemoryUserUnitOfWork", "PlainHasher"]


@dataclass
class MemoryUserStore:
    """What the in-memory units of work share: users by id and the tenants that exist."""

    users: dict[UUID, User] = field(default_factory=dict)
    tenants: dict[UUID, Tenant] = field(default_factory=dict)


class _Users:
    def __init__(self, store: MemoryUserStore) -> None:
        self._store = store

    def add(self, user: User) -> bool:
        if any(u.email == user.email for u in self._store.users.values()):
            return False
        self._store.users[user.id] = user
        return True

    def get(self, user_id: UUID) -> User | None:
        return self._store.users.get(user_id)

    def by_email(self, email: str, *, for_update: bool = False) -> User | None:
        return next((u for u in self._store.users.values() if u.email == email), None)

    def by_ids(self, ids: Iterable[UUID]) -> dict[UUID, User]:
        return {i: self._store.users[i] for i in set(ids) if i in self._store.users}

    def all(self) -> list[User]:
        return sorted(self._store.users.values(), key=lambda u: (u.created_at, u.id))

    def record_login(self, user: User) -> None:
        self._store.users[user.id] = user


class _Tenants:
    def __init__(self, store: MemoryUserStore) -> None:
        self._store = store

    def get(self, tenant_id: UUID) -> Tenant | None:
        return self._store.tenants.get(tenant_id)


class MemoryUserUnitOfWork:
    """A unit of work over a ``MemoryUserStore``: changes are kept only when committed."""

    def __init__(self, store: MemoryUserStore) -> None:
        self._store = store
        self._work: MemoryUserStore | None = None

    def __call__(self, *, readonly: bool = False) -> Self:
        return self

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self._store)
        self.users = _Users(self._work)
        self.tenants = _Tenants(self._work)
        return self

    def __exit__(self, *exc: object) -> None:
        self._work = None

    def commit(self) -> None:
        assert self._work is not None
        self._store.__dict__.update(copy.deepcopy(self._work).__dict__)

    def rollback(self) -> None:
        self._work = copy.deepcopy(self._store)


class PlainHasher:
    """A ``PasswordHasher`` for use case tests: marks the password instead of hashing it."""

    def hash(self, password: str) -> str:
        return "plain$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain$" + password
