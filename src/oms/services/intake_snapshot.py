"""The snapshot an intake group places its orders in (``oms.services.intake_group``).

``GroupSnapshot`` stands in for the unit of work while each order of a group is placed by
``intake.place_in``. Every repository method the intake calls is answered as the database
would answer it in a transaction of that order's own: from reads made once for the whole
group (settings, products, locations, stock levels, customers, known external ids), less
what the group's earlier orders took, or passed through to the real unit of work when the
answer cannot depend on the group's own writes. Any other method raises ``NotGroupable``,
and the order is placed alone. ``write`` then writes what the kept orders did, in the
intake's lock order, and says whether the database still agreed.

An order released at once (paid through a gateway that calls nothing outside the
database, and clean) is inserted once with its release's events, as alone; its fulfilment
orders (``fulfilment.add_many``) are written after the group's orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

from oms.domain.catalogue import Location, Product, unit_demand, weighed_by
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.ids import new_id
from oms.domain.inventory import StockLevel
from oms.domain.orders import Order, OrderEvent
from oms.domain.payments import PaymentRecord
from oms.services.intake import PlaceOrder
from oms.services.ports import (
    CustomerRecord,
    CustomerTally,
    IntakeSettings,
    OutboxMessage,
    UnitOfWork,
)

__all__ = ["GroupSnapshot", "NotGroupable"]


class NotGroupable(Exception):
    """The order needs something the group's snapshot cannot answer: place it alone."""


@dataclass
class _Customer:
    """A customer as the database would hold it after the group's orders so far (``record``),
    and what those orders add to the stored row."""

    record: CustomerRecord
    orders: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    name: str | None = None  # the latest name given in the group
    phone: str | None = None


@dataclass(slots=True, eq=False)  # eq=False: found in lists by identity
class _Stock:
    """One stock row as read for the group, and what the group's orders took of it."""

    tenant_id: UUID
    level: StockLevel
    reserved: int = 0  # by the orders kept
    taking: int = 0  # by the order being placed

    def now(self) -> StockLevel:
        """The row as the order being placed would read it."""
        taken = self.reserved + self.taking
        if not taken:
            return self.level
        level = self.level
        return StockLevel(
            level.sku, level.location_id, level.on_hand, level.reserved + taken, level.safety_stock
        )


class GroupSnapshot:
    """The unit of work the group's orders are placed in (see the module's docstring).

    Each repository the intake uses is a part below: it answers from the reads made once
    for the group, or passes a read through when its answer cannot depend on the group's
    own writes. Any other method of any repository raises ``NotGroupable``.
    """

    def __init__(self, uow: UnitOfWork, orders: Sequence[tuple[UUID, PlaceOrder]]) -> None:
        """Read what ``orders`` (tenant, command) will need, in ``uow``'s transaction."""
        self.uow = uow
        self.remaining: dict[UUID, int] = defaultdict(int)
        external: dict[UUID, set[tuple[str, str]]] = defaultdict(set)
        skus: dict[UUID, set[str]] = defaultdict(set)
        emails: dict[UUID, set[str]] = defaultdict(set)
        for tenant_id, command in orders:
            self.remaining[tenant_id] += 1
            if command.external_id is not None:
                external[tenant_id].add((command.channel, command.external_id))
            skus[tenant_id].update(line.sku for line in command.lines)
            if command.customer.email:
                emails[tenant_id].add(command.customer.email.strip().lower())
        self.external = {t: uow.orders.ids_by_external_ids(t, keys) for t, keys in external.items()}
        self.asked_external = {(t, c, e) for t, keys in external.items() for c, e in keys}
        self.known_products: dict[UUID, dict[str, Product]] = {}
        self.known_locations: dict[UUID, list[Location]] = {}
        # One entry per stock row read, by (tenant, SKU, location): looked up about a dozen
        # times per order, so one lookup answers the row and what was taken of it. Keyed by
        # the ids' integers: a UUID hashes in Python (a call per lookup), an int in C.
        self.stock: dict[tuple[int, str, int], _Stock] = {}
        self.level_skus: dict[UUID, set[str]] = {}
        for tenant_id, wanted in skus.items():
            products = uow.products.by_skus(tenant_id, wanted)
            parts = {sku for p in products.values() for sku in weighed_by(p)} - products.keys()
            if parts:  # what a bundle without a weight of its own weighs (services.routing)
                products = {**products, **uow.products.by_skus(tenant_id, parts)}
            self.known_products[tenant_id] = products
            located = uow.locations.visible_to(tenant_id)
            self.known_locations[tenant_id] = located
            components = {sku for p in products.values() for sku in unit_demand(p)}
            self.level_skus[tenant_id] = components
            for level in uow.inventory.levels(tenant_id, components, [c.id for c in located]):
                key = (tenant_id.int, level.sku, level.location_id.int)
                self.stock[key] = _Stock(tenant_id, level)
        self.known_customers: dict[tuple[UUID, str], _Customer] = {}
        for tenant_id, wanted in emails.items():
            for email, record in uow.customers.by_emails(tenant_id, wanted).items():
                self.known_customers[(tenant_id, email)] = _Customer(record)
        self.absent_emails = {
            (t, e) for t, wanted in emails.items() for e in wanted
        } - self.known_customers.keys()
        self.numbers: dict[UUID, list[int]] = defaultdict(list)
        # What the kept orders did.
        self.kept_orders: list[tuple[Order, Sequence[OutboxMessage]]] = []
        self.kept_external: set[tuple[UUID, str, str]] = set()
        self.kept_fulfilment: list[FulfillmentOrder] = []
        # What the order being placed did so far.
        self.tenant: UUID | None = None
        self.taking: list[_Stock] = []  # the rows it takes stock of
        self.counting: dict[tuple[UUID, str], _Customer] = {}
        self.numbered: list[int] = []
        self.adding: tuple[Order, list[OutboxMessage]] | None = None
        # What its insert will write beside it: the events and payments the real add
        # would have taken (and cleared), and the fulfilment orders of its release.
        self.unwritten: tuple[list[OrderEvent], list[PaymentRecord]] = ([], [])
        self.fulfilling: list[FulfillmentOrder] = []
        # The repositories the intake uses, as attributes (the intake reaches them a few
        # dozen times per order); any other is refused by __getattr__.
        self.tenants = _Tenants(self)
        self.products = _Products(self)
        self.locations = _Locations(self)
        self.inventory = _Inventory(self)
        self.orders = _Orders(self)
        self.customers = _Customers(self)
        self.routing = _Routing(self)
        self.risk_rules = _RiskRules(self)
        self.inbound = _Inbound(self)
        self.outbox = _Outbox(self)
        self.fulfilment = _Fulfilment(self)

    def __getattr__(self, name: str) -> Any:
        raise NotGroupable(name)

    def begin(self, tenant_id: UUID) -> None:
        """Start placing an order of ``tenant_id``: nothing taken, counted or added yet."""
        self.tenant = tenant_id
        for stock in self.taking:
            stock.taking = 0
        self.taking.clear()
        self.counting.clear()
        self.numbered.clear()
        self.adding = None
        self.unwritten = ([], [])
        self.fulfilling = []

    def keep(self) -> None:
        for stock in self.taking:
            stock.reserved += stock.taking
            stock.taking = 0
        self.taking.clear()
        self.known_customers.update(self.counting)
        if self.adding is not None:
            order = self.adding[0]
            events, payments = self.unwritten
            order.new_events[:0] = events
            order.new_payments[:0] = payments
            self.kept_orders.append(self.adding)
            self.kept_fulfilment.extend(self.fulfilling)
            if order.external_id is not None:
                self.kept_external.add((order.tenant_id, order.channel, order.external_id))
        self._done()

    def discard(self) -> None:
        if self.tenant is not None:  # numbers taken and not used go back, in order
            self.numbers[self.tenant][:0] = self.numbered
        self._done()

    def _done(self) -> None:
        if self.tenant is not None:
            self.remaining[self.tenant] -= 1
            self.begin(self.tenant)
        self.tenant = None

    def has_writes(self) -> bool:
        return bool(self.kept_orders)

    def write(self, *, at: datetime) -> bool:
        """Write what the kept orders did; False when the database moved meanwhile (the
        caller rolls back). Stock, then customers, then orders: the intake's lock order."""
        by_tenant: dict[UUID, list[tuple[str, UUID, int]]] = defaultdict(list)
        for stock in self.stock.values():
            if stock.reserved < 0:
                return False
            if stock.reserved:
                level = stock.level
                by_tenant[stock.tenant_id].append((level.sku, level.location_id, stock.reserved))
        for tenant_id, wanted in sorted(by_tenant.items(), key=lambda item: str(item[0])):
            if len(self.uow.inventory.try_reserve_each(tenant_id, wanted, at)) != len(wanted):
                return False
        tallies: dict[UUID, list[CustomerTally]] = defaultdict(list)
        expected: dict[UUID, dict[str, UUID]] = defaultdict(dict)
        for (tenant_id, email), customer in self.known_customers.items():
            if customer.orders == 0:
                continue
            assert customer.first_order_at is not None
            assert customer.last_order_at is not None
            tallies[tenant_id].append(
                CustomerTally(
                    id=customer.record.id,
                    email=email,
                    name=customer.name,
                    phone=customer.phone,
                    orders=customer.orders,
                    first_order_at=customer.first_order_at,
                    last_order_at=customer.last_order_at,
                )
            )
            expected[tenant_id][email] = customer.record.id
        for tenant_id, rows in sorted(tallies.items(), key=lambda item: str(item[0])):
            if self.uow.customers.record_orders(tenant_id, rows) != expected[tenant_id]:
                return False  # a customer taken for new was stored meanwhile
        if not self.uow.orders.add_all(self.kept_orders):
            return False
        self.uow.fulfilment.add_many(self.kept_fulfilment)
        return True

    def entry(self, tenant_id: UUID, sku: str, location_id: UUID) -> _Stock | None:
        """The stock row read for the group, None when there is none; NotGroupable for a
        SKU the group did not read."""
        stock = self.stock.get((tenant_id.int, sku, location_id.int))
        if stock is None and sku not in self.level_skus.get(tenant_id, ()):
            raise NotGroupable(f"stock of {sku}")
        return stock


class _Part:
    """One repository of the snapshot; what it does not answer, it refuses."""

    def __init__(self, snapshot: GroupSnapshot) -> None:
        self.s = snapshot

    def __getattr__(self, name: str) -> NoReturn:
        raise NotGroupable(f"{type(self).__name__[1:].lower()}.{name}")


class _Tenants(_Part):
    def __init__(self, snapshot: GroupSnapshot) -> None:
        super().__init__(snapshot)
        self.settings: dict[UUID, IntakeSettings] = {}

    def intake_settings(self, tenant_id: UUID, now: datetime) -> IntakeSettings:
        if tenant_id not in self.settings:
            self.settings[tenant_id] = self.s.uow.tenants.intake_settings(tenant_id, now)
        return self.settings[tenant_id]

    def next_order_number(self, tenant_id: UUID) -> int:
        numbers = self.s.numbers[tenant_id]
        if not numbers:
            count = max(1, self.s.remaining[tenant_id])
            numbers.extend(self.s.uow.tenants.next_order_numbers(tenant_id, count))
        number = numbers.pop(0)
        self.s.numbered.append(number)
        return number


class _Products(_Part):
    def by_skus(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, Product]:
        known = self.s.known_products.get(tenant_id)
        if known is None:
            raise NotGroupable("products of another tenant")
        return {sku: known[sku] for sku in skus if sku in known}


class _Locations(_Part):
    def visible_to(self, tenant_id: UUID) -> list[Location]:
        known = self.s.known_locations.get(tenant_id)
        if known is None:
            raise NotGroupable("locations of another tenant")
        return list(known)


class _Routing(_Part):
    def __init__(self, snapshot: GroupSnapshot) -> None:
        super().__init__(snapshot)
        self.rows: list[dict[str, Any]] | None = None

    def carrier_service_rows(self, *, active_only: bool = True) -> list[dict[str, Any]]:
        if not active_only:
            raise NotGroupable("routing.carrier_service_rows")
        if self.rows is None:
            self.rows = self.s.uow.routing.carrier_service_rows()
        return self.rows


class _Inbound(_Part):
    """Incoming supply for a backorder's promise (oms.services.incoming): purchase orders
    pass through; the units already waiting count the group's kept orders too."""

    def incoming(self, tenant_id: UUID, skus: Iterable[str]) -> list[Any]:
        return self.s.uow.inbound.incoming(tenant_id, skus)

    def backordered_units(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, int]:
        wanted = set(skus)
        found = self.s.uow.inbound.backordered_units(tenant_id, wanted)
        for order, _ in self.s.kept_orders:
            if order.tenant_id != tenant_id:
                continue
            for line in order.lines:
                if line.backordered and line.sku in wanted:
                    found[line.sku] = found.get(line.sku, 0) + line.backordered
        return found


class _RiskRules(_Part):
    def __init__(self, snapshot: GroupSnapshot) -> None:
        super().__init__(snapshot)
        self.rules: dict[UUID, list[Any]] = {}

    def active(self, tenant_id: UUID) -> list[Any]:
        if tenant_id not in self.rules:
            self.rules[tenant_id] = self.s.uow.risk_rules.active(tenant_id)
        return list(self.rules[tenant_id])


class _Inventory(_Part):
    """Stock: the group's read, less what its orders took; the same conditions."""

    def levels(
        self, tenant_id: UUID, skus: Iterable[str], location_ids: Iterable[UUID] | None = None
    ) -> list[StockLevel]:
        if location_ids is None:
            raise NotGroupable("inventory.levels at every location")
        # Each location once, in id order (a UUID sorts by its integer), without hashing UUIDs.
        places = [at for _, at in sorted({at.int: at for at in location_ids}.items())]
        entry = self.s.entry
        found = []
        for sku in sorted(set(skus)):
            for at in places:
                if (stock := entry(tenant_id, sku, at)) is not None:
                    found.append(stock.now())
        return found

    def try_reserve(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> bool:
        stock = self.s.entry(tenant_id, sku, location_id)
        if stock is None:
            return False
        level = stock.level
        taken = stock.reserved + stock.taking
        if level.on_hand - level.reserved - taken - level.safety_stock < quantity:
            return False
        if stock not in self.s.taking:
            self.s.taking.append(stock)
        stock.taking += quantity
        return True

    def try_reserve_each(
        self, tenant_id: UUID, wanted: Sequence[tuple[str, UUID, int]], at: datetime
    ) -> set[tuple[str, UUID]]:
        if len({(sku, location_id.int) for sku, location_id, _ in wanted}) != len(wanted):
            raise ValueError("each row may be reserved once per call")
        return {
            (sku, location_id)
            for sku, location_id, quantity in sorted(wanted)
            if self.try_reserve(tenant_id, sku, location_id, quantity, at)
        }

    def release(
        self, tenant_id: UUID, sku: str, location_id: UUID, quantity: int, at: datetime
    ) -> None:
        stock = self.s.entry(tenant_id, sku, location_id)
        if stock is None or stock.level.reserved + stock.reserved + stock.taking < quantity:
            raise RuntimeError(f"cannot release {quantity} of {sku} at {location_id}")
        if stock not in self.s.taking:
            self.s.taking.append(stock)
        stock.taking -= quantity


class _Customers(_Part):
    """Counted as the database would count them, one order after another."""

    def record_order(
        self, tenant_id: UUID, *, email: str, name: str | None, phone: str | None, at: datetime
    ) -> CustomerRecord:
        key = (tenant_id, email)
        was = self.s.counting.get(key) or self._customer(key, at)
        before = was.record
        # Built field by field rather than with dataclasses.replace, which costs several
        # times as much (this runs for every order of a group).
        after = CustomerRecord(
            id=before.id,
            email=before.email,
            name=before.name if name is None else name,
            phone=before.phone if phone is None else phone,
            orders_count=before.orders_count + 1,
            first_order_at=before.first_order_at or at,
            last_order_at=at,
            created_at=before.created_at,
        )
        self.s.counting[key] = _Customer(
            after,
            orders=was.orders + 1,
            first_order_at=was.first_order_at or at,
            last_order_at=at,
            name=was.name if name is None else name,
            phone=was.phone if phone is None else phone,
        )
        # As the stored repository answers: the customer as it was before this order.
        return CustomerRecord(
            id=after.id,
            email=after.email,
            name=after.name,
            phone=after.phone,
            orders_count=before.orders_count,
            first_order_at=after.first_order_at if after.orders_count > 1 else None,
            last_order_at=at,
            created_at=after.created_at,
        )

    def _customer(self, key: tuple[UUID, str], at: datetime) -> _Customer:
        if key in self.s.known_customers:
            return self.s.known_customers[key]
        tenant_id, email = key
        if key not in self.s.absent_emails:  # normalised otherwise than guessed: ask
            found = self.s.uow.customers.by_emails(tenant_id, [email]).get(email)
            if found is not None:
                return _Customer(found)
        new = CustomerRecord(
            id=new_id(),
            email=email,
            name=None,
            phone=None,
            orders_count=0,
            first_order_at=None,
            last_order_at=None,
            created_at=at,
        )
        return _Customer(new)


class _Orders(_Part):
    def id_by_external_id(self, tenant_id: UUID, channel: str, external_id: str) -> UUID | None:
        if (tenant_id, channel, external_id) in self.s.kept_external:
            raise NotGroupable("a second copy of an order in the group")
        if (tenant_id, channel, external_id) in self.s.asked_external:
            return self.s.external[tenant_id].get((channel, external_id))
        return self.s.uow.orders.id_by_external_id(tenant_id, channel, external_id)

    def get(
        self,
        tenant_id: UUID,
        order_id: UUID,
        *,
        with_events: bool = True,
        for_update: bool = False,
    ) -> Order | None:
        # Only an order stored before the group is ever asked for (an earlier copy).
        return self.s.uow.orders.get(
            tenant_id, order_id, with_events=with_events, for_update=for_update
        )

    def add(self, order: Order, *, outbox: Sequence[OutboxMessage] = ()) -> bool:
        if (order.tenant_id, order.channel, order.external_id) in self.s.kept_external:
            raise NotGroupable("a second copy of an order in the group")
        self.s.adding = (order, list(outbox))
        self.s.unwritten = (list(order.new_events), list(order.new_payments))
        order.new_events.clear()  # as the real add does: later saves write only what follows
        order.new_payments.clear()
        return True


class _Outbox(_Part):
    def add_many(self, tenant_id: UUID, messages: Sequence[OutboxMessage]) -> None:
        if self.s.adding is None or self.s.adding[0].tenant_id != tenant_id:
            raise NotGroupable("outbox.add_many beside no order")
        self.s.adding[1].extend(messages)


class _Fulfilment(_Part):
    def add_many(self, fos: Sequence[FulfillmentOrder]) -> None:
        """The first fulfilment orders of the order being added (released at once)."""
        if fos and (self.s.adding is None or any(fo.order_id != self.s.adding[0].id for fo in fos)):
            raise NotGroupable("fulfilment beside no order")
        self.s.fulfilling.extend(fos)
