"""Plain links to the order status and tracking pages, until the signed ones are wired.

The real ``StatusLinks`` (signed order status links on the tenant's status page) belongs to
the tracking pages; this stand-in builds the same shape of link without a signature, so
previews and the demo have somewhere to point.
"""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from oms.services.events import StatusLinks

__all__ = ["PlainStatusLinks"]


class PlainStatusLinks(StatusLinks):
    """Links on ``base_url`` (``OMS_PUBLIC_URL``), unsigned."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")

    def order_status_url(self, tenant_id: UUID, order_id: UUID, order_number: int) -> str:
        return f"{self._base}/status/{tenant_id}?number={order_number}"

    def tracking_url(self, tracking_number: str) -> str:
        return f"{self._base}/track/{quote(tracking_number, safe='')}"
