"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from functools import partial

from oms.adapters.carriers.signature import verify
from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.documents.pdf import PdfRenderer
from oms.adapters.downloads import DownloadSigner
from oms.config import Settings
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.carrier_gateway import CarrierGateway
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.ports import UnitOfWork
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider

__all__ = [
    "carrier_provider",
    "carrier_signature_check",
    "document_renderer",
    "download_signer",
    "pickup_code_key",
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
