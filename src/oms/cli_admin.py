"""``oms tenant``, ``oms apikey`` and ``oms location``: running a deployment by hand.

Listings print one line per row, or a JSON array with ``--json``. A key's secret is shown
once, when it is made, and never again: listings show its prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import typer

from oms.cli_support import database, fail, guard, load_settings
from oms.domain.catalogue import Location, LocationKind
from oms.domain.tenancy import ApiKeyScope, Principal

__all__ = ["AsJson", "apikey_app", "echo_rows", "location_app", "tenant_app", "tenant_id_of"]

tenant_app = typer.Typer(no_args_is_help=True, help="Tenants (merchants).")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys.")
location_app = typer.Typer(no_args_is_help=True, help="Locations (warehouses, stores).")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON")]
# The CLI runs with the operator's authority; a tenant's own things need --tenant.
CLI_KEY = UUID(int=0)


def tenant_id_of(text: str) -> UUID:
    """The tenant id ``--tenant`` gave; not an id ends the command (exit 2)."""
    try:
        return UUID(text)
    except ValueError:
        fail(f"--tenant {text!r} is not a tenant id", 2)


def echo_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """A JSON array, or a table: a header and one line per row, in aligned columns."""
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2))
        return
    table = [[c.upper() for c in columns]]
    table += [
        [
            "-"
            if row[c] is None
            else str(row[c]).lower()
            if isinstance(row[c], bool)
            else str(row[c])
            for c in columns
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


# --- tenants ----------------------------------------------------------------------------------


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Option(help="The merchant's name")],
    slug: Annotated[
        str | None,
        typer.Option(
            help="Its name in its order status page's URL (/status/SLUG): lower-case "
            "letters, digits and hyphens; default: made from the name"
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create a tenant and print its first API key (shown once)."""
    from oms.services.tenants import create_tenant

    with database(load_settings()) as uow:
        tenant, key = guard(lambda: create_tenant(uow_factory=uow, name=name, slug=slug))
    if as_json:
        typer.echo(
            json.dumps({"tenant_id": str(tenant.id), "slug": tenant.slug, "api_key": key.secret})
        )
    else:
        typer.echo(
            f"tenant {tenant.id} ({tenant.name}), slug {tenant.slug}\n"
            f"api key (shown once): {key.secret}"
        )


@tenant_app.command("list")
def tenant_list(as_json: AsJson = False) -> None:
    """List every tenant, oldest first."""
    from oms.services.tenants import list_tenants

    with database(load_settings()) as uow:
        found = guard(lambda: list_tenants(uow_factory=uow))
    rows = [
        {
            "id": str(t.id),
            "name": t.name,
            "slug": t.slug,
            "created_at": None if t.created_at is None else t.created_at.isoformat(),
        }
        for t in found
    ]
    echo_rows(rows, ("id", "slug", "created_at", "name"), as_json)


# --- API keys ---------------------------------------------------------------------------------


@apikey_app.command("create")
def apikey_create(
    tenant: Annotated[str | None, typer.Option(help="Tenant id; omit with --operator")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="An operator-scoped key")] = False,
    name: Annotated[str, typer.Option(help="What the key is for")] = "cli",
    as_json: AsJson = False,
) -> None:
    """Create an API key for a tenant, or for the operator (shown once)."""
    from oms.services.tenants import create_api_key

    if operator == (tenant is not None):
        fail("give either --tenant ID or --operator", 2)
    tenant_id = None if tenant is None else tenant_id_of(tenant)
    scope = ApiKeyScope.OPERATOR if operator else ApiKeyScope.TENANT
    with database(load_settings()) as uow:
        key = guard(
            lambda: create_api_key(uow_factory=uow, scope=scope, tenant_id=tenant_id, name=name)
        )
    if as_json:
        typer.echo(
            json.dumps({"key_id": str(key.key_id), "scope": scope.value, "api_key": key.secret})
        )
    else:
        typer.echo(f"{scope.value} api key (shown once): {key.secret}")


@apikey_app.command("list")
def apikey_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys")] = None,
    as_json: AsJson = False,
) -> None:
    """List API keys, revoked ones too, oldest first: never a secret.

    A key's secret is shown once, when it is made; its prefix tells keys apart."""
    from oms.services.tenants import list_api_keys

    tenant_id = None if tenant is None else tenant_id_of(tenant)
    with database(load_settings()) as uow:
        found = guard(lambda: list_api_keys(uow_factory=uow, tenant_id=tenant_id))
    rows = [
        {
            "key_id": str(k.id),
            "scope": k.scope.value,
            "tenant_id": None if k.tenant_id is None else str(k.tenant_id),
            "name": k.name,
            "prefix": k.prefix,
            "created_at": k.created_at.isoformat(),
            "revoked_at": None if k.revoked_at is None else k.revoked_at.isoformat(),
        }
        for k in found
    ]
    columns = ("key_id", "scope", "tenant_id", "prefix", "created_at", "revoked_at", "name")
    echo_rows(rows, columns, as_json)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_id)")]) -> None:
    """Revoke an API key; processes stop accepting it within OMS_API_KEY_CACHE_SECONDS."""
    from oms.services.tenants import revoke_api_key

    try:
        parsed = UUID(key_id)
    except ValueError:
        fail(f"{key_id!r} is not a key id", 2)
    with database(load_settings()) as uow:
        guard(lambda: revoke_api_key(uow_factory=uow, key_id=parsed))
    typer.echo(f"revoked {parsed}")


# --- locations --------------------------------------------------------------------------------

TenantOption = Annotated[
    str | None,
    typer.Option(help="The tenant whose own location it is (or who uses it); omit: the operator's"),
]


def _principal(tenant: str | None) -> Principal:
    """The operator, acting for ``tenant`` when one is named (as OMS-Tenant does)."""
    return Principal(
        key_id=CLI_KEY,
        scope=ApiKeyScope.OPERATOR,
        tenant_id=None if tenant is None else tenant_id_of(tenant),
    )


def _location_row(location: Location) -> dict[str, Any]:
    from oms.api.schemas.catalogue import LocationRead

    row: dict[str, Any] = LocationRead.of(location).model_dump(mode="json")
    return row


def _checked_tenant(principal: Principal) -> None:
    if principal.tenant_id is None:
        return
    from oms.services.tenants import resolve_tenant

    tenant_id = principal.tenant_id
    with database(load_settings()) as uow:
        guard(lambda: resolve_tenant(uow_factory=uow, tenant_id=tenant_id))


@location_app.command("create")
def location_create(
    code: Annotated[str, typer.Option(help="Letters, digits, '.', '_', '-'")],
    name: Annotated[str, typer.Option(help="What people call it")],
    kind: Annotated[LocationKind, typer.Option(help="warehouse or store")] = LocationKind.WAREHOUSE,
    tenant: TenantOption = None,
    priority: Annotated[int, typer.Option(help="Lower is preferred")] = 100,
    latitude: Annotated[float | None, typer.Option(help="With --longitude")] = None,
    longitude: Annotated[float | None, typer.Option(help="With --latitude")] = None,
    can_ship: Annotated[bool, typer.Option("--can-ship/--no-can-ship")] = True,
    can_pickup: Annotated[bool, typer.Option("--can-pickup/--no-can-pickup")] = False,
    pickup_cutoff: Annotated[str, typer.Option(help="HH:MM UTC")] = "16:00",
    as_json: AsJson = False,
) -> None:
    """Create a location: the operator's, or a tenant's own with --tenant."""
    from pydantic import ValidationError

    from oms.api.schemas.catalogue import LocationCreate
    from oms.services.catalogue import create_location

    try:
        body = LocationCreate.model_validate(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "priority": priority,
                "latitude": latitude,
                "longitude": longitude,
                "can_ship": can_ship,
                "can_pickup": can_pickup,
                "pickup_cutoff": pickup_cutoff,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = "--" + "-".join(str(p) for p in first["loc"]).replace("_", "-")
        message = str(first["msg"]).removeprefix("Value error, ")
        fail(f"{where if first['loc'] else 'location'}: {message}", 2)
    principal = _principal(tenant)
    _checked_tenant(principal)
    with database(load_settings()) as uow:
        created = guard(
            lambda: create_location(uow_factory=uow, principal=principal, command=body.to_command())
        )
    if as_json:
        typer.echo(json.dumps(_location_row(created)))
    else:
        typer.echo(f"location {created.code} ({created.id})")


@location_app.command("list")
def location_list(tenant: TenantOption = None, as_json: AsJson = False) -> None:
    """List the operator's locations, or those a tenant may use, in code order.

    With --tenant: the tenant's own and the operator's it was granted."""
    from oms.services.catalogue import list_locations

    principal = _principal(tenant)
    _checked_tenant(principal)
    with database(load_settings()) as uow:
        found = guard(
            lambda: list_locations(
                uow_factory=uow, principal=principal, after_code=None, limit=1_000_000
            )
        )
    rows = [_location_row(loc) for loc in found]
    echo_rows(rows, ("id", "code", "kind", "owner", "active", "name"), as_json)


@location_app.command("grant")
def location_grant(
    location: Annotated[str, typer.Argument(help="An operator location's id or code")],
    tenant: Annotated[str, typer.Option(help="The tenant that may use it")],
) -> None:
    """Let a tenant use one of the operator's locations (stock it, be routed to it)."""
    from oms.services.catalogue import grant_location

    tenant_id = tenant_id_of(tenant)
    with database(load_settings()) as uow:
        guard(
            lambda: grant_location(
                uow_factory=uow, principal=_principal(None), ref=location, tenant_id=tenant_id
            )
        )
    typer.echo(f"granted {location} to tenant {tenant_id}")


@location_app.command("archive")
def location_archive(
    location: Annotated[str, typer.Argument(help="The location's id or code")],
    tenant: TenantOption = None,
) -> None:
    """Archive a location: kept with its history, routed to no more.

    Refused while stock is reserved there (open orders, checkout holds)."""
    from oms.services.catalogue import archive_location

    principal = _principal(tenant)
    _checked_tenant(principal)
    with database(load_settings()) as uow:
        archived = guard(
            lambda: archive_location(uow_factory=uow, principal=principal, ref=location)
        )
    typer.echo(f"archived {archived.code} ({archived.id})")
