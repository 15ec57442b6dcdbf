"""Dependencies: the unit-of-work factory, the caller, paging. Aliases live here only.

Every dependency is ``async def``: FastAPI runs a plain ``def`` dependency in the thread
pool, and those hand-offs (several per request) cost more CPU than the work they do. The
one that may touch the database, ``_principal``, sends just that call to the thread pool.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends, Header, Path, Query, Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from oms.api.intake_groups import IntakeGroups
from oms.api.schemas.common import Page
from oms.config import Settings
from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest, NotFound, Unauthenticated
from oms.domain.orders import Actor
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.tenancy import Principal
from oms.services import tenants as tenant_services
from oms.services.carrier_webhooks import SignatureCheck
from oms.services.document_renderer import DocumentRenderer
from oms.services.downloads import DownloadLinks
from oms.services.events import StatusLinks
from oms.services.mailer import EmailRenderer
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWorkFactory
from oms.services.routing import Geocoder
from oms.services.shipping import CarrierProvider
from oms.services.webhook_endpoints import AddressCheck

__all__ = [
    "ActorDep",
    "AppDep",
    "AppState",
    "Caller",
    "CallerDep",
    "CarrierSignaturesDep",
    "CarriersDep",
    "CurrentPrincipal",
    "DocumentsDep",
    "DownloadsDep",
    "EmailRendererDep",
    "GatewaysDep",
    "GeocoderDep",
    "LocationFilter",
    "LocationRef",
    "PageDep",
    "PickupKeyDep",
    "SettingsDep",
    "StatusLinksDep",
    "TenantId",
    "UowDep",
    "actor_of",
    "bearer_secret",
    "cached_principal",
    "decode_cursor",
    "encode_cursor",
    "page_of",
    "page_of_all",
    "reject_nul_characters",
]


@dataclass
class AppState:
    settings: Settings
    uow_factory: UnitOfWorkFactory
    key_cache: dict[str, tuple[float, Principal]]
    gateways: GatewayProvider
    geocoder: Geocoder
    carriers: CarrierProvider
    downloads: DownloadLinks
    pickup_key: PickupCodeKey
    documents: DocumentRenderer
    carrier_signatures: SignatureCheck
    intake: IntakeGroups
    status_links: StatusLinks
    email_renderer: EmailRenderer
    webhook_addresses: AddressCheck


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.oms
    return state


async def _settings(request: Request) -> Settings:
    return _state(request).settings


async def _uow(request: Request) -> UnitOfWorkFactory:
    return _state(request).uow_factory


async def _gateways(request: Request) -> GatewayProvider:
    return _state(request).gateways


async def _geocoder(request: Request) -> Geocoder:
    return _state(request).geocoder


SettingsDep = Annotated[Settings, Depends(_settings)]
GeocoderDep = Annotated[Geocoder, Depends(_geocoder)]
GatewaysDep = Annotated[GatewayProvider, Depends(_gateways)]


async def _carriers(request: Request) -> CarrierProvider:
    return _state(request).carriers


async def _downloads(request: Request) -> DownloadLinks:
    return _state(request).downloads


async def _pickup_key(request: Request) -> PickupCodeKey:
    return _state(request).pickup_key


async def _documents(request: Request) -> DocumentRenderer:
    return _state(request).documents


async def _carrier_signatures(request: Request) -> SignatureCheck:
    return _state(request).carrier_signatures


async def _status_links(request: Request) -> StatusLinks:
    return _state(request).status_links


async def _email_renderer(request: Request) -> EmailRenderer:
    return _state(request).email_renderer


CarriersDep = Annotated[CarrierProvider, Depends(_carriers)]
StatusLinksDep = Annotated[StatusLinks, Depends(_status_links)]
EmailRendererDep = Annotated[EmailRenderer, Depends(_email_renderer)]
DownloadsDep = Annotated[DownloadLinks, Depends(_downloads)]
DocumentsDep = Annotated[DocumentRenderer, Depends(_documents)]
CarrierSignaturesDep = Annotated[SignatureCheck, Depends(_carrier_signatures)]
PickupKeyDep = Annotated[PickupCodeKey, Depends(_pickup_key)]
UowDep = Annotated[UnitOfWorkFactory, Depends(_uow)]


def bearer_secret(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header; None when it is not one."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip()


def cached_principal(state: AppState, secret: str, now: float) -> Principal | None:
    """Who ``secret`` belongs to, while the key cache still holds it (``now``: monotonic)."""
    cached = state.key_cache.get(secret)
    return cached[1] if cached is not None and cached[0] > now else None


_PRINCIPAL_KEY = "oms.principal"


async def _principal_of(request: Request, oms_tenant: str | None) -> Principal:
    """Who calls: the key of the ``Authorization: Bearer`` header, from the key cache or
    the database, acting on the ``OMS-Tenant`` header's tenant when an operator key sends
    one. Resolved once per request, however many of the aliases below a route takes."""
    found: Principal | None = request.scope.get(_PRINCIPAL_KEY)
    if found is None:
        found = await _authenticate(request, oms_tenant)
        request.scope[_PRINCIPAL_KEY] = found
    return found


async def _authenticate(request: Request, oms_tenant: str | None) -> Principal:
    secret = bearer_secret(request.headers.get("authorization"))
    if secret is None:
        raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'")
    state = _state(request)
    ttl = state.settings.api_key_cache_seconds
    now = time.monotonic()
    cached = cached_principal(state, secret, now)
    if cached is not None:
        principal = cached
    else:
        found = await run_in_threadpool(
            tenant_services.authenticate, uow_factory=state.uow_factory, secret=secret
        )
        if found is None:
            raise Unauthenticated("Unknown or revoked API key")
        principal = found
        if ttl > 0:
            if len(state.key_cache) > 10_000:
                state.key_cache.clear()
            state.key_cache[secret] = (now + ttl, principal)
    if oms_tenant is not None:
        if not principal.is_operator:
            raise InvalidRequest(
                "Only operator keys may send OMS-Tenant",
                [FieldError("header:oms-tenant", "not allowed with a tenant key")],
            )
        try:
            tenant_id = UUID(oms_tenant)
        except ValueError:
            raise InvalidRequest(
                "OMS-Tenant is not a tenant id",
                [FieldError("header:oms-tenant", "must be a UUID")],
            ) from None
        await run_in_threadpool(
            tenant_services.resolve_tenant, uow_factory=state.uow_factory, tenant_id=tenant_id
        )
        principal = Principal(key_id=principal.key_id, scope=principal.scope, tenant_id=tenant_id)
    return principal


_OmsTenant = Annotated[str | None, Header(description="Operator keys: the tenant to act on")]


class ApiKeyBearer(SecurityBase):
    """The caller, as a security scheme: the API key of a request's ``Authorization: Bearer
    <key>`` header (and the ``OMS-Tenant`` header of operator keys), handed to a route as
    ``project`` makes of it. Every route that needs a key declares it in the OpenAPI
    document, and Swagger UI at /docs offers an Authorize button that sends it.

    Each alias below (``CurrentPrincipal``, ``TenantId``, ``ActorDep``, ``CallerDep``) is
    one instance: one dependency for FastAPI to solve per alias a route takes, where a
    projection depending on the principal, itself depending on the scheme, was three
    (FastAPI solves a shared sub-dependency again for each dependant that takes it)."""

    def __init__(self, project: Callable[[Principal], object]) -> None:
        self.model = HTTPBearerModel(
            description="An API key: `Authorization: Bearer <key>` (docs/tenancy.md)"
        )
        self.scheme_name = "ApiKey"
        self.project = project

    async def __call__(self, request: Request, oms_tenant: _OmsTenant = None) -> object:
        return self.project(await _principal_of(request, oms_tenant))


def _itself(principal: Principal) -> Principal:
    return principal


def _tenant_of(principal: Principal) -> UUID:
    return principal.require_tenant()


def actor_of(principal: Principal) -> Actor:
    return Actor("api_key", str(principal.key_id))


@dataclass(frozen=True)
class Caller:
    """The tenant a request acts for and who acts: one dependency where a hot route would
    otherwise solve two."""

    tenant_id: UUID
    actor: Actor


def _caller_of(principal: Principal) -> Caller:
    return Caller(principal.require_tenant(), actor_of(principal))


CurrentPrincipal = Annotated[Principal, Security(ApiKeyBearer(_itself))]
TenantId = Annotated[UUID, Security(ApiKeyBearer(_tenant_of))]
ActorDep = Annotated[Actor, Security(ApiKeyBearer(actor_of))]


async def _app_state(request: Request) -> AppState:
    # async, like every dependency here: a plain def would cost a thread-pool hop.
    return _state(request)


CallerDep = Annotated[Caller, Security(ApiKeyBearer(_caller_of))]
AppDep = Annotated[AppState, Depends(_app_state)]


# A location is named by its id or its code wherever a request names one; the services
# resolve both through oms.domain.catalogue.location_named.
LocationRef = Annotated[
    str,
    Path(
        max_length=lengths.LOCATION_CODE,
        description="The location's id or code (docs/catalogue.md)",
    ),
]
LocationFilter = Annotated[
    str | None,
    Query(max_length=lengths.LOCATION_CODE, description="Only this location: its id or code"),
]


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # validate=True: characters outside the alphabet are an error, not silently skipped.
        value = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        if "\x00" in value:
            raise ValueError("NUL in cursor")
        return value
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(
            "The cursor is not valid", [FieldError("query:cursor", "not a cursor from this API")]
        ) from None


@dataclass(frozen=True)
class PageParams:
    cursor: str | None
    limit: int


async def _page(
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> PageParams:
    if limit is not None and limit > settings.max_page_size:
        raise InvalidRequest(
            "Page size too large",
            [FieldError("query:limit", f"at most {settings.max_page_size}")],
        )
    return PageParams(
        cursor=None if cursor is None else decode_cursor(cursor),
        limit=limit or settings.default_page_size,
    )


PageDep = Annotated[PageParams, Depends(_page)]

Found = TypeVar("Found")
Item = TypeVar("Item")


def page_of(
    found: Sequence[Found],
    page: PageParams,
    *,
    item: Callable[[Found], Item],
    cursor: Callable[[Found], str],
) -> Page[Item]:
    """A list answer from ``page.limit + 1`` rows: the extra row only says there are more."""
    shown = found[: page.limit]
    more = len(found) > page.limit
    return Page(
        items=[item(row) for row in shown],
        next_cursor=encode_cursor(cursor(shown[-1])) if more else None,
    )


def page_of_all(
    found: Sequence[Found],
    page: PageParams,
    *,
    item: Callable[[Found], Item],
    cursor: Callable[[Found], str],
    descending: bool = False,
) -> Page[Item]:
    """A page of a short list read whole (one order's shipments, the carrier services), in
    ``cursor`` order (``descending``: last first).

    The cursor names the last item shown, so the next page goes on where that one stopped
    even when items were added meanwhile.
    """
    rows = sorted(found, key=cursor, reverse=descending)
    if page.cursor is not None:
        after = page.cursor
        rows = [row for row in rows if (cursor(row) < after if descending else cursor(row) > after)]
    return page_of(rows[: page.limit + 1], page, item=item, cursor=cursor)


async def reject_nul_characters(request: Request) -> None:
    """Refuse NUL in the path, query or headers: PostgreSQL cannot compare such text."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise NotFound(f"No {name} with a NUL character")
    # Every route runs this: the raw bytes are looked at first, and the query and the
    # headers are decoded only when one may hold a NUL (a query's "%00" decodes to one).
    query = request.scope.get("query_string", b"")
    if (
        b"\x00" not in query
        and b"%00" not in query
        and not any(b"\x00" in value for _, value in request.scope["headers"])
    ):
        return
    for source, items in (("query", request.query_params), ("header", request.headers)):
        for name, value in items.items():
            if "\x00" in value:
                raise InvalidRequest(
                    "Text cannot contain the NUL character",
                    [FieldError(f"{source}:{name}", "contains a NUL character")],
                )


def uuid_cursor(cursor: str) -> UUID:
    """A decoded cursor that must be an id; anything else is a bad cursor (422)."""
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest(
            "The cursor is not valid", [FieldError("query:cursor", "not a cursor from this API")]
        ) from None


def parse_uuid(value: str, what: str) -> UUID:
    """Path ids that are not UUIDs are simply not found, like any unknown id."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"No {what} {value}") from None
