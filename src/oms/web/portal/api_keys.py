"""API keys in the portal (``/app/settings/api-keys``): an admin makes a key for the tenant
it looks at (the secret is shown on the answer, once, never in a URL and never again) and
revokes one of the keys it sees, through ``oms.services.tenants`` as ``oms apikey`` does.
The list itself is ``oms.web.portal.settings.api_keys``.

A merchant admin makes and revokes its tenant's keys; an operator admin those of the tenant
it picked, or, looking at all tenants, revokes any key it sees (operator keys are made with
``oms apikey`` only). Other roles get the 403 page; a key not in view is the 404 page.
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import InvalidRequest, NotFound
from oms.domain.tenancy import ApiKeyScope
from oms.services import tenants
from oms.web.portal.auth import CheckedForm, PortalDep, ViewerDep, app_state, checked_form
from oms.web.portal.rendering import parse_uuid, refusal
from oms.web.portal.settings import require_admin

__all__ = ["router"]

router = APIRouter(prefix="/app/settings/api-keys", include_in_schema=False)

LIST = "/app/settings/api-keys"


def _back(done: str) -> Response:
    return RedirectResponse(f"{LIST}?" + urlencode({"done": done}), 303)


def _forget(request: Request, key_id: UUID) -> None:
    """Drop the revoked key from this process's key cache, so the API refuses it at once
    here (other processes within ``OMS_API_KEY_CACHE_SECONDS``)."""
    cache = app_state(request).key_cache
    for secret, (_, principal) in list(cache.items()):
        if principal.key_id == key_id:
            cache.pop(secret, None)


@router.post("")
async def create_key(
    request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """A new key of the tenant looked at; the answer shows its secret, once."""
    require_admin(viewer)
    tenant_id = viewer.tenant_id
    if tenant_id is None:
        return portal.pages.render(
            "settings_pick.html", viewer=viewer, path=LIST, section="api_keys.html"
        )
    try:
        created = await run_in_threadpool(
            tenants.create_api_key,
            uow_factory=app_state(request).uow_factory,
            scope=ApiKeyScope.TENANT,
            tenant_id=tenant_id,
            name=form.get("name") or "portal",
            at=portal.pages.clock.now(),
        )
    except InvalidRequest as refused:
        return _back(f"No key made: {refusal(refused)[1]}")
    return portal.pages.render(
        "api_key_secret.html",
        viewer=viewer,
        path=LIST,
        created=created,
        name=form.get("name") or "portal",
        tenant=viewer.tenant_names.get(tenant_id, str(tenant_id)),
    )


@router.post("/{key_id}/revoke", dependencies=[Depends(checked_form)])
async def revoke_key(
    request: Request, key_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """Revoke one of the keys the user sees, for good."""
    require_admin(viewer)
    uow = app_state(request).uow_factory
    wanted = parse_uuid(key_id)
    seen = await run_in_threadpool(
        tenants.list_api_keys, uow_factory=uow, tenant_id=viewer.tenant_id
    )
    found = next((k for k in seen if k.id == wanted and k.revoked_at is None), None)
    try:
        if found is None:
            raise NotFound("No such key")
        await run_in_threadpool(
            tenants.revoke_api_key, uow_factory=uow, key_id=found.id, at=portal.pages.clock.now()
        )
        _forget(request, found.id)
    except NotFound:
        return portal.pages.render(
            "not_found.html",
            status=404,
            viewer=viewer,
            path=LIST,
            what="API key",
            back=(LIST, "Back to the API keys"),
        )
    return _back(f"Key {found.name} ({found.prefix}…) revoked")
