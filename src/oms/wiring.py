"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import UUID

from oms.adapters.carriers.signature import verify
from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.downloads import DownloadSigner
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.email.sink import EmailSink
from oms.adapters.email.smtp import SmtpMailer, SmtpServer
from oms.adapters.passwords import Argon2Hasher
from oms.adapters.status_links import StatusLinkSigner
from oms.adapters.webhooks.addresses import AddressGuard
from oms.config import Environment, Settings
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.carrier_gateway import CarrierGateway
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.common import utcnow
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.event_delivery import EventBatchRenderer, EventRenderer
from oms.services.events import EventSink, StatusLinks
from oms.services.mailer import EmailRenderer, Mailer
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider
from oms.services.tenants import resolve_tenant

if TYPE_CHECKING:  # imported where used: `oms worker` needs neither PDF nor NATS to start
    from sqlalchemy import Engine

    from oms.adapters.broker.nats_sink import NatsSink
    from oms.services.channels import ChannelRepository

__all__ = [
    "carrier_provider",
    "carrier_signature_check",
    "channel_repository",
    "document_renderer",
    "download_signer",
    "email_renderer",
    "email_sink",
    "event_batch_renderer",
    "event_renderer",
    "event_sinks",
    "nats_sink",
    "password_hasher",
    "pickup_code_key",
    "status_links",
    "stock_pushes",
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


def password_hasher(settings: Settings) -> Argon2Hasher:
    """argon2id for portal passwords; a cheap cost under test (the rules are tested, not
    the hash's strength)."""
    return Argon2Hasher(cheap=settings.environment is Environment.TEST)


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
    from oms.adapters.documents.pdf import PdfRenderer

    return PdfRenderer()


def email_renderer() -> EmailRenderer:
    """Customer and merchant emails from the packaged Jinja2 templates."""
    return JinjaEmailRenderer()


def email_sink(
    settings: Settings,
    *,
    links: StatusLinks,
    mailer: Mailer | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> EmailSink | None:
    """The email sink over ``OMS_SMTP_URL`` (or ``mailer``); None when neither is set."""
    if mailer is None:
        if not settings.smtp_url:
            return None
        mailer = SmtpMailer(SmtpServer.from_url(settings.smtp_url), clock=clock)
    return EmailSink(
        mailer=mailer,
        renderer=email_renderer(),
        links=links,
        pickup_key=pickup_code_key(settings),
        default_sender=settings.email_from,
        message_id_domain=urlsplit(settings.public_url).hostname or "oms.localhost",
        clock=clock,
        documents=document_renderer(),
    )


def nats_sink(settings: Settings) -> NatsSink | None:
    """The NATS JetStream sink over ``OMS_NATS_URL``; None when unset."""
    if not settings.nats_url:
        return None
    from oms.adapters.broker.nats_sink import JetStreamPublisher, NatsSink

    return NatsSink(JetStreamPublisher(settings.nats_url))


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


def webhook_address_guard(settings: Settings) -> AddressGuard:
    """Webhook URLs must reach public addresses only, unless OMS_WEBHOOK_ALLOW_PRIVATE=1."""
    return AddressGuard(allow_private=settings.webhook_allow_private)


def event_renderer() -> EventRenderer:
    """Events carry their resource as the API returns it."""
    from oms.api.event_data import render_event_data

    return render_event_data


def event_batch_renderer() -> EventBatchRenderer:
    """A batch's orders rendered together, as the API returns them."""
    from oms.api.event_data import render_event_batch

    return render_event_batch


def event_sinks(
    settings: Settings,
    clock: Callable[[], datetime],
    *,
    uow_factory: UnitOfWorkFactory,
    max_connections: int = 64,
) -> Sequence[EventSink]:
    """The ways events leave, in the order they are fanned out to: merchant webhooks (at
    most ``max_connections`` at once to one address), then customer email when
    ``OMS_SMTP_URL`` is set, then NATS JetStream when ``OMS_NATS_URL`` is. Emails link the
    order status page with links signed as the API signs them."""
    from oms.adapters.webhooks.sink import WebhookSink, new_http

    sinks: list[EventSink] = [
        WebhookSink(
            transport=new_http(
                connect_timeout=settings.webhook_connect_timeout_seconds,
                read_timeout=settings.webhook_read_timeout_seconds,
                max_connections=max_connections,
            ),
            guard=webhook_address_guard(settings),
            clock=clock,
        )
    ]
    email = email_sink(
        settings, links=status_links(settings, uow_factory, clock=clock), clock=clock
    )
    if email is not None:
        sinks.append(email)
    nats = nats_sink(settings)
    if nats is not None:
        sinks.append(nats)
    engine = getattr(uow_factory, "engine", None)
    if engine is not None:
        # Shipments of Shopify orders go back to the shop (oms.adapters.channels.shopify_push).
        # Shipments of WooCommerce and Magento orders too (adapters/channels/*_push.py).
        from oms.adapters.channels.magento_push import MagentoShipmentSink
        from oms.adapters.channels.magento_stock import MagentoStockSink
        from oms.adapters.channels.shopify_push import ShopifyFulfilmentSink
        from oms.adapters.channels.shopify_stock import ShopifyStockSink
        from oms.adapters.channels.woocommerce_push import WooCommerceShipmentSink
        from oms.adapters.channels.woocommerce_stock import WooCommerceStockSink

        channels = channel_repository(settings, engine)
        sinks.append(ShopifyFulfilmentSink(channels=channels))
        sinks.append(WooCommerceShipmentSink(channels=channels))
        sinks.append(MagentoShipmentSink(channels=channels))
        # Stock levels go to the shops that sell them (oms.services.stock_push).
        sinks.append(ShopifyStockSink(channels=channels))
        sinks.append(WooCommerceStockSink(channels=channels))
        sinks.append(MagentoStockSink(channels=channels))
    return sinks


def stock_pushes(
    settings: Settings, uow_factory: UnitOfWorkFactory, seconds: float
) -> Callable[[], int]:
    """The worker's periodic job that queues the stock pushes (``oms.services.stock_push``)
    of the levels changed more than ``seconds`` ago (the debounce window)."""
    from oms.services.stock_push import queue_stock_pushes

    engine = getattr(uow_factory, "engine", None)
    if engine is None:
        return lambda: 0
    channels = channel_repository(settings, engine)
    return lambda: queue_stock_pushes(
        uow_factory=uow_factory,
        channels=channels,
        now=datetime.now(UTC),
        window=timedelta(seconds=seconds),
    )


def channel_repository(settings: Settings, engine: Engine) -> ChannelRepository:
    """Channel connections in the database, their credentials encrypted with the keys of
    ``OMS_SECRET_KEY`` (comma-separated; the first encrypts)."""
    from oms.adapters.channels.credentials import FernetCipher
    from oms.adapters.db.repositories.channels import SqlChannelRepository

    return SqlChannelRepository(engine, FernetCipher(settings.secret_key))
