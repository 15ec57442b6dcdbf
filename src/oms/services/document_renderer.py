"""The document renderer port: what the warehouse's documents show, and what draws them.

A use case (``oms.services.documents``) reads what a document shows in one transaction and
fills in one of the plain frozen dataclasses below; a ``DocumentRenderer`` turns it into
the bytes of a PDF (and a return label's drop-off QR code into a PNG image). The built-in
renderer draws them with reportlab and segno (``oms.adapters.documents.pdf.PdfRenderer``).

The contract, which every implementation keeps:

* **No input makes rendering fail.** Any text (any script, markup characters, control
  characters, thousands of characters) is printed as well as the format allows, cut or
  replaced, never refused; the dataclasses themselves refuse what no document can show
  (a label's tracking number must be printable ASCII for its barcode).
* **Deterministic.** The same document gives the same bytes.
* **No I/O.** Rendering reads nothing and writes nothing but the bytes it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from oms.domain.addresses import Address

__all__ = [
    "CommercialInvoiceDoc",
    "CommercialInvoiceLine",
    "DocumentRenderer",
    "LabelDoc",
    "PackingSlipDoc",
    "PackingSlipLine",
    "PickListDoc",
    "PickListLine",
    "StatementDoc",
    "StatementDocLine",
]


@dataclass(frozen=True)
class PickListLine:
    """Units of one SKU to take from one bin, for the fulfilment orders named (e.g. "#1042")."""

    bin: str | None
    sku: str
    name: str
    quantity: int
    fulfillment_orders: tuple[str, ...]


@dataclass(frozen=True)
class PickListDoc:
    """A wave's pick list at one location; ``lines`` are printed in the order given."""

    wave_id: str
    location_code: str
    location_name: str
    created_at: datetime
    lines: Sequence[PickListLine]
    tenant_name: str | None = None


@dataclass(frozen=True)
class PackingSlipLine:
    """Units of one SKU in the parcel."""

    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PackingSlipDoc:
    """The slip packed with one fulfilment order; ``ship_to`` is None when nothing is shipped."""

    order_number: str
    fulfillment_order_id: str
    ship_from: Address
    ship_to: Address | None
    lines: Sequence[PackingSlipLine]
    packages: int
    created_at: datetime
    note: str | None = None
    merchant_name: str | None = None


@dataclass(frozen=True)
class LabelDoc:
    """One package's shipping label; ``package_index`` counts from 1."""

    tracking_number: str
    carrier: str
    service: str
    ship_from: Address
    ship_to: Address
    weight_grams: int
    order_number: str
    package_index: int
    package_count: int
    ship_date: date
    reference: str | None = None

    def __post_init__(self) -> None:
        if not self.tracking_number or not (
            self.tracking_number.isascii() and self.tracking_number.isprintable()
        ):
            raise ValueError(f"a barcode needs printable ASCII, not {self.tracking_number!r}")
        if not 1 <= self.package_index <= self.package_count:
            raise ValueError(f"package {self.package_index} of {self.package_count}")
        if self.weight_grams < 0:
            raise ValueError(f"negative weight {self.weight_grams} g")


@dataclass(frozen=True)
class StatementDocLine:
    """One priced line of a billing statement, its figures already formatted."""

    description: str
    quantity: str
    rate: str
    amount: str


@dataclass(frozen=True)
class StatementDoc:
    """A 3PL's billing statement to one merchant for one period."""

    merchant_name: str
    merchant_id: str
    period: str
    currency: str
    lines: Sequence[StatementDocLine]
    total: str
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class CommercialInvoiceLine:
    """Units of one SKU shipped across a border; ``value`` formatted in the currency."""

    sku: str
    description: str
    hs_code: str
    origin_country: str
    quantity: int
    weight_grams: int
    value: str


@dataclass(frozen=True)
class CommercialInvoiceDoc:
    """The commercial invoice that travels with a shipment leaving its origin country."""

    invoice_number: str
    order_number: str
    tracking_number: str
    ship_date: date
    sender: Address
    receiver: Address | None
    currency: str
    duties_terms: str
    lines: Sequence[CommercialInvoiceLine]
    total: str
    weight_grams: int


class DocumentRenderer(Protocol):
    """Draws the warehouse's documents as PDF; see the module docstring for the contract."""

    def pick_list(self, doc: PickListDoc) -> bytes:
        """A wave's pick list."""
        ...

    def packing_slip(self, doc: PackingSlipDoc) -> bytes:
        """The slip packed with a fulfilment order."""
        ...

    def labels(self, docs: Sequence[LabelDoc]) -> bytes:
        """A shipment's labels in one file, one page a package, in the order given."""
        ...

    def statement(self, doc: StatementDoc) -> bytes:
        """A merchant's billing statement for a period."""
        ...

    def commercial_invoice(self, doc: CommercialInvoiceDoc) -> bytes:
        """A cross-border shipment's commercial invoice."""
        ...

    def dropoff_qr(self, payload: str) -> bytes:
        """A PNG image of the QR code of ``payload`` (a return label's drop-off code or
        tracking number), for a parcel shop to scan from a phone."""
        ...
