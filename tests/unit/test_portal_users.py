"""Portal users: who may be created, and signing in with the lockout rule (in memory, with
an injected clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from oms.adapters.memory.users import MemoryUserStore, MemoryUserUnitOfWork, PlainHasher
from oms.domain.errors import AlreadyExists, InvalidRequest
from oms.domain.tenancy import Tenant
from oms.domain.users import LOCKOUT, MAX_FAILED_LOGINS, Role
from oms.services.users import active_user, create_user, list_users, sign_in

T0 = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
TENANT = uuid4()


@pytest.fixture
def uow() -> MemoryUserUnitOfWork:
    return MemoryUserUnitOfWork(
        MemoryUserStore(tenants={TENANT: Tenant(id=TENANT, name="Acme", slug="acme")})
    )


def _create(uow: MemoryUserUnitOfWork, email: str = "ada@example.com", **given: object) -> None:
    create_user(
        uow_factory=uow,
        hasher=PlainHasher(),
        email=email,
        role=given.get("role", Role.OPERATOR_ADMIN),  # type: ignore[arg-type]
        tenant_id=given.get("tenant_id"),  # type: ignore[arg-type]
        password=given.get("password", PASSWORD),  # type: ignore[arg-type]
        at=T0,
    )


def _sign_in(
    uow: MemoryUserUnitOfWork, password: str, *, email: str = "ada@example.com", at: datetime = T0
) -> object:
    return sign_in(
        uow_factory=uow,
        hasher=PlainHasher(),
        email=email,
        password=password,
        now=at,
        decoy_hash="plain$decoy",
    )


def test_a_user_is_stored_with_a_hash_and_a_normalised_email(uow: MemoryUserUnitOfWork) -> None:
    _create(uow, email="  Ada@Example.COM ")

    [user] = list_users(uow_factory=uow)

    assert user.email == "ada@example.com"
    assert user.password_hash != PASSWORD
    assert user.role is Role.OPERATOR_ADMIN


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"role": Role.MERCHANT_ADMIN}, "tenant"),
        ({"role": Role.OPERATOR_STAFF, "tenant_id": TENANT}, "tenant"),
        ({"role": Role.MERCHANT_VIEWER, "tenant_id": uuid4()}, "tenant"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_a_user_that_breaks_a_rule_is_refused_naming_the_field(
    uow: MemoryUserUnitOfWork, given: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        _create(uow, **given)  # type: ignore[arg-type]

    assert [e.pointer for e in refused.value.errors] == [field]
    assert list_users(uow_factory=uow) == []


def test_an_email_is_taken_once(uow: MemoryUserUnitOfWork) -> None:
    _create(uow)

    with pytest.raises(AlreadyExists):
        _create(uow, email="ADA@example.com", role=Role.MERCHANT_ADMIN, tenant_id=TENANT)


def test_the_right_password_signs_in_and_a_wrong_one_or_unknown_email_does_not(
    uow: MemoryUserUnitOfWork,
) -> None:
    _create(uow)

    assert _sign_in(uow, PASSWORD) is not None
    assert _sign_in(uow, "wrong password") is None
    assert _sign_in(uow, PASSWORD, email="nobody@example.com") is None


def test_repeated_wrong_passwords_lock_the_account_until_the_lock_runs_out(
    uow: MemoryUserUnitOfWork,
) -> None:
    _create(uow)
    for n in range(MAX_FAILED_LOGINS):
        assert _sign_in(uow, "wrong password", at=T0 + timedelta(seconds=n)) is None
    locked_at = T0 + timedelta(seconds=MAX_FAILED_LOGINS - 1)

    assert _sign_in(uow, PASSWORD, at=locked_at + timedelta(minutes=1)) is None
    assert _sign_in(uow, PASSWORD, at=locked_at + LOCKOUT - timedelta(seconds=1)) is None
    assert _sign_in(uow, PASSWORD, at=locked_at + LOCKOUT) is not None
    [user] = list_users(uow_factory=uow)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_right_password_starts_the_count_of_wrong_ones_again(
    uow: MemoryUserUnitOfWork,
) -> None:
    _create(uow)
    for _ in range(MAX_FAILED_LOGINS - 1):
        _sign_in(uow, "wrong password")
    assert _sign_in(uow, PASSWORD) is not None

    for _ in range(MAX_FAILED_LOGINS - 1):
        _sign_in(uow, "wrong password")

    assert _sign_in(uow, PASSWORD) is not None


def test_a_disabled_user_neither_signs_in_nor_keeps_a_session(
    uow: MemoryUserUnitOfWork,
) -> None:
    _create(uow)
    [user] = list_users(uow_factory=uow)
    assert active_user(uow_factory=uow, user_id=user.id) == user
    uow._store.users[user.id] = replace(user, disabled_at=T0)

    assert _sign_in(uow, PASSWORD) is None
    assert active_user(uow_factory=uow, user_id=user.id) is None
