"""Digital goods after delivery: which download each delivered line grants, until when,
and where a valid link leads. Links are signed and read by the ``DownloadLinks`` port
(``oms.adapters.downloads`` signs them with the deployment's secret); nothing is stored per
link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from oms.domain.catalogue import ProductKind
from oms.domain.errors import Gone, NotFound
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "DigitalDelivery",
    "DownloadGrant",
    "DownloadLink",
    "DownloadLinks",
    "digital_deliveries",
    "download_links",
    "download_target",
    "open_download",
]


@dataclass(frozen=True)
class DownloadGrant:
    """What a valid link grants: one order line's file until ``expires_at``."""

    tenant_id: UUID
    order_id: UUID
    line_no: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether the link has run out at ``now``."""
        return now >= self.expires_at


class DownloadLinks(Protocol):
    """Turns grants into public links and back; a link cannot be forged or stretched."""

    def link(self, grant: DownloadGrant) -> str:
        """The public URL of the link granting ``grant``."""
        ...

    def read(self, token: str) -> DownloadGrant | None:
        """The grant of a genuine link's token; None for anything forged or malformed."""
        ...


@dataclass(frozen=True)
class DownloadLink:
    line_no: int
    sku: str
    url: str
    expires_at: datetime


DELIVERED = "digital.delivered"


@dataclass(frozen=True)
class DigitalDelivery:
    line_no: int
    sku: str
    expires_at: datetime


def digital_deliveries(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> list[DigitalDelivery]:
    """Each delivered digital line and how long its download lasts (the tenant's
    ``download_link_days`` from delivery); NotFound for an unknown order."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}")
        days = uow.tenants.policies(tenant_id).download_link_days
    delivered_at = {
        int(e.data["line_no"]): e.created_at for e in order.events if e.type == DELIVERED
    }
    return [
        DigitalDelivery(line.line_no, line.sku, delivered_at[line.line_no] + timedelta(days=days))
        for line in order.lines
        if line.kind is ProductKind.DIGITAL and line.line_no in delivered_at
    ]


def download_target(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID, line_no: int
) -> str:
    """The file a delivered digital line leads to (NotFound when there is none)."""
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(tenant_id, order_id, with_events=False)
        line = (
            None
            if order is None
            else next((ln for ln in order.lines if ln.line_no == line_no), None)
        )
        if line is None or line.delivered == 0:
            raise NotFound("No such download")
        product = uow.products.by_skus(tenant_id, [line.sku]).get(line.sku)
    if product is None or not product.download_url:
        raise NotFound("The merchant has not given this product a file")
    return product.download_url


def download_links(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID, links: DownloadLinks
) -> list[DownloadLink]:
    """A signed link for each delivered digital line, valid until its download runs out
    (NotFound for an unknown order)."""
    delivered = digital_deliveries(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order_id)
    return [
        DownloadLink(
            line_no=d.line_no,
            sku=d.sku,
            url=links.link(DownloadGrant(tenant_id, order_id, d.line_no, d.expires_at)),
            expires_at=d.expires_at,
        )
        for d in delivered
    ]


def open_download(
    *, uow_factory: UnitOfWorkFactory, token: str, links: DownloadLinks, now: datetime
) -> str:
    """Where a customer's link leads at ``now``: NotFound for a forged link, Gone once it
    has expired."""
    grant = links.read(token)
    if grant is None:
        raise NotFound("No such download")
    if grant.expired(now):
        raise Gone(f"This download link expired at {grant.expires_at.isoformat()}")
    return download_target(
        uow_factory=uow_factory,
        tenant_id=grant.tenant_id,
        order_id=grant.order_id,
        line_no=grant.line_no,
    )
