"""The built-in table-rate carriers: labels priced from the operator's rate cards.

``TableRateCarrier`` serves every carrier whose services (``CarrierService`` with a rate
card) it is given; a request names one of them by ``carrier`` and ``service``. The label
costs what ``oms.domain.shipping.quote`` charges for each parcel, summed, so a label never
costs more or less than the rate the router chose it by. Tracking numbers follow
``oms.domain.tracking``: two letters from the carrier's name, a serial from the injected
``next_serial`` and a check digit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from oms.domain.addresses import Address
from oms.domain.geo import GeoPoint
from oms.domain.shipping import CarrierService, Quote, quote
from oms.domain.tracking import SERIAL_LIMIT, make_tracking_number
from oms.services.carrier_gateway import CarrierError, LabelRequest, PurchasedLabel

__all__ = ["DEFAULT_BASE_URL", "TableRateCarrier", "tracking_prefix"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def tracking_prefix(carrier: str) -> str:
    """The first two ASCII letters of the carrier's name, upper-cased (``acme`` -> ``AC``),
    padded with ``X`` when it has fewer."""
    letters = [char for char in carrier.upper() if "A" <= char <= "Z"]
    return ("".join(letters[:2]) + "XX")[:2]


def _point_of(address: Address) -> GeoPoint | None:
    if address.latitude is None or address.longitude is None:
        return None
    return GeoPoint(address.latitude, address.longitude)


class TableRateCarrier:
    """The ``CarrierGateway`` of the table-rate carriers, priced by their rate cards.

    ``next_serial`` must return a serial never returned before (from 0 to 99,999,999)
    across every carrier this gateway serves, as two carriers may share a prefix; it is
    called only for labels that are sold.
    """

    def __init__(
        self,
        *,
        services: Iterable[CarrierService],
        next_serial: Callable[[], int],
        base_url: str = DEFAULT_BASE_URL,
        name: str = "table_rate",
    ) -> None:
        self.name = name
        self._next_serial = next_serial
        self._base_url = base_url.rstrip("/")
        self._services: dict[tuple[str, str], CarrierService] = {}
        for service in services:
            key = (service.carrier, service.code)
            if key in self._services:
                raise ValueError(f"the service {service.carrier}/{service.code} is given twice")
            self._services[key] = service

    def buy_label(self, request: LabelRequest) -> PurchasedLabel:
        """Price every parcel by the service's rate card and issue a tracking number; refuse
        with ``CarrierError`` an unknown service, an unserved destination or a heavy parcel."""
        service = self._services.get((request.carrier, request.service))
        if service is None:
            known = ", ".join(f"{c}/{s}" for c, s in sorted(self._services)) or "none"
            raise CarrierError(
                f"{request.carrier}/{request.service} is not a table-rate carrier service "
                f"(known: {known})"
            )
        if not request.parcels:
            raise CarrierError("A label needs at least one parcel")
        quotes = [self._quote(service, request, number) for number in range(len(request.parcels))]
        serial = self._next_serial()
        if not 0 <= serial < SERIAL_LIMIT:
            raise CarrierError(
                f"The tracking serial {serial} is outside 0 to {SERIAL_LIMIT - 1:,}: "
                "the tracking number range is exhausted"
            )
        tracking_number = make_tracking_number(
            prefix=tracking_prefix(service.carrier), serial=serial
        )
        return PurchasedLabel(
            tracking_number=tracking_number,
            cost=sum((found.price for found in quotes), Decimal(0)),
            currency=service.rate_card.currency,
            tracking_url=self.tracking_url(tracking_number),
            carrier=service.carrier,
            service=service.code,
            deliver_by=max(found.deliver_by for found in quotes),
        )

    def tracking_url(self, tracking_number: str) -> str:
        """The public tracking page of ``tracking_number`` on this oms."""
        return f"{self._base_url}/track/{tracking_number}"

    def _quote(self, service: CarrierService, request: LabelRequest, number: int) -> Quote:
        parcel, destination = request.parcels[number], request.ship_to
        found = quote(
            service,
            parcel=parcel,
            origin=request.origin_point or _point_of(request.ship_from),
            origin_country=request.ship_from.country,
            destination=request.destination_point or _point_of(destination),
            destination_country=destination.country,
            destination_region=destination.region,
            ship_on=request.ship_on,
        )
        if found is not None:
            return found
        name, limit = f"{service.carrier}/{service.code}", service.rate_card.max_weight_grams
        if limit is not None and parcel.weight_grams > limit:
            raise CarrierError(
                f"Parcel {number + 1} weighs {parcel.weight_grams:,} g, above the "
                f"{limit:,} g limit of {name}"
            )
        place = destination.country.upper()
        if destination.region:
            place += f"-{destination.region.upper()}"
        raise CarrierError(
            f"{name} does not deliver from {request.ship_from.country.upper()} to {place}"
        )
