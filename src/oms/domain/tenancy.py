"""Tenants (merchants), the operator, and who is calling."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import Forbidden

__all__ = ["ApiKeyScope", "Principal", "Tenant", "hash_api_key", "new_api_key"]

API_KEY_PREFIX = "oms_"


class ApiKeyScope(StrEnum):
    TENANT = "tenant"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Tenant:
    id: UUID
    name: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class Principal:
    """The caller of a request: an API key of the operator or of one tenant.

    ``tenant_id`` is the tenant whose data the request acts on: the key's own tenant, or for
    an operator key the tenant it named (None when it named none).
    """

    key_id: UUID
    scope: ApiKeyScope
    tenant_id: UUID | None

    @property
    def is_operator(self) -> bool:
        return self.scope is ApiKeyScope.OPERATOR

    def require_tenant(self) -> UUID:
        """The tenant to act on; an operator key must name one."""
        if self.tenant_id is None:
            raise Forbidden(
                "This operator key acts on a tenant's data only with an OMS-Tenant header"
            )
        return self.tenant_id

    def require_operator(self) -> None:
        """Refuse unless the caller holds an operator key."""
        if not self.is_operator:
            raise Forbidden("Only an operator key may do this")


def new_api_key() -> str:
    """A fresh random key, shown to its owner once and stored only as its hash."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """SHA-256 of the key: keys are 256-bit random, so a slow hash adds nothing."""
    return hashlib.sha256(key.encode()).hexdigest()
