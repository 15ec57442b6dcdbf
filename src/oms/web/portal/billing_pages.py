"""The portal's billing statements (docs/portal.md, "Inbound"): the 3PL's statement of each
merchant per month, with its CSV and PDF, under the inbound pages' navigation. The
operator's users see every priced merchant's (or the one picked), a merchant's its own."""

from __future__ import annotations

import re
from datetime import UTC
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from oms.api.responses import pdf_response
from oms.domain.billing import Period
from oms.domain.errors import OmsError
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import billing
from oms.services.billing_documents import statement_csv, statement_pdf
from oms.web.portal.auth import PortalDep, Viewer, ViewerDep, app_state
from oms.web.portal.inbound_pages import not_found, render, tenant_in_view
from oms.web.portal.rendering import PortalPages

__all__ = ["router"]

router = APIRouter(prefix="/app/inbound", include_in_schema=False)

_PERIOD = re.compile(r"^\d{4}-\d{2}$")


def _principal(viewer: Viewer, tenant: UUID | None) -> Principal:
    scope = ApiKeyScope.OPERATOR if viewer.user.role.is_operator else ApiKeyScope.TENANT
    return Principal(key_id=viewer.user.id, scope=scope, tenant_id=tenant)


def _period(pages: PortalPages, text: str | None) -> Period:
    if text and _PERIOD.match(text):
        try:
            return Period.parse(text)
        except OmsError:
            pass
    return Period.containing(pages.clock.now().astimezone(UTC))


@router.get("/billing")
def statements(
    request: Request, viewer: ViewerDep, portal: PortalDep, period: str | None = None
) -> Response:
    """The month's statements: every merchant's for the operator (or the one picked), a
    merchant's own; each with its CSV and PDF."""
    month = _period(portal.pages, period)
    found = billing.statements_for(
        uow_factory=app_state(request).uow_factory,
        principal=_principal(viewer, viewer.tenant_id),
        period=month,
        at=portal.pages.clock.now().astimezone(UTC),
    )
    return render(
        portal.pages,
        request,
        viewer,
        "inbound_billing.html",
        period=str(month),
        statements=found.statements,
        unpriced=found.unpriced_tenants,
    )


@router.get("/billing/{tenant_id}/{period}.{ext}")
def statement_file(
    request: Request, tenant_id: str, period: str, ext: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """A statement's CSV or PDF, as the API answers it."""
    tenant = tenant_in_view(viewer, tenant_id)
    if tenant is None or ext not in ("csv", "pdf") or not _PERIOD.match(period):
        return not_found(portal.pages, request, viewer, "statement")
    state = app_state(request)
    try:
        statement = billing.statement_of(
            uow_factory=state.uow_factory,
            principal=_principal(viewer, None if viewer.user.role.is_operator else tenant),
            tenant_id=tenant,
            period=Period.parse(period),
            at=portal.pages.clock.now().astimezone(UTC),
        )
    except OmsError:
        return not_found(portal.pages, request, viewer, "statement")
    if ext == "pdf":
        document = statement_pdf(statement, renderer=state.documents)
        return pdf_response(document.content, document.filename)
    return Response(
        statement_csv(statement),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statement-{period}-{tenant}.csv"'},
    )
