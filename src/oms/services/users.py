"""Portal users: creating and listing them, and signing in with the lockout rule
(``oms.domain.users``).

Two ports: ``UserRepository`` (``oms.adapters.db.repositories.users``, faked by
``oms.adapters.memory.users``) and ``PasswordHasher`` (argon2 in
``oms.adapters.passwords``). Signing in answers a user or ``None``, the same ``None`` for
an unknown email, a wrong password, a locked or a disabled account, and it spends a
password check on each of them so the time taken tells nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from oms.domain.errors import AlreadyExists, FieldError, InvalidRequest
from oms.domain.ids import new_id
from oms.domain.users import Role, User, check_new_user, normalise_email
from oms.services.common import utcnow
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "PasswordHasher",
    "UserRepository",
    "active_user",
    "create_user",
    "list_users",
    "sign_in",
]


class UserRepository(Protocol):
    def add(self, user: User) -> bool:
        """Store a new user; False when its email is taken."""
        ...

    def get(self, user_id: UUID) -> User | None: ...

    def by_email(self, email: str, *, for_update: bool = False) -> User | None:
        """The user with this (normalised) email."""
        ...

    def by_ids(self, ids: Iterable[UUID]) -> dict[UUID, User]: ...

    def all(self) -> list[User]:
        """Every user, oldest first."""
        ...

    def record_login(self, user: User) -> None:
        """Store the user's failed-login count and lock."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one ``password_hash`` was made from."""
        ...


def create_user(
    *,
    uow_factory: UnitOfWorkFactory,
    hasher: PasswordHasher,
    email: str,
    role: Role,
    tenant_id: UUID | None,
    password: str,
    at: datetime | None = None,
) -> User:
    """Create a portal user (its password hashed); a merchant user's tenant must exist and
    the email must be free."""
    check_new_user(email=email, role=role, tenant_id=tenant_id, password=password)
    user = User(
        id=new_id(),
        email=normalise_email(email),
        role=role,
        tenant_id=tenant_id,
        password_hash=hasher.hash(password),
        created_at=at or utcnow(),
    )
    with uow_factory() as uow:
        if tenant_id is not None and uow.tenants.get(tenant_id) is None:
            raise InvalidRequest(f"No tenant {tenant_id}", [FieldError("tenant", "no such tenant")])
        if not uow.users.add(user):
            raise AlreadyExists(f"A user with the email {user.email} exists already")
        uow.commit()
    return user


def list_users(*, uow_factory: UnitOfWorkFactory) -> list[User]:
    """Every portal user, oldest first."""
    with uow_factory(readonly=True) as uow:
        return uow.users.all()


def sign_in(
    *,
    uow_factory: UnitOfWorkFactory,
    hasher: PasswordHasher,
    email: str,
    password: str,
    now: datetime,
    decoy_hash: str,
) -> User | None:
    """The user ``email`` and ``password`` name, or None (whatever the reason). A wrong
    password counts towards the lockout; a locked account is refused without a look at the
    password. ``decoy_hash``: a hash checked when there is no user, to take as long."""
    with uow_factory() as uow:
        user = uow.users.by_email(normalise_email(email), for_update=True)
        if user is None or user.disabled_at is not None or user.locked_at(now):
            hasher.verify(decoy_hash, password)
            return None
        if not hasher.verify(user.password_hash, password):
            uow.users.record_login(user.after_failed_login(now))
            uow.commit()
            return None
        signed_in = user.after_login()
        if signed_in != user:
            uow.users.record_login(signed_in)
            uow.commit()
        return signed_in


def active_user(*, uow_factory: UnitOfWorkFactory, user_id: UUID) -> User | None:
    """The user of a session, while it exists and is not disabled."""
    with uow_factory(readonly=True) as uow:
        user = uow.users.get(user_id)
    return None if user is None or user.disabled_at is not None else user
