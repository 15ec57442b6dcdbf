"""Discount codes: define them, read them, and apply them to an order being placed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.errors import AlreadyExists, FieldError, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.pricing import DiscountCode, normalize_code
from oms.services.common import utcnow
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["apply_codes", "create_discount_code", "get_discount_code", "list_discount_codes"]


def create_discount_code(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    code: DiscountCode,
    at: datetime | None = None,
) -> DiscountCode:
    """Define a code (stored upper-case); a code already defined is refused with 409."""
    code = replace(code, id=new_id(), code=normalize_code(code.code), times_used=0)
    code.validate()
    with uow_factory() as uow:
        if not uow.discounts.add(tenant_id, code, at or utcnow()):
            raise AlreadyExists(f"Discount code {code.code!r} already exists", code=code.code)
        uow.commit()
    return code


def get_discount_code(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, code_id: UUID
) -> DiscountCode:
    """One code of the tenant, with how often it has been used."""
    with uow_factory(readonly=True) as uow:
        code = uow.discounts.get(tenant_id, code_id)
    if code is None:
        raise NotFound(f"No discount code {code_id}")
    return code


def list_discount_codes(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, after_code: str | None, limit: int
) -> list[DiscountCode]:
    """A page of the tenant's codes in code order."""
    with uow_factory(readonly=True) as uow:
        return uow.discounts.page(tenant_id, after_code=after_code, limit=limit)


def apply_codes(
    uow: UnitOfWork,
    *,
    tenant_id: UUID,
    codes: Sequence[str],
    subtotal: Decimal,
    currency: str,
    customer_email: str | None,
    at: datetime,
) -> list[DiscountCode]:
    """Check and redeem the codes of an order inside its transaction, or refuse with 422.

    Each refusal names the code and why. Redemption is a conditional update, so a code's
    limits hold however many orders use it at once.
    """
    wanted = [normalize_code(c) for c in codes]
    errors: list[FieldError] = []
    refused: list[str] = []

    def refuse(i: int, code: str, why: str) -> None:
        errors.append(FieldError(f"#/discount_codes/{i}", f"{code}: {why}"))
        refused.append(code)

    for i, code in enumerate(wanted):
        if code in wanted[:i]:
            refuse(i, code, "given twice")
    found = uow.discounts.by_codes(tenant_id, wanted)
    usable: list[DiscountCode] = []
    for i, code in enumerate(wanted):
        definition = found.get(code)
        if definition is None:
            refuse(i, code, "does not exist")
            continue
        why = definition.refusal(subtotal=subtotal, currency=currency, at=at)
        if why is None and not errors:
            why = uow.discounts.redeem(tenant_id, definition, customer_email=customer_email)
        if why is not None:
            refuse(i, code, why)
            continue
        usable.append(definition)
    if errors:
        raise InvalidRequest(
            f"Discount code not applicable: {', '.join(dict.fromkeys(refused))}",
            errors,
            codes=refused,
        )
    return usable
