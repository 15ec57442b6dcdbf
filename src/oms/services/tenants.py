"""Tenants, API keys and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain import lengths
from oms.domain.errors import AlreadyExists, Conflict, FieldError, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.lengths import length_problems
from oms.domain.tenancy import (
    ApiKeyScope,
    Principal,
    Tenant,
    first_free_slug,
    hash_api_key,
    new_api_key,
    slug_from_name,
    slug_problem,
)
from oms.services.common import utcnow
from oms.services.ports import ApiKeyRecord, ApiKeyView, UnitOfWorkFactory

__all__ = [
    "CreatedKey",
    "authenticate",
    "create_api_key",
    "create_tenant",
    "list_api_keys",
    "list_tenants",
    "resolve_tenant",
    "revoke_api_key",
    "tenant_by_slug",
]


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``secret`` is shown once and never stored."""

    key_id: UUID
    secret: str
    scope: ApiKeyScope
    tenant_id: UUID | None


def _refuse_long_name(of: str, name: str) -> None:
    if too_long := length_problems([("#/name", name, lengths.NAME)]):
        raise InvalidRequest(f"A {of}'s name {too_long[0].detail}", too_long)


def _new_key(
    *, scope: ApiKeyScope, tenant_id: UUID | None, name: str, at: datetime
) -> tuple[ApiKeyRecord, CreatedKey]:
    _refuse_long_name("key", name)
    secret = new_api_key()
    record = ApiKeyRecord(
        id=new_id(),
        tenant_id=tenant_id,
        scope=scope,
        name=name,
        prefix=secret[:12],
        key_hash=hash_api_key(secret),
        created_at=at,
    )
    return record, CreatedKey(key_id=record.id, secret=secret, scope=scope, tenant_id=tenant_id)


def _add_key(
    uow_factory: UnitOfWorkFactory,
    *,
    scope: ApiKeyScope,
    tenant_id: UUID | None,
    name: str,
    at: datetime,
) -> CreatedKey:
    record, created = _new_key(scope=scope, tenant_id=tenant_id, name=name, at=at)
    with uow_factory() as uow:
        if tenant_id is not None and uow.tenants.get(tenant_id) is None:
            raise NotFound(f"No tenant {tenant_id}")
        uow.tenants.add_api_key(record)
        uow.commit()
    return created


# A slug made from the name can be taken by a concurrent creation between reading the taken
# slugs and inserting: then the next free one is tried, in a new transaction.
_SLUG_ATTEMPTS = 5


def _chosen_slug(slug: str) -> str:
    chosen = slug.strip()
    if problem := slug_problem(chosen):
        raise InvalidRequest(f"The slug {problem}", [FieldError("#/slug", problem)])
    return chosen


def create_tenant(
    *,
    uow_factory: UnitOfWorkFactory,
    name: str,
    slug: str | None = None,
    at: datetime | None = None,
) -> tuple[Tenant, CreatedKey]:
    """Create a tenant (a merchant) and its first API key, in one transaction.

    ``slug`` names it in its status page's URL: made from the name when not given (the
    first free ``-2``, ``-3``, ... when taken); a chosen slug that is taken is refused."""
    name = name.strip()
    if not name:
        raise InvalidRequest("A tenant needs a name")
    _refuse_long_name("tenant", name)
    chosen = None if slug is None else _chosen_slug(slug)
    at = at or utcnow()
    tenant_id = new_id()
    record, key = _new_key(scope=ApiKeyScope.TENANT, tenant_id=tenant_id, name="initial", at=at)
    base = slug_from_name(name)
    for _ in range(_SLUG_ATTEMPTS):
        with uow_factory() as uow:
            picked = chosen or first_free_slug(base, uow.tenants.slugs_like(base))
            tenant = Tenant(id=tenant_id, name=name, created_at=at, slug=picked)
            if uow.tenants.add(tenant):
                uow.tenants.add_api_key(record)
                uow.commit()
                return tenant, key
        if chosen is not None:
            raise AlreadyExists(f"The slug {chosen!r} is taken", slug=chosen)
    raise Conflict("Could not find a free slug for this name; choose one")


def create_api_key(
    *,
    uow_factory: UnitOfWorkFactory,
    scope: ApiKeyScope,
    tenant_id: UUID | None,
    name: str,
    at: datetime | None = None,
) -> CreatedKey:
    """Create another key: of one tenant, or of the operator (``tenant_id`` None)."""
    if (scope is ApiKeyScope.TENANT) != (tenant_id is not None):
        raise InvalidRequest("A tenant key needs a tenant; an operator key takes none")
    return _add_key(uow_factory, scope=scope, tenant_id=tenant_id, name=name, at=at or utcnow())


def revoke_api_key(
    *, uow_factory: UnitOfWorkFactory, key_id: UUID, at: datetime | None = None
) -> None:
    """Revoke a key for good; an unknown or already revoked key is NotFound."""
    with uow_factory() as uow:
        if not uow.tenants.revoke_api_key(key_id, at or utcnow()):
            raise NotFound(f"No active API key {key_id}")
        uow.commit()


def list_tenants(*, uow_factory: UnitOfWorkFactory) -> list[Tenant]:
    """Every tenant of the deployment, oldest first."""
    with uow_factory(readonly=True) as uow:
        return uow.tenants.all()


def list_api_keys(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID | None = None
) -> list[ApiKeyView]:
    """Every API key (or one tenant's; NotFound for an unknown tenant), revoked ones too,
    oldest first: never a secret."""
    with uow_factory(readonly=True) as uow:
        if tenant_id is not None and uow.tenants.get(tenant_id) is None:
            raise NotFound(f"No tenant {tenant_id}")
        return uow.tenants.api_keys(tenant_id)


def authenticate(*, uow_factory: UnitOfWorkFactory, secret: str) -> Principal | None:
    """The principal an API key stands for, or None for an unknown or revoked key."""
    with uow_factory(readonly=True) as uow:
        return uow.tenants.principal_for_key(hash_api_key(secret))


def resolve_tenant(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> Tenant:
    """The tenant an operator key names; NotFound when there is none."""
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}")
    return tenant


def tenant_by_slug(*, uow_factory: UnitOfWorkFactory, slug: str) -> Tenant:
    """The tenant a status page's URL names; NotFound when there is none."""
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.by_slug(slug)
    if tenant is None:
        raise NotFound(f"No shop {slug!r}")
    return tenant
