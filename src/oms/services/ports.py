"""The interfaces use cases need from storage; ``oms.adapters.db`` implements them.

A ``UnitOfWork`` is one transaction: use it as a context manager, call ``commit()`` at the
end of the use case; leaving the block without committing rolls everything back.
Repositories never commit. Every tenant-owned method takes ``tenant_id`` first, so no
query can forget its tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self
from uuid import UUID

from oms.domain.carts import CartReservation, CartStatus
from oms.domain.catalogue import Location, Product, ProductKind
from oms.domain.counts import CountSheet, Transfer
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.holds import Hold, HoldReason
from oms.domain.inbound import (
    InboundLine,
    InboundShipment,
    IncomingSupply,
    PurchaseOrder,
    Supplier,
    SupplierSku,
)
from oms.domain.inventory import Movement, MovementKind, StockLevel
from oms.domain.notifications import NotificationSettings
from oms.domain.orders import Order
from oms.domain.packing import Box, Package
from oms.domain.picking import PickWave
from oms.domain.policies import TenantPolicies
from oms.domain.pricing import DiscountCode
from oms.domain.risk import RiskRule
from oms.domain.routing_profile import RoutingProfile
from oms.domain.shipments import Shipment
from oms.domain.tenancy import ApiKeyScope, Principal, Tenant
from oms.domain.tracking import TrackingEvent

if TYPE_CHECKING:  # they name UnitOfWork in turn
    from oms.services.analytics import AnalyticsRepository
    from oms.services.billing import BillingRepository
    from oms.services.channels import ChannelIntakeRepository
    from oms.services.dashboard import DashboardRepository
    from oms.services.deliveries import DeliveryRepository
    from oms.services.demand import DemandRepository
    from oms.services.return_records import ReturnRepository
    from oms.services.rollups import RollupRepository
    from oms.services.stock_push import StockChangeRepository
    from oms.services.store_credit import StoreCreditRepository
    from oms.services.users import UserRepository
    from oms.services.webhook_endpoints import WebhookEndpointRepository

__all__ = [
    "ApiKeyRecord",
    "CartRepository",
    "CatalogueRepository",
    "CustomerRecord",
    "CustomerRepository",
    "CustomerTally",
    "DiscountRepository",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "InboundRepository",
    "IntakeSettings",
    "InvariantViolation",
    "InventoryRepository",
    "LevelCount",
    "LevelToCount",
    "LocationRepository",
    "NotificationSettingsRepository",
    "OrderContact",
    "OrderFilter",
    "OrderRepository",
    "OrderSearch",
    "OutboxMessage",
    "OutboxRepository",
    "PlannerStatistics",
    "QueuedHold",
    "RiskRuleRepository",
    "RoutingRepository",
    "TenantRepository",
    "TrackedParcel",
    "TransientStorageError",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


@dataclass(frozen=True)
class ApiKeyRecord:
    id: UUID
    tenant_id: UUID | None
    scope: ApiKeyScope
    name: str
    prefix: str
    key_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyView:
    """An API key as it may be shown: who it is for and when it was made or revoked; its
    ``prefix`` (the first characters of the secret) tells keys apart. Never the secret or
    its hash."""

    id: UUID
    tenant_id: UUID | None
    scope: ApiKeyScope
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IntakeSettings:
    """What order intake reads first about a tenant, in one go."""

    policies: TenantPolicies
    routing_profile: RoutingProfile
    carts_due: bool  # some active cart reservation has run out
    risk_rules: list[RiskRule] | None = None  # the active ones; None: not read here
    # The rate cards of the active carrier services (deployment-wide), in the order
    # carrier_service_rows lists them; None: not read here.
    carrier_rate_cards: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    operation: str
    fingerprint: str
    resource_id: UUID | None


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None
    channel: str | None = None
    customer_email: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class OrderSearch:
    """What the portal's order search asks (every part optional, all combined with AND).

    ``text`` finds an order by its number, its channel's external id, the customer's email,
    a tracking number of one of its shipments (each exactly, case aside) or a part of the
    customer's name."""

    text: str | None = None
    status: str | None = None
    fulfillment_status: str | None = None
    payment_status: str | None = None
    channel: str | None = None
    location_id: UUID | None = None
    hold_reason: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class OrderContact:
    """What a customer proves an order is theirs with: its email and the postal codes of
    its addresses (shipping, then billing)."""

    order_id: UUID
    email: str | None
    postal_codes: tuple[str, ...]


@dataclass(frozen=True)
class QueuedHold:
    """An open hold in the exceptions queue, with the order it stops."""

    hold: Hold
    order_id: UUID
    order_number: int


class LevelToCount(NamedTuple):
    """A level an import may count, as read (``InventoryRepository.levels_to_count``): its
    product, and its figures (``on_hand`` None: the SKU has no level there yet)."""

    sku: str
    location_id: UUID
    product_id: UUID
    holds_stock: bool
    on_hand: int | None
    reserved: int
    safety_stock: int


class LevelCount(NamedTuple):
    """A counted level to set (``InventoryRepository.count_levels``): from the figures it
    was read at (``was_on_hand`` None: there was no level yet) to these, with the
    reference of its ``count`` movement. A tuple: an import makes one per changed row."""

    sku: str
    location_id: UUID
    was_on_hand: int | None
    was_safety_stock: int
    on_hand: int
    safety_stock: int
    reference: str | None


@dataclass(frozen=True)
class NewMovement:
    """A ledger row to write (``InventoryRepository.add_movements``)."""

    sku: str
    location_id: UUID
    kind: MovementKind
    quantity: int
    on_hand_after: int
    reason: str | None
    reference: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class MovementNote:
    """What every movement of one change says (``add_on_hand_with_movements``): its kind,
    why, what it refers to and who made it."""

    kind: MovementKind
    reason: str | None
    reference: str | None
    actor: str

    def movements(
        self, location_id: UUID, units: Mapping[str, int], after: Mapping[str, int], at: datetime
    ) -> list[NewMovement]:
        """A movement per SKU of ``units`` at the location, in SKU order, its on hand after
        as ``after`` says."""
        return [
            NewMovement(
                sku=sku,
                location_id=location_id,
                kind=self.kind,
                quantity=units[sku],
                on_hand_after=after[sku],
                reason=self.reason,
                reference=self.reference,
                actor=self.actor,
                at=at,
            )
            for sku in sorted(units)
        ]


@dataclass(frozen=True)
class InvariantViolation:
    """One inventory row whose books do not balance."""

    tenant_id: UUID
    sku: str
    location_id: UUID
    field: str
    stored: int
    expected: int


class TenantRepository(Protocol):
    def add(self, tenant: Tenant) -> bool: ...
    def get(self, tenant_id: UUID) -> Tenant | None: ...
    def by_slug(self, slug: str) -> Tenant | None: ...
    def slugs_like(self, base: str) -> set[str]: ...
    def list_ids(self) -> list[UUID]: ...
    def all(self) -> list[Tenant]: ...
    def add_api_key(self, record: ApiKeyRecord) -> None: ...
    def api_keys(self, tenant_id: UUID | None = None) -> list[ApiKeyView]: ...
    def principal_for_key(self, key_hash: str) -> Principal | None: ...
    def revoke_api_key(self, key_id: UUID, at: datetime) -> bool: ...
    def next_order_number(self, tenant_id: UUID) -> int: ...
    def next_order_numbers(self, tenant_id: UUID, count: int) -> list[int]: ...
    def policies(self, tenant_id: UUID) -> TenantPolicies: ...
    def set_policies(self, tenant_id: UUID, policies: TenantPolicies) -> None: ...
    def intake_settings(self, tenant_id: UUID, now: datetime) -> IntakeSettings: ...


class CatalogueRepository(Protocol):
    def add(self, product: Product) -> bool: ...
    def update(self, product: Product) -> None: ...
    def add_many(self, new: Sequence[Product]) -> set[str]:
        """``add`` for each product (distinct SKUs) in one statement; the SKUs added."""
        ...

    def get(
        self, tenant_id: UUID, product_id: UUID, *, for_update: bool = False
    ) -> Product | None: ...
    def by_skus(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, Product]: ...
    def page(
        self,
        tenant_id: UUID,
        *,
        after_sku: str | None,
        limit: int,
        archived: bool | None = None,
    ) -> list[Product]: ...
    def on_sale_in_category(
        self,
        tenant_id: UUID,
        category: str,
        *,
        kinds: Iterable[ProductKind],
        currency: str,
        limit: int,
    ) -> list[Product]:
        """Products of ``category`` not archived, of ``kinds``, priced in ``currency``: the
        first ``limit`` in SKU order."""
        ...


class LocationRepository(Protocol):
    def add(self, location: Location) -> bool: ...
    def update(self, location: Location) -> None: ...
    def reserved_units(self, location_id: UUID) -> int: ...
    def get(self, location_id: UUID) -> Location | None: ...
    def visible_to(self, tenant_id: UUID) -> list[Location]: ...
    def grant(self, tenant_id: UUID, location_id: UUID, at: datetime) -> None: ...
    def set_boxes(self, location_id: UUID, boxes: Iterable[Box]) -> None: ...
    def operator_page(self, *, after_code: str | None, limit: int) -> list[Location]: ...
    def operator_locations(self) -> list[Location]: ...


class InventoryRepository(Protocol):
    def levels(
        self, tenant_id: UUID, skus: Iterable[str], location_ids: Iterable[UUID] | None = None
    ) -> list[StockLevel]: ...
    def ensure_level(self, tenant_id: UUID, sku: str, location_id: UUID, at: datetime) -> None: ...
    def compare_and_set(
        self,
        tenant_id: UUID,
        level: StockLevel,
        *,
        on_hand: int,
        safety_stock: int,
        at: datetime,
    ) -> bool: ...
    def try_reserve(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> bool: ...
    def try_reserve_each(
        self, tenant_id: UUID, wanted: Sequence[tuple[str, UUID, int]], at: datetime
    ) -> set[tuple[str, UUID]]: ...
    def release(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> None: ...
    def take_out(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> int: ...
    def add_movement(
        self,
        tenant_id: UUID,
        *,
        sku: str,
        location_id: UUID,
        kind: MovementKind,
        quantity: int,
        on_hand_after: int,
        reason: str | None,
        reference: str | None,
        actor: str,
        at: datetime,
    ) -> UUID: ...
    def movements(
        self,
        tenant_id: UUID,
        sku: str,
        *,
        location_id: UUID | None,
        after_id: UUID | None,
        limit: int,
    ) -> list[Movement]: ...
    def find_violations(self, tenant_id: UUID) -> list[InvariantViolation]: ...
    def levels_to_count(
        self, tenant_id: UUID, keys: Sequence[tuple[str, UUID]]
    ) -> list[LevelToCount]:
        """Each ``(sku, location)`` whose SKU is a product of the tenant, with the level
        there as it is (none: zeros, ``on_hand`` None)."""
        ...

    def count_levels(
        self,
        tenant_id: UUID,
        counts: Sequence[LevelCount],
        *,
        reason: str,
        actor: str,
        at: datetime,
    ) -> int:
        """Set each counted level (one per level; a missing one made) where it is still as
        read and on hand stays at or above reserved, with a ``count`` movement of the
        difference and a stock-push marker, in (SKU, location) order: the number set (a
        level changed meanwhile is left as it is)."""
        ...

    def add_movements(self, tenant_id: UUID, movements: Sequence[NewMovement]) -> None:
        """``add_movement`` for each, in one statement."""
        ...

    def add_on_hand(
        self, tenant_id: UUID, location_id: UUID, units: Mapping[str, int], at: datetime
    ) -> dict[str, int] | None:
        """Add each SKU's units to its level's on hand at the location, in SKU order (a
        level made if it is missing), with a stock-push marker each; each SKU's on hand
        after, or None when one would pass the domain's ``MAX_QUANTITY`` (the caller
        then rolls back)."""
        ...

    def add_on_hand_with_movements(
        self,
        tenant_id: UUID,
        location_id: UUID,
        units: Mapping[str, int],
        at: datetime,
        *,
        note: MovementNote,
    ) -> dict[str, int] | None:
        """``add_on_hand``, and a movement per SKU (``note``'s, its units, its level's on
        hand after) in the ledger; one statement on PostgreSQL. None as ``add_on_hand``
        (the caller then rolls back)."""
        ...

    def changed_page(
        self, tenant_id: UUID, *, since: datetime, after: tuple[str, UUID] | None, limit: int
    ) -> list[StockLevel]:
        """Levels changed at or after ``since`` in (SKU, location) order, after ``after``."""
        ...


class OrderRepository(Protocol):
    def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> bool: ...
    def get(
        self,
        tenant_id: UUID,
        order_id: UUID,
        *,
        with_events: bool = True,
        for_update: bool = False,
    ) -> Order | None: ...
    def get_many(self, tenant_id: UUID, order_ids: Sequence[UUID]) -> list[Order]:
        """The orders of these ids that exist, with their lines, allocations, payments and
        holds but not their timeline (for reading only: one query per table)."""
        ...

    def exists(self, tenant_id: UUID, order_id: UUID) -> bool: ...
    def contact_by_number(self, tenant_id: UUID, number: int) -> OrderContact | None: ...
    def add_all(self, entries: Sequence[tuple[Order, Sequence[OutboxMessage]]]) -> bool: ...
    def ids_by_external_ids(
        self, tenant_id: UUID, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], UUID]: ...
    def id_by_external_id(self, tenant_id: UUID, channel: str, external_id: str) -> UUID | None: ...
    def save(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> None:
        """Write back a changed order, its new events and payments, and ``outbox`` (the
        messages of its new events) in the same transaction."""
        ...

    def page(
        self, tenant_id: UUID, *, filters: OrderFilter, before_id: UUID | None, limit: int
    ) -> list[Order]: ...
    def count_recent(
        self, tenant_id: UUID, *, email: str | None, address: str | None, since: datetime
    ) -> int: ...
    def waiting_for_stock(
        self, tenant_id: UUID, skus: Iterable[str], *, limit: int
    ) -> list[UUID]: ...
    def backordered_skus(self, tenant_id: UUID, *, limit: int) -> list[str]:
        """The SKUs (a bundle's own, not its components) of open orders' backordered
        lines, in SKU order."""
        ...

    def with_lapsed_authorizations(
        self, tenant_id: UUID, now: datetime, *, limit: int
    ) -> list[UUID]: ...
    def open_holds_page(
        self, tenant_id: UUID, *, reason: HoldReason | None, after_id: UUID | None, limit: int
    ) -> list[QueuedHold]: ...
    def search(
        self, tenant_id: UUID | None, *, search: OrderSearch, before_id: UUID | None, limit: int
    ) -> list[Order]:
        """Orders matching ``search``, newest first; ``tenant_id`` None: every tenant's."""
        ...


@dataclass(frozen=True)
class OutboxMessage:
    """An event for the outside world, stored in the same transaction as its change."""

    topic: str
    aggregate_id: UUID
    payload: dict[str, Any]
    created_at: datetime


class OutboxRepository(Protocol):
    def add_many(self, tenant_id: UUID, messages: Sequence[OutboxMessage]) -> None: ...


class IdempotencyRepository(Protocol):
    def get(self, tenant_id: UUID, key: str) -> IdempotencyRecord | None: ...
    def claim(
        self,
        tenant_id: UUID,
        key: str,
        *,
        operation: str,
        fingerprint: str,
        at: datetime,
        resource_id: UUID | None = None,
    ) -> bool:
        """Take ``key`` for this request (False when it is taken): for ``resource_id`` when
        the resource's id is known already, else ``attach`` names it later."""
        ...

    def attach(self, tenant_id: UUID, key: str, resource_id: UUID) -> None: ...


@dataclass(frozen=True)
class CustomerTally:
    """Orders counted for one customer at once (``CustomerRepository.record_orders``);
    ``id`` is used when the customer is new; name and phone are the latest given."""

    id: UUID
    email: str
    name: str | None
    phone: str | None
    orders: int
    first_order_at: datetime
    last_order_at: datetime


@dataclass(frozen=True)
class CustomerRecord:
    """A tenant's customer, matched by normalised email."""

    id: UUID
    email: str
    name: str | None
    phone: str | None
    orders_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    created_at: datetime


class CustomerRepository(Protocol):
    def record_order(
        self, tenant_id: UUID, *, email: str, name: str | None, phone: str | None, at: datetime
    ) -> CustomerRecord: ...
    def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> dict[str, CustomerRecord]: ...
    def record_orders(
        self, tenant_id: UUID, tallies: Sequence[CustomerTally]
    ) -> dict[str, UUID]: ...
    def get(self, tenant_id: UUID, customer_id: UUID) -> CustomerRecord | None: ...
    def page(
        self, tenant_id: UUID, *, email: str | None, after_id: UUID | None, limit: int
    ) -> list[CustomerRecord]: ...


class DiscountRepository(Protocol):
    def add(self, tenant_id: UUID, code: DiscountCode, at: datetime) -> bool: ...
    def get(self, tenant_id: UUID, code_id: UUID) -> DiscountCode | None: ...
    def by_codes(self, tenant_id: UUID, codes: Iterable[str]) -> dict[str, DiscountCode]: ...
    def page(
        self, tenant_id: UUID, *, after_code: str | None, limit: int
    ) -> list[DiscountCode]: ...
    def redeem(
        self, tenant_id: UUID, code: DiscountCode, *, customer_email: str | None
    ) -> str | None: ...


class RiskRuleRepository(Protocol):
    def add(self, tenant_id: UUID, rule: RiskRule, at: datetime) -> None: ...
    def active(self, tenant_id: UUID) -> list[RiskRule]: ...
    def all(self, tenant_id: UUID) -> list[RiskRule]: ...
    def deactivate(self, tenant_id: UUID, rule_id: UUID) -> bool: ...


class CartRepository(Protocol):
    def add(self, tenant_id: UUID, cart: CartReservation) -> None: ...
    def get(
        self, tenant_id: UUID, cart_id: UUID, *, for_update: bool = False
    ) -> CartReservation | None: ...
    def due(self, tenant_id: UUID, now: datetime, *, limit: int) -> list[CartReservation]: ...
    def any_due(self, tenant_id: UUID, now: datetime) -> bool: ...
    def close(
        self,
        tenant_id: UUID,
        cart_id: UUID,
        status: CartStatus,
        at: datetime,
        order_id: UUID | None = None,
    ) -> None: ...


class RoutingRepository(Protocol):
    def current_profile(self, tenant_id: UUID) -> RoutingProfile: ...
    def profile_versions(self, tenant_id: UUID) -> list[tuple[RoutingProfile, datetime, str]]: ...
    def add_profile(
        self, tenant_id: UUID, profile: RoutingProfile, *, actor: str, at: datetime
    ) -> RoutingProfile: ...
    def carrier_service_rows(self, *, active_only: bool = True) -> list[dict[str, Any]]: ...
    def upsert_carrier_service(
        self,
        *,
        carrier: str,
        code: str,
        name: str,
        rate_card: dict[str, Any],
        service_id: UUID,
        at: datetime,
    ) -> bool: ...
    def loads(self, tenant_id: UUID, day: date) -> dict[UUID, int]: ...
    def take_capacity(
        self, tenant_id: UUID, location_id: UUID, day: date, capacity: int | None
    ) -> bool: ...
    def give_back_capacity(self, tenant_id: UUID, location_id: UUID, day: date) -> None: ...


class FulfilmentRepository(Protocol):
    def add(self, fo: FulfillmentOrder) -> None: ...
    def add_many(self, fos: Sequence[FulfillmentOrder]) -> None: ...
    def save(self, fo: FulfillmentOrder) -> None: ...
    def get(
        self, tenant_id: UUID, fo_id: UUID, *, for_update: bool = False
    ) -> FulfillmentOrder | None: ...
    def for_order(self, tenant_id: UUID, order_id: UUID) -> list[FulfillmentOrder]: ...
    def order_id_of(self, tenant_id: UUID, fo_id: UUID) -> UUID | None: ...
    def many(self, tenant_id: UUID, ids: Sequence[UUID]) -> list[FulfillmentOrder]: ...
    def page(
        self,
        tenant_id: UUID | None,
        *,
        location_id: UUID | None,
        statuses: Sequence[str],
        after_id: UUID | None,
        limit: int,
    ) -> list[FulfillmentOrder]: ...
    def waiting_for_wave(
        self, tenant_id: UUID, location_id: UUID, *, limit: int
    ) -> list[FulfillmentOrder]: ...
    def uncollected(self, tenant_id: UUID, now: datetime, *, limit: int) -> list[UUID]: ...
    def add_wave(self, wave: PickWave) -> None: ...
    def get_wave(
        self, tenant_id: UUID, wave_id: UUID, *, for_update: bool = False
    ) -> PickWave | None: ...
    def save_wave(self, wave: PickWave) -> None: ...
    def waves(
        self,
        tenant_id: UUID,
        *,
        location_id: UUID | None,
        status: str | None,
        before_id: UUID | None,
        limit: int,
    ) -> list[PickWave]: ...
    def bins(self, tenant_id: UUID, location_id: UUID, skus: Iterable[str]) -> dict[str, str]: ...
    def set_bins(self, tenant_id: UUID, location_id: UUID, bins: dict[str, str]) -> None: ...
    def all_bins(self, tenant_id: UUID, location_id: UUID) -> dict[str, str]: ...
    def add_package(self, tenant_id: UUID, package: Package) -> None: ...
    def packages_of(self, tenant_id: UUID, fo_id: UUID) -> list[Package]: ...
    def remove_package(self, tenant_id: UUID, package_id: UUID) -> bool: ...
    def mark_shipped(
        self, tenant_id: UUID, package_ids: Sequence[UUID], shipment_id: UUID
    ) -> None: ...


@dataclass(frozen=True)
class TrackedParcel:
    """Whose shipment a carrier's tracking number is: the one lookup shared by all tenants."""

    carrier: str
    tracking_number: str
    tenant_id: UUID
    shipment_id: UUID


class ShipmentRepository(Protocol):
    def add(self, shipment: Shipment) -> None: ...
    def save(self, shipment: Shipment) -> None: ...
    def get(
        self, tenant_id: UUID, shipment_id: UUID, *, with_events: bool = False
    ) -> Shipment | None: ...
    def locate(
        self, tracking_number: str, *, carrier: str | None = None
    ) -> list[TrackedParcel]: ...
    def for_order(self, tenant_id: UUID, order_id: UUID) -> list[Shipment]: ...
    def in_flight(self, *, limit: int) -> list[Shipment]: ...
    def unscanned_since(self, tenant_id: UUID, *, before: datetime, limit: int) -> list[UUID]:
        """Shipments of the tenant on their way (not delivered or returned) whose latest
        scan (or, with none, their label) is older than ``before``, oldest first."""
        ...

    def add_event(
        self, shipment: Shipment, event: TrackingEvent, *, received_at: datetime
    ) -> bool: ...
    def events_of(self, tenant_id: UUID, shipment_id: UUID) -> list[TrackingEvent]: ...
    def next_serial(self, counter: str) -> int: ...
    def created_page(
        self, tenant_id: UUID, *, since: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[Shipment]:
        """Shipments made at or after ``since``, oldest first, after the ``after`` key."""
        ...


class NotificationSettingsRepository(Protocol):
    def get(self, tenant_id: UUID) -> NotificationSettings | None: ...
    def put(self, tenant_id: UUID, settings: NotificationSettings, *, at: datetime) -> None: ...


class InboundRepository(Protocol):
    """Suppliers, purchase orders and inbound shipments (docs/inbound.md)."""

    def add_supplier(self, supplier: Supplier) -> None: ...
    def supplier(self, tenant_id: UUID, supplier_id: UUID) -> Supplier | None: ...
    def suppliers(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[Supplier]: ...
    def add_purchase_order(self, po: PurchaseOrder, *, actor: str) -> None: ...
    def purchase_order(
        self, tenant_id: UUID, po_id: UUID, *, for_update: bool = False
    ) -> PurchaseOrder | None: ...
    def purchase_orders(
        self, tenant_id: UUID | None, *, after_id: UUID | None, limit: int
    ) -> list[PurchaseOrder]: ...
    def save_purchase_order(self, po: PurchaseOrder) -> None: ...
    def incoming(self, tenant_id: UUID, skus: Iterable[str]) -> list[IncomingSupply]: ...
    def backordered_units(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, int]: ...
    def on_order(self, tenant_id: UUID, skus: Iterable[str]) -> dict[tuple[str, str], int]: ...
    def set_supplier_sku(self, tenant_id: UUID, link: SupplierSku, *, at: datetime) -> None: ...
    def supplier_skus(
        self, tenant_id: UUID, *, supplier_id: UUID | None = None
    ) -> list[SupplierSku]: ...
    def add_shipment(self, shipment: InboundShipment) -> None: ...
    def shipment(
        self, tenant_id: UUID, shipment_id: UUID, *, for_update: bool = False
    ) -> InboundShipment | None: ...
    def shipment_tenant(self, shipment_id: UUID) -> UUID | None: ...
    def shipments(
        self, tenant_id: UUID | None, *, after_id: UUID | None, limit: int
    ) -> list[InboundShipment]: ...
    def save_shipment(
        self,
        shipment: InboundShipment,
        *,
        new_lines: Sequence[InboundLine],
        changed: Iterable[str] = (),
    ) -> None: ...
    def claim_scan(
        self, tenant_id: UUID, shipment_id: UUID, scan_id: str, *, actor: str, at: datetime
    ) -> bool: ...
    def add_scan_lines(
        self,
        tenant_id: UUID,
        shipment_id: UUID,
        scan_id: str,
        rows: Sequence[dict[str, Any]],
        *,
        actor: str,
        at: datetime,
    ) -> None: ...
    def exceptions(self, tenant_id: UUID, shipment_id: UUID) -> list[dict[str, Any]]: ...
    def add_putaway(
        self,
        tenant_id: UUID,
        *,
        shipment_id: UUID,
        sku: str,
        bin_code: str,
        quantity: int,
        actor: str,
        at: datetime,
    ) -> None: ...
    def location_bins(self, location_id: UUID) -> tuple[list[str], set[str]]: ...
    def add_count_sheet(self, sheet: CountSheet) -> None: ...
    def count_sheet(
        self, tenant_id: UUID, sheet_id: UUID, *, for_update: bool = False
    ) -> CountSheet | None: ...
    def save_count_sheet(self, sheet: CountSheet) -> None: ...
    def add_transfer(self, transfer: Transfer, *, actor: str) -> None: ...
    def transfer(
        self, tenant_id: UUID, transfer_id: UUID, *, for_update: bool = False
    ) -> Transfer | None: ...
    def save_transfer(self, transfer: Transfer) -> None: ...
    def in_transit(self, tenant_id: UUID, sku: str) -> list[tuple[str, str, int, UUID]]: ...
    def transfers(
        self, tenant_id: UUID | None, *, before_id: UUID | None = None, limit: int
    ) -> list[Transfer]:
        """A page of transfers, newest first: one tenant's or (None) every tenant's."""
        ...

    def add_cartons(
        self,
        tenant_id: UUID,
        shipment_id: UUID,
        cartons: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    ) -> None: ...
    def cartons(self, tenant_id: UUID, shipment_id: UUID) -> dict[str, dict[str, int]]:
        """Each announced carton's contents: code -> {sku: expected}."""
        ...

    def carton_received(self, tenant_id: UUID, shipment_id: UUID) -> dict[tuple[str, str], int]:
        """Units counted by scans naming a carton: (code, sku) -> good + damaged."""
        ...

    def shipment_for_scan(
        self, tenant_id: UUID | None, shipment_id: UUID
    ) -> InboundShipment | None:
        """The shipment with its lines, its row shared with other scans and never with a
        close (which locks it); None when there is no such shipment of ``tenant_id`` (None:
        of any tenant, for the operator's key without OMS-Tenant)."""
        ...

    def count_lines(
        self, tenant_id: UUID, shipment_id: UUID, counts: Mapping[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int, int]]:
        """Add (good, damaged) units to each SKU's line, in SKU order, each under its row's
        lock (a missing line is made with expected 0); each line's (expected, good,
        damaged) after."""
        ...

    def count_sheets(
        self, tenant_id: UUID | None, *, before_id: UUID | None = None, limit: int
    ) -> list[CountSheet]:
        """A page of count sheets, newest first: one tenant's or (None) every tenant's."""
        ...


class TransientStorageError(Exception):
    """A deadlock, serialisation failure or lock timeout: the whole use case may be retried."""


class PlannerStatistics(Protocol):
    def refresh_grown(self) -> None:
        """Have the database gather its query planner's statistics of the tables that hold
        rows but have none, or grew to several times the size their statistics saw (an
        import into new or small tables), in this transaction: the plans made after its
        commit, and those the database keeps, see the tables as they are now."""
        ...


class UnitOfWork(Protocol):
    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def products(self) -> CatalogueRepository: ...
    @property
    def locations(self) -> LocationRepository: ...
    @property
    def inventory(self) -> InventoryRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def discounts(self) -> DiscountRepository: ...
    @property
    def risk_rules(self) -> RiskRuleRepository: ...
    @property
    def carts(self) -> CartRepository: ...
    @property
    def routing(self) -> RoutingRepository: ...
    @property
    def fulfilment(self) -> FulfilmentRepository: ...
    @property
    def shipments(self) -> ShipmentRepository: ...
    @property
    def notification_settings(self) -> NotificationSettingsRepository: ...
    @property
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def webhooks(self) -> WebhookEndpointRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def dashboard(self) -> DashboardRepository: ...
    @property
    def returns(self) -> ReturnRepository: ...
    @property
    def store_credit(self) -> StoreCreditRepository: ...
    @property
    def inbound(self) -> InboundRepository: ...
    @property
    def billing(self) -> BillingRepository: ...
    @property
    def demand(self) -> DemandRepository: ...
    @property
    def rollups(self) -> RollupRepository: ...
    @property
    def analytics(self) -> AnalyticsRepository: ...
    @property
    def stock_changes(self) -> StockChangeRepository: ...
    @property
    def channel_intake(self) -> ChannelIntakeRepository: ...
    @property
    def statistics(self) -> PlannerStatistics: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...
