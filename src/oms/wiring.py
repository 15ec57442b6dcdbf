"""Which adapters serve which ports, decided once for the API, the CLI and the demo."""

from __future__ import annotations

from oms.adapters.carriers.table_rate import TableRateCarrier
from oms.adapters.downloads import DownloadSigner
from oms.config import Settings
from oms.services.carrier_gateway import CarrierGateway
from oms.services.ports import UnitOfWork
from oms.services.routing_network import carrier_services
from oms.services.shipping import CarrierProvider

__all__ = ["carrier_provider", "download_signer"]


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


def download_signer(settings: Settings) -> DownloadSigner:
    return DownloadSigner(settings.secret_key, settings.public_url)
