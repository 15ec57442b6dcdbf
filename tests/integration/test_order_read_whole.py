"""An order read whole in one statement on PostgreSQL (``order_load.load_order``): the same
order, to the last digit, time zone and id, as its read a statement per table
(``load_order_by_table``, the read SQLite keeps), for orders with every kind of child; and
an order locked while another transaction saves it is read as that transaction left it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from oms.adapters.db.repositories.order_load import load_order, load_order_by_table
from oms.adapters.db.repositories.orders import SqlOrderRepository
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.addresses import Address
from oms.domain.catalogue import Location, ProductKind
from oms.domain.holds import Hold, HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import Allocation, Customer, Order, OrderLine
from oms.domain.payments import PaymentKind, PaymentOutcome, PaymentRecord
from oms.domain.pricing import OrderTotals
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_location

pytestmark = pytest.mark.postgres

_NUMBERS = itertools.count(2**62)  # order numbers beyond what a float holds exactly
_READS = list(itertools.product((False, True), repeat=2))  # (with_events, for_update)

# Text as people type it, quotes, backslashes, control characters and emoji included; not
# NUL (PostgreSQL text cannot hold it) nor lone surrogates (not UTF-8).
_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_SHORT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=4)
# NUMERIC(18, 4): up to fourteen digits before the point and four after it.
_MONEY = st.integers(0, 4).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-99999999999999.9999"),
        max_value=Decimal("99999999999999.9999"),
        places=places,
    )
)
_TIME = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)
_UNITS = st.integers(0, 6)


def _json(integers: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none()
        | st.booleans()
        | integers
        | st.floats(allow_nan=False, allow_infinity=False)
        | _TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
        max_leaves=8,
    )


# A new order's events are written with orjson (64-bit integers); later ones with json.dumps.
_DATA_AT_INTAKE = st.dictionaries(_TEXT, _json(st.integers(-(2**63), 2**63 - 1)), max_size=3)
_DATA_LATER = st.dictionaries(_TEXT, _json(st.integers()), max_size=3)


@pytest.fixture(scope="module")
def world(postgres_engine: Engine) -> tuple[SqlUnitOfWorkFactory, UUID, list[Location]]:
    uow_factory = SqlUnitOfWorkFactory(postgres_engine)
    tenant, _ = create_tenant(uow_factory=uow_factory, name="whole reads")
    where = [add_location(uow_factory, tenant.id, code) for code in ("NEAR", "FAR", "STORE")]
    return uow_factory, tenant.id, where


@st.composite
def _lines(draw: st.DrawFn) -> list[OrderLine]:
    # A physical line, a bundle and a digital one, then any.
    kinds = [ProductKind.PHYSICAL, ProductKind.BUNDLE, ProductKind.DIGITAL]
    kinds += draw(st.lists(st.sampled_from(ProductKind), max_size=2))
    lines = []
    for line_no, kind in enumerate(kinds, start=1):
        allocated, backordered, shipped, cancelled = (draw(_UNITS) for _ in range(4))
        delivered = draw(st.integers(0, shipped))
        lines.append(
            OrderLine(
                line_no=line_no,
                sku=f"SKU-{line_no}{draw(_SHORT)}",
                name=draw(_TEXT),
                kind=kind,
                quantity=allocated + backordered + shipped + cancelled,
                unit_price=draw(_MONEY),
                allocated=allocated,
                backordered=backordered,
                shipped=shipped,
                delivered=delivered,
                cancelled=cancelled,
                returned=draw(st.integers(0, delivered)),
                tax=draw(_MONEY),
                discount=draw(_MONEY),
            )
        )
    return lines


def _allocations(
    draw: st.DrawFn, lines: list[OrderLine], where: list[Location]
) -> list[Allocation]:
    found = []
    for line in lines:
        # The first line split over two locations, any other at none, one or more.
        places = where[:2] if line.line_no == 1 else draw(st.lists(st.sampled_from(where)))
        for location in places:
            quantity = draw(st.integers(1, 6))
            released = draw(st.integers(0, quantity))
            found.append(
                Allocation(
                    id=new_id(),
                    line_no=line.line_no,
                    sku=line.sku,
                    location_id=location.id,
                    quantity=quantity,
                    released=released,
                    fulfilled=draw(st.integers(0, quantity - released)),
                    created_at=draw(_TIME),
                )
            )
    return found


def _payments(draw: st.DrawFn, currency: str) -> list[PaymentRecord]:
    kinds = [PaymentKind.AUTHORIZATION, PaymentKind.CAPTURE, PaymentKind.REFUND]
    kinds += draw(st.lists(st.sampled_from(PaymentKind), max_size=2))
    found: list[PaymentRecord] = []
    for n, kind in enumerate(kinds):
        found.append(
            PaymentRecord(
                id=new_id(),
                kind=kind,
                amount=draw(_MONEY),
                currency=currency,
                outcome=draw(st.sampled_from(PaymentOutcome)),
                gateway=draw(st.sampled_from(["manual", "test", "störe ✓"])),
                gateway_reference=draw(st.none() | _TEXT),
                created_at=draw(_TIME),
                parent_id=found[-1].id if found and draw(st.booleans()) else None,
                expires_at=draw(st.none() | _TIME),
                idempotency_key=draw(st.none() | st.just(f"key-{n}")),
                message=draw(st.none() | _TEXT),
                return_id=draw(st.none() | st.builds(new_id)),
            )
        )
    return found


def _holds(draw: st.DrawFn) -> list[Hold]:
    holds = []
    for _ in range(draw(st.integers(0, 3))):
        released = draw(st.booleans())
        holds.append(
            Hold(
                id=new_id(),
                reason=draw(st.sampled_from(HoldReason)),
                created_at=draw(_TIME),
                due_at=draw(_TIME),
                note=draw(st.none() | _TEXT),
                created_by=draw(_TEXT),
                released_at=draw(_TIME) if released else None,
                released_by=draw(_TEXT) if released else None,
                release_note=draw(_TEXT) if released else None,
            )
        )
    return holds


@st.composite
def _orders(draw: st.DrawFn, tenant_id: UUID, where: list[Location]) -> Order:
    lines = draw(_lines())
    created_at = draw(_TIME)
    order = Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=next(_NUMBERS),
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(email=draw(st.none() | _TEXT), name=draw(_TEXT)),
        shipping_address=Address(country="DE", name=draw(_TEXT), line1=draw(_TEXT)),
        billing_address=None,
        lines=lines,
        created_at=created_at,
        updated_at=created_at,
        tags=draw(st.lists(_TEXT, max_size=2)),
        allocations=_allocations(draw, lines, where),
        holds=_holds(draw),
        totals=OrderTotals(
            lines=(),
            subtotal=draw(_MONEY),
            discount_total=draw(_MONEY),
            shipping=draw(_MONEY),
            shipping_discount=draw(_MONEY),
            tax_total=draw(_MONEY),
            total=draw(_MONEY),
        ),
    )
    for record in _payments(draw, order.currency):
        order.add_payment(record)
    for data in draw(st.lists(_DATA_AT_INTAKE, min_size=1, max_size=4)):
        order.record(
            draw(_SHORT) or "note", actor=TESTER, at=draw(_TIME), reason=draw(_TEXT), data=data
        )
    return order


def _plain_order(tenant_id: UUID, location: Location) -> Order:
    """An order of one line allocated at ``location``, captured, with its first event."""
    at = datetime(2029, 12, 1, 9, 30, tzinfo=UTC)
    line = OrderLine(
        line_no=1,
        sku="X",
        name="Ex",
        kind=ProductKind.PHYSICAL,
        quantity=2,
        unit_price=Decimal("9.9900"),
        allocated=2,
    )
    order = Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=next(_NUMBERS),
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(email="erika@example.com"),
        shipping_address=None,
        billing_address=None,
        lines=[line],
        created_at=at,
        allocations=[
            Allocation(
                id=new_id(), line_no=1, sku="X", location_id=location.id, quantity=2, created_at=at
            )
        ],
    )
    order.add_payment(
        PaymentRecord(
            id=new_id(),
            kind=PaymentKind.CAPTURE,
            amount=Decimal("19.98"),
            currency="EUR",
            outcome=PaymentOutcome.SUCCEEDED,
            gateway="manual",
            gateway_reference=None,
            created_at=at,
        )
    )
    order.record("order.placed", actor=TESTER, at=at)
    return order


def _both_reads(engine: Engine, tenant_id: UUID, order_id: UUID) -> Iterator[tuple[Order, Order]]:
    with engine.connect() as conn:
        for with_events, for_update in _READS:
            how = {"with_events": with_events, "for_update": for_update}
            whole = load_order(conn, tenant_id, order_id, **how)
            by_table = load_order_by_table(conn, tenant_id, order_id, **how)
            assert whole is not None
            assert by_table is not None
            yield whole, by_table


@settings(max_examples=40)
@given(data=st.data())
def test_the_order_read_in_one_statement_is_the_order_read_per_table(
    world: tuple[SqlUnitOfWorkFactory, UUID, list[Location]], data: st.DataObject
) -> None:
    uow_factory, tenant_id, where = world
    order = data.draw(_orders(tenant_id, where))
    with uow_factory() as uow:
        assert uow.orders.add(order)
        uow.commit()
    later = data.draw(_DATA_LATER)  # a change saved later: an event and the row again
    with uow_factory() as uow:
        locked = uow.orders.get(tenant_id, order.id, for_update=True)
        assert locked is not None
        locked.record("note.added", actor=TESTER, at=data.draw(_TIME), data=later)
        uow.orders.save(locked)
        uow.commit()

    for whole, by_table in _both_reads(uow_factory.engine, tenant_id, order.id):
        assert whole == by_table
        # Equal and alike: a Decimal's places, a time's zone, every type as it was.
        assert repr(whole) == repr(by_table)
        assert len(whole.lines) == len(order.lines)
        assert len(whole.allocations) == len(order.allocations)
        assert len(whole.payments) == len(order.payments)
        assert len(whole.holds) == len(order.holds)


def test_a_missing_order_reads_as_none(
    world: tuple[SqlUnitOfWorkFactory, UUID, list[Location]],
) -> None:
    uow_factory, tenant_id, _ = world
    with uow_factory.engine.connect() as conn:
        for with_events, for_update in _READS:
            how = {"with_events": with_events, "for_update": for_update}
            assert load_order(conn, tenant_id, new_id(), **how) is None


def _waiting_for(engine: Engine, holder: int) -> None:
    """Return once a session waits for a lock ``holder`` (a backend's pid) holds."""
    with engine.connect() as conn:
        for _ in range(2000):
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": holder},
            )
            conn.rollback()  # the activity is read once per transaction
            if waiting:
                return
            time.sleep(0.005)
    raise AssertionError("no session waited for the lock")


@pytest.mark.parametrize("with_events", [False, True])
def test_an_order_locked_while_another_transaction_saves_it_is_read_as_saved(
    world: tuple[SqlUnitOfWorkFactory, UUID, list[Location]], with_events: bool
) -> None:
    uow_factory, tenant_id, where = world
    order = _plain_order(tenant_id, where[0])
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    engine = uow_factory.engine
    refund = PaymentRecord(
        id=new_id(),
        kind=PaymentKind.REFUND,
        amount=Decimal("12.3400"),
        currency="EUR",
        outcome=PaymentOutcome.SUCCEEDED,
        gateway="manual",
        gateway_reference=None,
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
    )

    def read_locked() -> Order | None:
        with engine.connect() as conn:
            return load_order(conn, tenant_id, order.id, with_events=with_events, for_update=True)

    with ThreadPoolExecutor(1) as pool, engine.connect() as first:
        saving = SqlOrderRepository(first)
        locked = saving.get(tenant_id, order.id, for_update=True)
        assert locked is not None
        locked.add_payment(refund)
        locked.record("payment.refunded", actor=TESTER, at=refund.created_at)
        saving.save(locked)
        holder = first.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert isinstance(holder, int)
        second = pool.submit(read_locked)
        _waiting_for(engine, holder)  # (leaving the block unlocks the order whatever happens)
        first.commit()
        seen = second.result()

    with engine.connect() as conn:
        saved = load_order_by_table(
            conn, tenant_id, order.id, with_events=with_events, for_update=False
        )
    assert seen is not None
    assert refund.id in {p.id for p in seen.payments}
    assert seen == saved
