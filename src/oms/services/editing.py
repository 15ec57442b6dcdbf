"""Editing an order before it is released: lines, quantities, shipping address.

All or nothing, in one transaction guarded by the order's version (If-Match): every open
allocation is released, the changes applied, the address verified again, stock reserved
again for what is still wanted, totals recomputed (the order's discount codes are kept),
holds brought up to date and the payment checked against the new total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind, order_line_refusal
from oms.domain.errors import (
    FieldError,
    InsufficientStock,
    InvalidRequest,
    PreconditionFailed,
    Shortage,
)
from oms.domain.holds import HoldReason
from oms.domain.lifecycle import OrderAction, ensure_allowed
from oms.domain.money import minor_unit_problem, round_money
from oms.domain.orders import Actor, Order, OrderLine
from oms.domain.policies import TenantPolicies
from oms.domain.verification import verify_contact
from oms.services.carts import expire_due_in
from oms.services.common import retry_transient, utcnow
from oms.services.payments import GatewayProvider, capture_shipped_value, refund_overpayment
from oms.services.persistence import (
    SYSTEM,
    locked_order,
    new_hold,
    release_open_allocations,
    save_order_changes,
    settle_order,
)
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.rerouting import route_units
from oms.services.routing import NO_GEOCODER, Geocoder
from oms.services.store_credit_payments import order_gateways

__all__ = ["LineChange", "OrderEdit", "edit_order"]

_REVERIFIED = (
    HoldReason.ADDRESS_INVALID,
    HoldReason.CONTACT_INVALID,
    HoldReason.BACKORDERED,
    HoldReason.NO_CARRIER_SERVICE,
)


@dataclass(frozen=True)
class LineChange:
    """Set an existing line (``line_no``) or a new one (``sku``) to ``quantity`` units.

    ``quantity`` 0 removes the line (its units are cancelled; line numbers never change).
    """

    quantity: int
    line_no: int | None = None
    sku: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderEdit:
    lines: tuple[LineChange, ...] = ()
    shipping_address: Address | None = None


def _apply_line_changes(
    uow: UnitOfWork, order: Order, changes: tuple[LineChange, ...]
) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    by_no = {line.line_no: line for line in order.lines}
    new_skus = [c.sku for c in changes if c.line_no is None and c.sku is not None]
    products = uow.products.by_skus(order.tenant_id, new_skus)
    done: list[dict[str, Any]] = []
    for i, change in enumerate(changes):
        pointer = f"#/lines/{i}"
        if change.line_no is not None:
            line = by_no.get(change.line_no)
            if line is None:
                errors.append(FieldError(f"{pointer}/line_no", f"no line {change.line_no}"))
                continue
            before = line.wanted
            if change.quantity > before:
                line.quantity += change.quantity - before
            else:
                line.cancelled += before - change.quantity
            done.append({"line_no": line.line_no, "from": before, "to": change.quantity})
            continue
        product = products.get(change.sku or "")
        refusal = order_line_refusal(product, change.sku or "")
        if refusal is not None:
            errors.append(FieldError(f"{pointer}/sku", refusal))
            continue
        assert product is not None  # order_line_refusal refuses a missing product
        price = change.unit_price if change.unit_price is not None else product.price
        if change.unit_price is None and product.currency != order.currency:
            errors.append(FieldError(f"{pointer}/unit_price", f"give a price in {order.currency}"))
            continue
        if problem := minor_unit_problem(price, order.currency):
            errors.append(FieldError(f"{pointer}/unit_price", problem))
            continue
        if change.quantity < 1:
            errors.append(FieldError(f"{pointer}/quantity", "a new line needs at least 1 unit"))
            continue
        line = OrderLine(
            line_no=max(by_no, default=0) + 1,
            sku=product.sku,
            name=product.name,
            kind=product.kind,
            quantity=change.quantity,
            unit_price=round_money(price, order.currency),
        )
        order.lines.append(line)
        by_no[line.line_no] = line
        done.append({"line_no": line.line_no, "sku": line.sku, "added": change.quantity})
    if errors:
        raise InvalidRequest("The edit cannot be applied", errors)
    return done


def _reallocate(uow: UnitOfWork, order: Order, geocoder: Geocoder, at: datetime) -> None:
    """Release every open allocation and reserve again for the units still wanted."""
    release_open_allocations(uow, order, at)
    wanted = {
        line.line_no: line.wanted for line in order.lines if line.kind is not ProductKind.DIGITAL
    }
    placed = route_units(uow, order, wanted, geocoder, (), at)
    unfilled = {
        n: units - placed.get(n, 0) for n, units in wanted.items() if units > placed.get(n, 0)
    }
    if unfilled and not order.allow_backorder:
        by_no = {line.line_no: line for line in order.lines}
        raise InsufficientStock(
            [
                Shortage(
                    sku=by_no[n].sku,
                    requested=by_no[n].wanted,
                    available=placed.get(n, 0),
                )
                for n in sorted(unfilled)
            ]
        )
    order.assign_units(placed)


def _refresh_holds(
    order: Order, policies: TenantPolicies, findings: dict[HoldReason, str], at: datetime
) -> None:
    findings.update((reason, note) for reason, note in order.routing_holds().items() if note)
    for reason in _REVERIFIED:
        if reason in findings:
            order.place_hold(
                new_hold(reason, policies=policies, actor=SYSTEM, at=at, note=findings[reason]),
                actor=SYSTEM,
                at=at,
            )
        else:
            order.release_holds_of(reason, actor=SYSTEM, at=at, note="resolved by an edit")


def edit_order(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    edit: OrderEdit,
    expected_version: int,
    actor: Actor,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> Order:
    """Apply ``edit`` if the order is still at ``expected_version`` (else 412) and unreleased;
    if that releases it, its digital lines' value is captured, and what a lower total no
    longer owes is refunded by the tenant's policy (when ``gateways`` are given) or flagged."""
    when = at or utcnow()

    def attempt() -> Order:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            if order.version != expected_version:
                raise PreconditionFailed(
                    f"The order is at version {order.version}, not {expected_version}; "
                    "read it again and reapply your change",
                    version=order.version,
                )
            ensure_allowed(OrderAction.EDIT, order.status, released=order.released_at is not None)
            policies = uow.tenants.policies(tenant_id)
            expire_due_in(uow, tenant_id, when)
            before_total = order.total
            with order.change("order.edited", actor=actor, at=when) as data:
                changes = _apply_line_changes(uow, order, edit.lines)
                if edit.shipping_address is not None:
                    order.shipping_address = edit.shipping_address
                verified = verify_contact(
                    order.customer,
                    order.shipping_address,
                    order.billing_address,
                    requires_shipping=any(ln.kind is not ProductKind.DIGITAL for ln in order.lines),
                )
                if too_long := verified.storage_problems():
                    raise InvalidRequest("Some values are too long to store", too_long)
                order.shipping_address = verified.shipping_address
                _reallocate(uow, order, geocoder or NO_GEOCODER, when)
                order.reprice()
                data.update(
                    lines=changes,
                    shipping_address_changed=edit.shipping_address is not None,
                    total_before=str(round_money(before_total, order.currency)),
                    total_after=str(round_money(order.total, order.currency)),
                )
            findings: dict[HoldReason, str] = {}
            for finding in verified.findings:
                found = findings.get(finding.reason)
                text = f"{finding.pointer}: {finding.detail}"
                findings[finding.reason] = text if found is None else f"{found}; {text}"
            _refresh_holds(order, policies, findings, when)
            provider = order_gateways(uow, order, gateways, actor=actor, at=when)
            if provider is not None:  # without gateways, only the store credit goes back
                refund_overpayment(
                    order,
                    gateways=provider,
                    policies=policies,
                    actor=actor,
                    at=when,
                    credit_only=gateways is None,
                )
            settle_order(order, policies=policies, at=when)
            if gateways is not None:
                capture_shipped_value(
                    order, gateways=gateways, policies=policies, actor=actor, at=when
                )
            save_order_changes(uow, order, at=when)
            uow.commit()
            return order

    return retry_transient(attempt)
