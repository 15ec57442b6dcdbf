"""The carrier gateway port: what oms needs from anything that prints shipping labels.

The port belongs to the use cases (``oms.services``); every carrier integration in
``oms.adapters.carriers`` (the built-in ``TableRateCarrier``, real carrier APIs later)
implements ``CarrierGateway``; the fulfilment use cases talk to nothing else, and tests and
the demo buy labels from ``TableRateCarrier`` exactly as production buys them from a real
carrier, like httpx's transports.

A label's life, as oms sees it::

    buy_label ──▶ PurchasedLabel (tracking number, cost, tracking URL, deliver-by date)
                      └──▶ tracking events arrive by signed webhook, or from
                           ``simulate_events`` for the table-rate carriers
                           (both in ``oms.adapters.carriers``)

``buy_label``
    Buy one label for ``request.parcels`` (one or more parcels travelling together) with
    the service ``request.service`` of ``request.carrier``, shipping on ``request.ship_on``.
    ``reference`` is our reference for the shipment (a fulfilment order id); carriers that
    support it print it on the label and use it to recognise a retry.
``tracking_url``
    The public page where the customer follows ``tracking_number``.

The contract, which every implementation keeps:

* **Refusals are ``CarrierError``.** A carrier that will not sell the label (unknown
  service, destination not served, parcel too heavy, serial range exhausted) raises
  ``CarrierError`` with a message an operator can act on; nothing was bought. Any other
  exception is a programming error or an outage, after which the caller cannot know whether
  a label was bought.
* **Idempotency is the caller's job.** A gateway does not remember what oms asked: the use
  case stores the ``PurchasedLabel`` in the same transaction as the shipment, and answers a
  retry from the stored label instead of buying a second one.
* **Where the parcels go.** ``ship_from`` and ``ship_to`` are postal addresses; zone-priced
  carriers also need points on the earth for their distance bands, given as
  ``origin_point`` and ``destination_point`` (when ``None``, the address's own latitude and
  longitude are used if it has both). A carrier that needs neither ignores them.
* ``cost`` is what the carrier charges for all the parcels, a ``Decimal`` at the minor unit
  of ``currency``; ``deliver_by`` is the carrier's promised delivery date, ``None`` when it
  promises none. ``dropoff_code`` is the carrier's code for a paperless drop-off (what a
  parcel shop scans instead of a printed label), ``None`` when it has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from oms.domain.addresses import Address
from oms.domain.geo import GeoPoint
from oms.domain.shipping import Parcel

__all__ = ["CarrierError", "CarrierGateway", "LabelRequest", "PurchasedLabel"]


class CarrierError(Exception):
    """The carrier refused to sell the label; the message says why and what to change."""


@dataclass(frozen=True)
class LabelRequest:
    """One label to buy: see the module docstring for each field."""

    carrier: str
    service: str
    ship_from: Address
    ship_to: Address
    parcels: Sequence[Parcel]
    ship_on: date
    reference: str
    origin_point: GeoPoint | None = None
    destination_point: GeoPoint | None = None


@dataclass(frozen=True)
class PurchasedLabel:
    """A label the carrier sold: its tracking number, what it cost and when it arrives."""

    tracking_number: str
    cost: Decimal
    currency: str
    tracking_url: str
    carrier: str
    service: str
    deliver_by: date | None
    dropoff_code: str | None = None  # a code a drop-off point scans instead of a printed label


class CarrierGateway(Protocol):
    """A carrier integration; ``name`` names the integration in settings and records."""

    name: str

    def buy_label(self, request: LabelRequest) -> PurchasedLabel:
        """Buy the label ``request`` describes, or raise ``CarrierError``."""
        ...

    def tracking_url(self, tracking_number: str) -> str:
        """The public page where the customer follows ``tracking_number``."""
        ...
