"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from uuid import UUID

from oms.adapters.carriers.signature import verify
from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.documents.pdf import PdfRenderer
from oms.adapters.downloads import DownloadSigner
from oms.adapters.status_links import StatusLinkSigner
from oms.config import Settings
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.carrier_gateway import CarrierGateway
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider
from oms.services.tenants import resolve_tenant

__all__ = [
    "carrier_provider",
    "carrier_signature_check",
    "document_renderer",
    "download_signer",
    "pickup_code_key",
    "status_links",
]


def carrier_provider(settings: Settings) -> CarrierProvider:
    """The built-in table-rate carriers: rate cards from the database, tracking serials
    from its counter, tracking links on this service."""

    def carriers(uow: UnitOfWork) -> CarrierGateway:
        return TableRateCarrier(
            services=carrier_services(uow),
            next_serial=lambda: uow.shipments.next_serial("table_rate"),
            base_url=settings.public_url,
        )

    return carriers


def download_signer(settings: Settings) -> DownloadLinks:
    """Download links signed with the deployment's secret key, on this service."""
    return DownloadSigner(settings.secret_key, settings.public_url)


def pickup_code_key(settings: Settings) -> PickupCodeKey:
    """Pickup codes are derived from the deployment's secret key (``OMS_SECRET_KEY``)."""
    return PickupCodeKey(settings.secret_key)


def carrier_signature_check(settings: Settings) -> SignatureCheck:
    """Carrier webhooks' HMAC-SHA256 signatures, with the deployment's shared secret."""
    return partial(verify, secret=settings.carrier_webhook_secret)


def document_renderer() -> DocumentRenderer:
    """The warehouse's documents as PDF."""
    return PdfRenderer()


def status_links(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    *,
    clock: Callable[[], datetime] | None = None,
) -> StatusLinkSigner:
    """Order status and tracking links on this service (``OMS_PUBLIC_URL``), signed with the
    deployment's secret key: the ``oms.services.events.StatusLinks`` port (for emails) and
    the ``oms.services.order_status.StatusGrants`` that reads them back (for the page).
    A tenant's slug is read once, in a transaction of its own: slugs never change.
    ``clock``: when links are made (their 90 days run from it); default the wall clock."""
    slugs: dict[UUID, str] = {}

    def slug_of(tenant_id: UUID) -> str:
        if tenant_id not in slugs:
            slugs[tenant_id] = resolve_tenant(uow_factory=uow_factory, tenant_id=tenant_id).slug
        return slugs[tenant_id]

    return StatusLinkSigner(settings.secret_key, settings.public_url, slug_of=slug_of, clock=clock)
