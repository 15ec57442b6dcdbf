"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from oms.adapters.carriers.signature import verify
from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.documents.pdf import PdfRenderer
from oms.adapters.downloads import DownloadSigner
from oms.adapters.webhooks.addresses import AddressGuard
from oms.config import Settings
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.carrier_gateway import CarrierGateway
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.event_delivery import EventRenderer
from oms.services.events import EventSink
from oms.services.ports import UnitOfWork
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider

__all__ = [
    "carrier_provider",
    "carrier_signature_check",
    "document_renderer",
    "download_signer",
    "event_renderer",
    "event_sinks",
    "pickup_code_key",
    "webhook_address_guard",
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


def webhook_address_guard(settings: Settings) -> AddressGuard:
    """Webhook URLs must reach public addresses only, unless OMS_WEBHOOK_ALLOW_PRIVATE=1."""
    return AddressGuard(allow_private=settings.webhook_allow_private)


def event_renderer() -> EventRenderer:
    """Events carry their resource as the API returns it."""
    from oms.api.event_data import render_event_data

    return render_event_data


def event_sinks(settings: Settings, clock: Callable[[], datetime]) -> Sequence[EventSink]:
    """The ways events leave, in the order they are fanned out to: merchant webhooks now.

    The customer email sink (OMS_SMTP_URL) and the NATS JetStream sink (OMS_NATS_URL) are
    added here, each when its setting is present.
    """
    from oms.adapters.webhooks.sink import WebhookSink, new_client

    sinks: list[EventSink] = [
        WebhookSink(
            client=new_client(
                connect_timeout=settings.webhook_connect_timeout_seconds,
                read_timeout=settings.webhook_read_timeout_seconds,
            ),
            guard=webhook_address_guard(settings),
            clock=clock,
        )
    ]
    # Email and NATS sinks: appended here (see docs/events.md, "Sinks").
    return sinks
