"""Money an order no longer owes is never kept silently, whatever happens to the order.

A hypothesis state machine drives the use cases on SQLite (place, authorize, capture, refund,
void, edit lines down and up, fix the address, cancel, pick-pack-ship part of an order) under
either overpayment policy, and after every step reads each order back and checks:

* ``refunded <= captured``, always;
* ``captured - refunded <= total`` unless a ``refund_due`` item is open, and such an item is
  open exactly while the order keeps more than its total (with the ``refund`` policy, never:
  every step here can reach the gateways, which refund at once);
* ``refund_due`` and what is still owed are never negative, never both above zero;
* authorizing "what is owed" never asks for a negative amount.

A step the rules refuse (409, 422, 412...) changes nothing and the machine goes on. The
rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Environment, Settings
from oms.domain.addresses import Address
from oms.domain.errors import Conflict, NotFound, OmsError
from oms.domain.holds import HoldReason
from oms.domain.money import round_money
from oms.domain.orders import Order
from oms.domain.payments import PaymentKind, amount_due, refund_due
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.status import OrderStatus
from oms.services import catalogue, intake
from oms.services.carriers import import_rate_cards
from oms.services.editing import LineChange, OrderEdit, edit_order
from oms.services.orders import cancel_order, get_order
from oms.services.packing import PackRequest, pack
from oms.services.payments import PaymentRequest, pay
from oms.services.picking import confirm_picks, create_wave
from oms.services.policies import update_policies
from oms.services.shipping import ShipRequest, create_shipment
from oms.services.tenants import create_tenant
from oms.wiring import carrier_provider
from tests.builders import TESTER, add_product, order_of, set_stock, tenant_principal
from tests.integration.test_routing import COLOGNE, RATES

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
EUR = "EUR"
CARRIERS = carrier_provider(Settings(database_url="sqlite://", environment=Environment.TEST))
PICKUP_KEY = PickupCodeKey("a test deployment's secret key")
PAYMENTS = {
    "captured": intake.ChannelPayment(gateway="manual", captured=True),
    "authorized": intake.ChannelPayment(gateway="test", token="tok_approve"),
    "none": None,
}
fractions = st.none() | st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal(2)])


@pytest.fixture(scope="module")
def balance_uow(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[SqlUnitOfWorkFactory]:
    path = tmp_path_factory.mktemp("balance") / "balance.db"
    shutil.copyfile(sqlite_template, path)  # migrated
    url = f"sqlite:///{path}"
    engine: Engine = build_engine(Settings(database_url=url, environment=Environment.TEST))
    uow_factory = SqlUnitOfWorkFactory(engine)
    import_rate_cards(uow_factory=uow_factory, principal=None, text=RATES, fmt="yaml")
    yield uow_factory
    engine.dispose()


def _amount(total: Decimal, fraction: Decimal | None) -> Decimal | None:
    if fraction is None:
        return None
    return max(Decimal("0.01"), round_money((total or Decimal(10)) * fraction, EUR))


class PaymentBalance(RuleBasedStateMachine):
    uow: SqlUnitOfWorkFactory

    def __init__(self) -> None:
        super().__init__()
        self.clock = T0
        self.orders: list[UUID] = []
        self.tenant_id = UUID(int=0)
        self.policy = "review"

    def _now(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def _order(self, index: int) -> Order:
        return get_order(
            uow_factory=self.uow,
            tenant_id=self.tenant_id,
            order_id=self.orders[index % len(self.orders)],
        )

    @initialize(policy=st.sampled_from(["refund", "review"]))
    def shop(self, policy: str) -> None:
        tenant, _ = create_tenant(uow_factory=self.uow, name="balance")
        self.tenant_id, self.policy = tenant.id, policy
        catalogue.create_location(
            uow_factory=self.uow,
            principal=tenant_principal(tenant.id),
            command=catalogue.NewLocation(
                code="NEAR",
                name="Near",
                latitude=50.88,
                longitude=7.06,
                address=Address(country="DE", line1="NEAR 1", city="Koeln"),
            ),
        )
        for sku, price in (("X", "20.00"), ("Y", "24.00")):
            add_product(self.uow, tenant.id, sku, price=price)
            set_stock(self.uow, tenant.id, sku, "NEAR", 500)
        update_policies(uow_factory=self.uow, tenant_id=tenant.id, raw={"overpayment": policy})

    @rule(
        x=st.integers(0, 3),
        y=st.integers(0, 2),
        payment=st.sampled_from(sorted(PAYMENTS)),
        held=st.booleans(),
        shipping=st.sampled_from(["0", "4.95"]),
    )
    def place(self, x: int, y: int, payment: str, held: bool, shipping: str) -> None:
        lines = [(sku, n) for sku, n in (("X", x), ("Y", y)) if n] or [("X", 1)]
        # Without an address it is held, so it can still be edited (and fixed later).
        command = replace(
            order_of(*lines, payment=PAYMENTS[payment]),
            shipping_address=None if held else COLOGNE,
            shipping_price=Decimal(shipping),
        )
        placed = intake.place_order(
            uow_factory=self.uow,
            gateways=gateway_named,
            tenant_id=self.tenant_id,
            command=command,
            actor=TESTER,
            at=self._now(),
        )
        self.orders.append(placed.order.id)

    def _pay(self, index: int, request: PaymentRequest) -> None:
        order = self._order(index)
        # "What is owed" is never refused as a bad amount (a negative one): only 409s.
        refusals: tuple[type[OmsError], ...] = (
            (OmsError,) if request.amount is not None else (Conflict, NotFound)
        )
        with contextlib.suppress(*refusals):
            pay(
                uow_factory=self.uow,
                gateways=gateway_named,
                tenant_id=self.tenant_id,
                order_id=order.id,
                request=request,
                actor=TESTER,
                at=self._now(),
            )

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), fraction=fractions)
    def authorize(self, index: int, fraction: Decimal | None) -> None:
        amount = _amount(self._order(index).total, fraction)
        self._pay(index, PaymentRequest(PaymentKind.AUTHORIZATION, amount, gateway="test"))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), fraction=fractions)
    def capture(self, index: int, fraction: Decimal | None) -> None:
        amount = _amount(self._order(index).total, fraction)
        self._pay(index, PaymentRequest(PaymentKind.CAPTURE, amount))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), fraction=fractions)
    def refund(self, index: int, fraction: Decimal | None) -> None:
        amount = _amount(self._order(index).total, fraction)
        self._pay(index, PaymentRequest(PaymentKind.REFUND, amount))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99))
    def void(self, index: int) -> None:
        self._pay(index, PaymentRequest(PaymentKind.VOID))

    @precondition(lambda self: self.orders)
    @rule(
        index=st.integers(0, 99),
        line=st.sampled_from([1, 2, "X", "Y"]),
        quantity=st.integers(0, 3),
        fix_address=st.booleans(),
    )
    def edit(self, index: int, line: int | str, quantity: int, fix_address: bool) -> None:
        order = self._order(index)
        change = (
            LineChange(quantity=quantity, line_no=line)
            if isinstance(line, int)
            else LineChange(quantity=quantity, sku=line)
        )
        with contextlib.suppress(OmsError):
            edit_order(
                uow_factory=self.uow,
                gateways=gateway_named,
                tenant_id=self.tenant_id,
                order_id=order.id,
                edit=OrderEdit(lines=(change,), shipping_address=COLOGNE if fix_address else None),
                expected_version=order.version,
                actor=TESTER,
                at=self._now(),
            )

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99))
    def cancel(self, index: int) -> None:
        with contextlib.suppress(OmsError):
            cancel_order(
                uow_factory=self.uow,
                gateways=gateway_named,
                tenant_id=self.tenant_id,
                order_id=self._order(index).id,
                actor=TESTER,
                at=self._now(),
            )

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), units=st.integers(1, 5))
    def ship(self, index: int, units: int) -> None:
        """Pick what is open at the warehouse, pack up to ``units`` of this order, ship them."""
        order = self._order(index)
        try:
            wave = create_wave(
                uow_factory=self.uow,
                tenant_id=self.tenant_id,
                location_code="NEAR",
                max_orders=50,
                max_units=None,
                actor=TESTER,
                at=self._now(),
            )
            confirm_picks(
                uow_factory=self.uow,
                tenant_id=self.tenant_id,
                wave_id=wave.wave.id,
                confirmations=None,
                actor=TESTER,
                pickup_key=PICKUP_KEY,
                at=self._now(),
            )
        except OmsError:
            pass
        with self.uow(readonly=True) as uow:
            fos = uow.fulfilment.for_order(self.tenant_id, order.id)
        for fo in fos:
            scans = [line.sku for line in fo.lines for _ in range(max(0, line.to_pack))][:units]
            if fo.finished or not scans:
                continue
            try:
                packed = pack(
                    uow_factory=self.uow,
                    tenant_id=self.tenant_id,
                    fo_id=fo.id,
                    request=PackRequest(scans=scans),
                    actor=TESTER,
                    at=self._now(),
                )
                create_shipment(
                    uow_factory=self.uow,
                    gateways=gateway_named,
                    carriers=CARRIERS,
                    tenant_id=self.tenant_id,
                    fo_id=fo.id,
                    request=ShipRequest(package_ids=[packed.package.id]),
                    actor=TESTER,
                    at=self._now(),
                )
            except OmsError:
                pass

    @invariant()
    def money_not_owed_is_refunded_or_flagged(self) -> None:
        for order_id in self.orders:
            order = get_order(uow_factory=self.uow, tenant_id=self.tenant_id, order_id=order_id)
            summary = order.payment_summary(self.clock)
            kept = summary.captured - summary.refunded
            flagged = [h for h in order.open_holds if h.reason is HoldReason.REFUND_DUE]
            assert summary.refunded <= summary.captured
            assert kept <= order.total or flagged, (order.total, summary)
            # The flag is open exactly while money is owed back: never stale, never missing.
            assert bool(flagged) == (kept > order.total), (order.total, summary, flagged)
            if self.policy == "refund":
                assert not flagged  # every step here reaches the gateways, which refund
            owed, back = amount_due(kept, total=order.total), refund_due(kept, total=order.total)
            assert owed >= 0
            assert back >= 0
            assert owed == 0 or back == 0
            assert order.refund_due() == back
            # What the runs went through (pytest --hypothesis-show-statistics).
            for seen, what in (
                (flagged, "a refund_due item open"),
                (summary.refunded, "money refunded"),
                (any(line.shipped for line in order.lines), "goods shipped"),
                (order.status is OrderStatus.CANCELLED and summary.captured, "paid, cancelled"),
            ):
                if seen:
                    event(what)


def test_money_an_order_no_longer_owes_is_refunded_or_flagged_after_any_sequence(
    balance_uow: SqlUnitOfWorkFactory,
) -> None:
    PaymentBalance.uow = balance_uow
    run_state_machine_as_test(
        PaymentBalance,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
