"""The order status page as JSON (``Accept: application/json``): the same facts as the page,
nothing more."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from oms.api.schemas.common import money_text
from oms.domain.customer_status import PARCEL_WORDS, WORDS, CustomerStage, PickupState
from oms.domain.exchange_choices import StockHint
from oms.domain.tracking import ShipmentStatus
from oms.services.order_status import OrderStatusPage, ParcelStatus, Pickup
from oms.services.return_offer import ReturnOffer

__all__ = ["OrderStatusRead"]


class ShopOut(BaseModel):
    slug: str
    name: str


class ItemOut(BaseModel):
    name: str
    quantity: int


class ScanOut(BaseModel):
    status: ShipmentStatus
    occurred_at: datetime
    location: str | None
    description: str | None


class ParcelOut(BaseModel):
    tracking_number: str
    carrier: str
    service: str
    status: ShipmentStatus
    status_text: str
    tracking_url: str
    deliver_by: date | None
    delivered_at: datetime | None
    packages: int
    events: list[ScanOut]

    @classmethod
    def of(cls, parcel: ParcelStatus) -> ParcelOut:
        return cls(
            tracking_number=parcel.tracking_number,
            carrier=parcel.carrier,
            service=parcel.service,
            status=parcel.status,
            status_text=PARCEL_WORDS[parcel.status][0],
            tracking_url=parcel.tracking_url,
            deliver_by=parcel.deliver_by,
            delivered_at=parcel.delivered_at,
            packages=parcel.packages,
            events=[
                ScanOut(
                    status=e.status,
                    occurred_at=e.occurred_at,
                    location=e.location,
                    description=e.description,
                )
                for e in parcel.events
            ],
        )


class StoreAddressOut(BaseModel):
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str


class PickupOut(BaseModel):
    """A store pickup; the code is never here (it travels only in the customer's email)."""

    store: str
    address: StoreAddressOut | None
    state: PickupState
    ready_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, pickup: Pickup) -> PickupOut:
        a = pickup.address
        return cls(
            store=pickup.store,
            address=None
            if a is None
            else StoreAddressOut(
                line1=a.line1,
                line2=a.line2,
                city=a.city,
                region=a.region,
                postal_code=a.postal_code,
                country=a.country,
            ),
            state=pickup.state,
            ready_at=pickup.ready_at,
            expires_at=pickup.expires_at,
        )


class TimelineOut(BaseModel):
    at: datetime
    type: str
    title: str
    carrier: str | None
    tracking_number: str | None


class ExchangeChoiceOut(BaseModel):
    sku: str = Field(description="What POST /status/{slug}/returns names in exchange_lines")
    name: str
    price: str
    currency: str
    stock: StockHint = Field(
        description="in_stock; backorder (sent when it is back); out_of_stock (not "
        "selectable: the shop refuses it)"
    )
    selectable: bool


class ReturnableLineOut(BaseModel):
    line_no: int
    name: str
    units: int = Field(description="How many may still be sent back")
    exchanges: list[ExchangeChoiceOut] = Field(description="What it may be exchanged for")


class ReturnOfferOut(BaseModel):
    """What the return form offers (POST /status/{slug}/returns takes the same)."""

    lines: list[ReturnableLineOut]
    reasons: list[str]
    resolutions: list[str]
    closes_on: date = Field(description="The return window's last day")

    @classmethod
    def of(cls, offer: ReturnOffer) -> ReturnOfferOut:
        return cls(
            lines=[
                ReturnableLineOut(
                    line_no=line.line_no,
                    name=line.name,
                    units=line.units,
                    exchanges=[
                        ExchangeChoiceOut(
                            sku=c.sku,
                            name=c.name,
                            price=money_text(c.price, c.currency),
                            currency=c.currency,
                            stock=c.stock,
                            selectable=c.selectable,
                        )
                        for c in line.exchanges
                    ],
                )
                for line in offer.lines
            ],
            reasons=list(offer.reasons),
            resolutions=list(offer.resolutions),
            closes_on=offer.closes_on,
        )


class OrderStatusRead(BaseModel):
    """What the customer may see of their order."""

    shop: ShopOut
    number: int
    placed_at: datetime
    status: CustomerStage
    status_text: str
    status_detail: str
    deliver_by: date | None
    items: list[ItemOut]
    parcels: list[ParcelOut]
    pickups: list[PickupOut]
    timeline: list[TimelineOut]
    returns: ReturnOfferOut | None = Field(
        default=None, description="What may be sent back now; null: nothing"
    )

    @classmethod
    def of(cls, page: OrderStatusPage) -> OrderStatusRead:
        headline, detail = WORDS[page.stage]
        return cls(
            shop=ShopOut(slug=page.shop.slug, name=page.shop.branding.display_name),
            number=page.number,
            placed_at=page.placed_at,
            status=page.stage,
            status_text=headline,
            status_detail=detail,
            deliver_by=page.deliver_by,
            items=[ItemOut(name=i.name, quantity=i.quantity) for i in page.items],
            parcels=[ParcelOut.of(p) for p in page.parcels],
            pickups=[PickupOut.of(p) for p in page.pickups],
            timeline=[
                TimelineOut(
                    at=t.at,
                    type=t.type,
                    title=t.title,
                    carrier=t.carrier,
                    tracking_number=t.tracking_number,
                )
                for t in page.timeline
            ],
            returns=None if page.returns is None else ReturnOfferOut.of(page.returns),
        )
