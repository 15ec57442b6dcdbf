"""Links customers follow, signed with the deployment's secret key (itsdangerous): the
``oms.services.events.StatusLinks`` port, and ``oms.services.order_status.StatusGrants``
that reads them back.

An order status link is ``<public url>/status/<tenant slug>?token=<token>``; the token names
the tenant and the order and carries its expiry (``LIFETIME`` after the link was made: long
enough for a delivery, a return and a refund), signed with ``OMS_SECRET_KEY`` under a salt of
its own, so it cannot be forged, stretched, moved to another order or read as a download
link. Nothing is stored: revoking every link means changing the key. The tracking link is
the public tracking page of the parcel, which needs no token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer

from oms.services.order_status import StatusGrant

__all__ = ["LIFETIME", "StatusLinkSigner"]

LIFETIME = timedelta(days=90)


class StatusLinkSigner:
    """Signs and reads order status links; ``slug_of`` names a tenant's pages (slugs never
    change), ``clock`` is when a link is made."""

    def __init__(
        self,
        secret_key: str,
        base_url: str,
        *,
        slug_of: Callable[[UUID], str],
        clock: Callable[[], datetime] | None = None,
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="oms-order-status-link")
        self._base_url = base_url.rstrip("/")
        self._slug_of = slug_of
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lifetime = lifetime

    def token(self, tenant_id: UUID, order_id: UUID) -> str:
        """A token opening the order until ``lifetime`` from now."""
        expires = self._clock() + self._lifetime
        return self._serializer.dumps([tenant_id.hex, order_id.hex, int(expires.timestamp())])

    def order_status_url(self, tenant_id: UUID, order_id: UUID, order_number: int) -> str:
        """The order's status page, opened by a signed token (``order_number`` is not in the
        link: the token names the order)."""
        slug = quote(self._slug_of(tenant_id), safe="")
        return f"{self._base_url}/status/{slug}?token={self.token(tenant_id, order_id)}"

    def tracking_url(self, tracking_number: str) -> str:
        """The public tracking page of a parcel."""
        return f"{self._base_url}/track/{quote(tracking_number, safe='')}"

    def read(self, token: str) -> StatusGrant | None:
        """The grant of a genuine token, or None for anything forged or malformed."""
        try:
            tenant, order, expires = self._serializer.loads(token)
            return StatusGrant(
                tenant_id=UUID(hex=tenant),
                order_id=UUID(hex=order),
                expires_at=datetime.fromtimestamp(int(expires), tz=UTC),
            )
        except (BadSignature, ValueError, TypeError, AttributeError):
            return None
