"""/v1/billing: merchants' price lists and statements (docs/billing.md).

An operator key sees every merchant's statements (or one merchant's with ``OMS-Tenant``)
and alone sets prices; a merchant's key sees its own statement and price list only.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from oms.api.deps import (
    CurrentPrincipal,
    DocumentsDep,
    PageDep,
    TenantId,
    UowDep,
    encode_cursor,
    parse_uuid,
)
from oms.api.one_hop import OneHopRoute
from oms.api.responses import PDF_RESPONSE, pdf_response
from oms.api.schemas.billing import (
    PriceListBody,
    PriceListRead,
    StatementListRead,
    StatementRead,
)
from oms.domain.billing import Period, Statement
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.tenancy import Principal
from oms.services import billing
from oms.services.billing_documents import statement_csv, statement_pdf
from oms.services.common import utcnow
from oms.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/billing", tags=["billing"])

PeriodQuery = Annotated[str, Query(max_length=7, description="A calendar month: YYYY-MM (UTC)")]
OptionalPeriod = Annotated[
    str | None,
    Query(max_length=7, description="A calendar month: YYYY-MM (UTC); the current one if left out"),
]
CSV_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, one row per statement line"}
}


@router.put("/price-list", response_model=PriceListRead)
def put_price_list(body: PriceListBody, principal: CurrentPrincipal, uow: UowDep) -> PriceListRead:
    """Replace a merchant's price list (operator keys, naming the merchant with OMS-Tenant)."""
    prices = billing.set_price_list(
        uow_factory=uow, principal=principal, prices=body.to_price_list()
    )
    return PriceListRead.of(prices)


@router.get("/price-list", response_model=PriceListRead)
def get_price_list(tenant_id: TenantId, uow: UowDep) -> PriceListRead:
    return PriceListRead.of(billing.get_price_list(uow_factory=uow, tenant_id=tenant_id))


def _merchant_cursor(cursor: str) -> UUID:
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest(
            "The cursor is not valid", [FieldError("query:cursor", "not a cursor from this API")]
        ) from None


@router.get("/statements", response_model=StatementListRead)
def list_statements(
    period: PeriodQuery, principal: CurrentPrincipal, uow: UowDep, page: PageDep
) -> StatementListRead:
    """The period's statements: an operator key's of every merchant (one with OMS-Tenant),
    a page of merchants at a time, by merchant id; a merchant's of its own."""
    found = billing.statements_for(
        uow_factory=uow,
        principal=principal,
        period=Period.parse(period),
        after=None if page.cursor is None else _merchant_cursor(page.cursor),
        limit=page.limit,
    )
    more = found.more_after
    return StatementListRead.of(found, None if more is None else encode_cursor(str(more)))


def _one(
    uow: UnitOfWorkFactory, principal: Principal, tenant_id: str, period: str | None
) -> Statement:
    parsed = Period.containing(utcnow()) if period is None else Period.parse(period)
    return billing.statement_of(
        uow_factory=uow,
        principal=principal,
        tenant_id=parse_uuid(tenant_id, "merchant"),
        period=parsed,
    )


@router.get("/statements/{tenant_id}", response_model=StatementRead)
def get_statement(
    tenant_id: str, principal: CurrentPrincipal, uow: UowDep, period: OptionalPeriod = None
) -> StatementRead:
    return StatementRead.of(_one(uow, principal, tenant_id, period))


@router.get("/statements/{tenant_id}/csv", response_class=Response, responses=CSV_RESPONSE)
def get_statement_csv(
    tenant_id: str, principal: CurrentPrincipal, uow: UowDep, period: OptionalPeriod = None
) -> Response:
    statement = _one(uow, principal, tenant_id, period)
    return Response(
        statement_csv(statement),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="statement-{statement.period}-{statement.tenant_id}.csv"'
            )
        },
    )


@router.get("/statements/{tenant_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def get_statement_pdf(
    tenant_id: str,
    principal: CurrentPrincipal,
    uow: UowDep,
    renderer: DocumentsDep,
    period: OptionalPeriod = None,
) -> Response:
    document = statement_pdf(_one(uow, principal, tenant_id, period), renderer=renderer)
    return pdf_response(document.content, document.filename)
