"""The demo's portal users: an operator admin and a merchant admin of the demo tenant, with
a password everyone knows (a demo database only; ``oms demo`` prints it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.errors import AlreadyExists
from oms.domain.users import Role
from oms.services.ports import UnitOfWorkFactory
from oms.services.users import PasswordHasher, create_user

__all__ = ["DEMO_PASSWORD", "DemoLogin", "seed_demo_users"]

DEMO_PASSWORD = "oms-demo-password"  # noqa: S105 - printed by oms demo, a demo database only


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role


def seed_demo_users(
    *, uow_factory: UnitOfWorkFactory, hasher: PasswordHasher, tenant_id: UUID, now: datetime
) -> list[DemoLogin]:
    """Create the demo's users unless they exist; the logins to print."""
    logins = [
        (DemoLogin("operator@demo.oms", Role.OPERATOR_ADMIN), None),
        (DemoLogin("merchant@demo.oms", Role.MERCHANT_ADMIN), tenant_id),
    ]
    for login, tenant in logins:
        try:
            create_user(
                uow_factory=uow_factory,
                hasher=hasher,
                email=login.email,
                role=login.role,
                tenant_id=tenant,
                password=DEMO_PASSWORD,
                at=now,
            )
        except AlreadyExists:
            continue
    return [login for login, _ in logins]
