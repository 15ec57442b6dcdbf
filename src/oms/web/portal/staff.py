"""What every warehouse screen checks first (``oms.web.portal.warehouse`` and
``oms.web.portal.pack_station``): the viewer is operator staff (a 403 page otherwise), the
tenant and ids of the URL are ones it sees (the 404 page otherwise); and the documents the
API prints, served to staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from oms.api.responses import pdf_response
from oms.domain.errors import NotFound
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import picking
from oms.web.portal.auth import Viewer, app_state
from oms.web.portal.rendering import PortalPages, parse_uuid

__all__ = [
    "Refused",
    "StaffWave",
    "not_found",
    "page",
    "pdf",
    "principal",
    "staff_tenant",
    "staff_wave",
]


class Refused(Exception):
    """A page that answers at once (403 for a merchant user, 404 for an unknown thing)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def staff_tenant(viewer: Viewer, pages: PortalPages, tenant_id: str | None = None) -> UUID | None:
    """The tenant of the URL, once the viewer is operator staff (403 page otherwise) and
    the tenant is one it sees (404 page otherwise)."""
    if not viewer.user.role.is_operator:
        raise Refused(
            pages.render(
                "refused.html",
                status=403,
                viewer=viewer,
                path="/app/warehouse",
                title="Not allowed",
                message="The warehouse screens are for the operator's staff.",
            )
        )
    if tenant_id is None:
        return None
    tenant = parse_uuid(tenant_id)
    if tenant is None or tenant not in viewer.tenant_names:
        raise Refused(not_found(pages, viewer))
    return tenant


@dataclass(frozen=True)
class StaffWave:
    """A wave a staff member works on: its tenant, its id and its pick list."""

    tenant: UUID
    wave: UUID
    view: picking.PickListView


def staff_wave(
    request: Request, viewer: Viewer, pages: PortalPages, tenant_id: str, wave_id: str
) -> StaffWave | Response:
    """The wave ``wave_id`` of a tenant the viewer works for, with its pick list; else the
    not-found page (an unknown, malformed or other tenant's id alike)."""
    tenant = staff_tenant(viewer, pages, tenant_id)
    wave = parse_uuid(wave_id)
    if tenant is None or wave is None:
        return not_found(pages, viewer)
    try:
        view = picking.wave_pick_list(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant, wave_id=wave
        )
    except NotFound:
        return not_found(pages, viewer)
    return StaffWave(tenant, wave, view)


def not_found(pages: PortalPages, viewer: Viewer) -> Response:
    return pages.render("not_found.html", status=404, viewer=viewer, path="/app/warehouse")


def page(run: Callable[[], Response]) -> Response:
    try:
        return run()
    except Refused as refused:
        return refused.response


def pdf(
    viewer: Viewer,
    portal: Any,
    tenant_id: str,
    thing_id: str,
    make: Callable[[UUID, UUID], Any],
) -> Response:
    """A document the API prints, for staff: ``make(tenant, id)`` renders it (NotFound,
    like an unknown tenant or id, is the 404 page)."""

    def run() -> Response:
        tenant = staff_tenant(viewer, portal.pages, tenant_id)
        thing = parse_uuid(thing_id)
        if tenant is None or thing is None:
            return not_found(portal.pages, viewer)
        try:
            document = make(tenant, thing)
        except NotFound:
            return not_found(portal.pages, viewer)
        return pdf_response(document.content, document.filename)

    return page(run)


def principal(viewer: Viewer, tenant_id: UUID) -> Principal:
    return Principal(key_id=viewer.user.id, scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
