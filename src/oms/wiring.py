"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from oms.adapters.broker.nats_sink import JetStreamPublisher, NatsSink
from oms.adapters.carriers.signature import verify
from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.documents.pdf import PdfRenderer
from oms.adapters.downloads import DownloadSigner
from oms.adapters.email.links import PlainStatusLinks
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.email.sink import EmailSink
from oms.adapters.email.smtp import SmtpMailer, SmtpServer
from oms.config import Settings
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.carrier_gateway import CarrierGateway
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.events import StatusLinks
from oms.services.mailer import EmailRenderer, Mailer
from oms.services.ports import UnitOfWork
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider

__all__ = [
    "carrier_provider",
    "carrier_signature_check",
    "document_renderer",
    "download_signer",
    "email_renderer",
    "email_sink",
    "nats_sink",
    "pickup_code_key",
    "plain_status_links",
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


def email_renderer() -> EmailRenderer:
    """Customer and merchant emails from the packaged Jinja2 templates."""
    return JinjaEmailRenderer()


def plain_status_links(settings: Settings) -> StatusLinks:
    """Unsigned order status and tracking links on this service (a stand-in until the
    tracking pages' signed links are wired)."""
    return PlainStatusLinks(settings.public_url)


def email_sink(
    settings: Settings, *, links: StatusLinks, mailer: Mailer | None = None
) -> EmailSink | None:
    """The email sink over ``OMS_SMTP_URL`` (or ``mailer``); None when neither is set."""
    if mailer is None:
        if not settings.smtp_url:
            return None
        mailer = SmtpMailer(SmtpServer.from_url(settings.smtp_url))
    return EmailSink(
        mailer=mailer,
        renderer=email_renderer(),
        links=links,
        pickup_key=pickup_code_key(settings),
        default_sender=settings.email_from,
        message_id_domain=urlsplit(settings.public_url).hostname or "oms.localhost",
    )


def nats_sink(settings: Settings) -> NatsSink | None:
    """The NATS JetStream sink over ``OMS_NATS_URL``; None when unset."""
    return NatsSink(JetStreamPublisher(settings.nats_url)) if settings.nats_url else None
