"""/v1/discount-codes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from oms.api.deps import PageDep, TenantId, UowDep, page_of, parse_uuid
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.common import Page
from oms.api.schemas.discounts import DiscountCodeCreate, DiscountCodeRead
from oms.services import discounts

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/discount-codes", tags=["discounts"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DiscountCodeRead)
def create_code(
    body: DiscountCodeCreate, tenant_id: TenantId, uow: UowDep, response: Response
) -> DiscountCodeRead:
    """Define a percentage, fixed-amount or free-shipping code with its limits."""
    code = discounts.create_discount_code(
        uow_factory=uow, tenant_id=tenant_id, code=body.to_domain()
    )
    response.headers["Location"] = f"/v1/discount-codes/{code.id}"
    return DiscountCodeRead.of(code)


@router.get("", response_model=Page[DiscountCodeRead])
def list_codes(tenant_id: TenantId, uow: UowDep, page: PageDep) -> Page[DiscountCodeRead]:
    found = discounts.list_discount_codes(
        uow_factory=uow, tenant_id=tenant_id, after_code=page.cursor, limit=page.limit + 1
    )
    return page_of(
        found,
        page,
        item=lambda c: DiscountCodeRead.of(c),
        cursor=lambda c: c.code,
    )


@router.get("/{code_id}", response_model=DiscountCodeRead)
def get_code(code_id: str, tenant_id: TenantId, uow: UowDep) -> DiscountCodeRead:
    return DiscountCodeRead.of(
        discounts.get_discount_code(
            uow_factory=uow, tenant_id=tenant_id, code_id=parse_uuid(code_id, "discount code")
        )
    )
