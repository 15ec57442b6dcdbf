"""Tenants (merchants), the operator, and who is calling.

A tenant's ``slug`` names it in the URL of its order status page (``/status/<slug>``):
lower-case ASCII letters, digits and single inner hyphens, at most ``lengths.SLUG``
characters, unique in the deployment. It is made from the name unless chosen
(``slug_from_name``); a name whose slug is taken gets the first free ``-2``, ``-3``, ...
(``first_free_slug``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import Forbidden
from oms.domain.lengths import SLUG

__all__ = [
    "ApiKeyScope",
    "Principal",
    "Tenant",
    "first_free_slug",
    "hash_api_key",
    "new_api_key",
    "slug_from_name",
    "slug_problem",
]

API_KEY_PREFIX = "oms_"


class ApiKeyScope(StrEnum):
    TENANT = "tenant"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Tenant:
    id: UUID
    name: str
    created_at: datetime | None = None
    slug: str = ""


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


# --- slugs -----------------------------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
FALLBACK_SLUG = "shop"


def slug_problem(slug: str) -> str | None:
    """What is wrong with a chosen slug, or None when it is a valid one."""
    if not slug:
        return "must not be empty"
    if len(slug) > SLUG:
        return f"at most {SLUG} characters"
    if _SLUG.fullmatch(slug) is None:
        return "lower-case letters a-z, digits and single hyphens between them"
    return None


def _trimmed(slug: str, limit: int) -> str:
    return slug[:limit].strip("-") or FALLBACK_SLUG[:limit]


def slug_from_name(name: str) -> str:
    """The slug a name gives: accents dropped, lower-cased, every run of anything else one
    hyphen ("Café Zoë & Co." gives ``cafe-zoe-co``); ``shop`` when nothing is left."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", bare.lower().encode("ascii", "ignore").decode()).strip("-")
    return _trimmed(slug, SLUG)


def first_free_slug(base: str, taken: Collection[str]) -> str:
    """``base`` unless ``taken`` holds it, else ``base-2``, ``base-3``, ... (``base`` cut
    short where the number would not fit)."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = _trimmed(base, SLUG - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        number += 1
