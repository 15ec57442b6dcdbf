"""People who sign in to the operations portal (``/app``), their roles, and the lockout rule.

Four roles, two sides:

    operator-admin    the operator (a 3PL, or the merchant running its own OMS): every
                      tenant, every action
    operator-staff    the operator's warehouse people: every tenant, every order action
    merchant-admin    one tenant's people: that tenant only, every order action
    merchant-viewer   one tenant's people: that tenant only, reading only

A merchant user belongs to exactly one tenant; an operator user to none (it picks one, or
looks at all of them where a list makes sense).

Lockout: ``MAX_FAILED_LOGINS`` wrong passwords in a row lock the account for
``LOCKOUT``; the count starts again after a right password or when a lock runs out. The
portal answers a locked account, an unknown email and a wrong password the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.lengths import EMAIL

__all__ = [
    "LOCKOUT",
    "MAX_FAILED_LOGINS",
    "MIN_PASSWORD_LENGTH",
    "Role",
    "User",
    "check_new_user",
    "normalise_email",
]

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000


class Role(StrEnum):
    OPERATOR_ADMIN = "operator-admin"
    OPERATOR_STAFF = "operator-staff"
    MERCHANT_ADMIN = "merchant-admin"
    MERCHANT_VIEWER = "merchant-viewer"

    @property
    def is_operator(self) -> bool:
        """Operator roles see every tenant; merchant roles one."""
        return self in (Role.OPERATOR_ADMIN, Role.OPERATOR_STAFF)

    @property
    def may_act(self) -> bool:
        """Whether the role may change orders (release, cancel, reroute, edit)."""
        return self is not Role.MERCHANT_VIEWER


def normalise_email(email: str) -> str:
    """The form emails are stored and compared in: trimmed, lower case."""
    return email.strip().lower()


@dataclass(frozen=True)
class User:
    """A person who signs in; ``password_hash`` is an argon2 hash, never the password."""

    id: UUID
    email: str
    role: Role
    tenant_id: UUID | None
    password_hash: str
    created_at: datetime
    failed_logins: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        """Whether a lock is still running at ``now``."""
        return self.locked_until is not None and self.locked_until > now

    def after_failed_login(self, now: datetime) -> User:
        """The user after one more wrong password at ``now`` (locked at the limit)."""
        expired = self.locked_until is not None and self.locked_until <= now
        failed = (0 if expired else self.failed_logins) + 1
        if failed >= MAX_FAILED_LOGINS:
            return replace(self, failed_logins=failed, locked_until=now + LOCKOUT)
        return replace(self, failed_logins=failed, locked_until=None)

    def after_login(self) -> User:
        """The user after a right password: the count of wrong ones starts again."""
        return replace(self, failed_logins=0, locked_until=None)


def check_new_user(*, email: str, role: Role, tenant_id: UUID | None, password: str) -> None:
    """Refuse a user that breaks a rule, naming the field."""
    problems = []
    address = normalise_email(email)
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or len(address) > EMAIL or " " in address:
        problems.append(FieldError("email", "not an email address"))
    if role.is_operator and tenant_id is not None:
        problems.append(FieldError("tenant", f"{role.value} users belong to no tenant"))
    if not role.is_operator and tenant_id is None:
        problems.append(FieldError("tenant", f"{role.value} users need --tenant"))
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldError("password", f"at least {MIN_PASSWORD_LENGTH} characters"))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(FieldError("password", f"at most {MAX_PASSWORD_LENGTH} characters"))
    if problems:
        raise InvalidRequest("Cannot create the user", problems)
