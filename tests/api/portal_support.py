"""Helpers of the portal's HTTP and browser tests: users made directly, forms read from the
page, signing in through the login form."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

from oms.adapters.passwords import Argon2Hasher
from oms.domain.users import Role, User
from oms.services.ports import UnitOfWorkFactory
from oms.services.users import create_user
from tests.api.support import TestClient

__all__ = ["PASSWORD", "csrf_of", "new_user", "sign_in"]

PASSWORD = "a long portal password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_user(uow_factory: UnitOfWorkFactory, role: Role, tenant_id: UUID | None = None) -> User:
    """A user with a unique email and ``PASSWORD``."""
    return create_user(
        uow_factory=uow_factory,
        hasher=Argon2Hasher(cheap=True),
        email=f"{role.value}-{uuid4().hex[:10]}@portal.test",
        role=role,
        tenant_id=tenant_id,
        password=PASSWORD,
    )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, user: User, password: str = PASSWORD) -> int:
    """Sign ``client`` in as ``user`` through the login form; the answer's status."""
    client.cookies.clear()
    form = client.get("/app/login")
    answer = client.post(
        "/app/login",
        data={"csrf_token": csrf_of(form.text), "email": user.email, "password": password},
        follow_redirects=False,
    )
    return answer.status_code
