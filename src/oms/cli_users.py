"""``oms user``: the people who sign in to the operations portal (docs/portal.md).

The password is read from standard input (``--password-stdin``, its first line), never
from the command line, where other users of the machine could read it.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from oms.cli_admin import AsJson, echo_rows, tenant_id_of
from oms.cli_support import database, fail, guard, load_settings

if TYPE_CHECKING:
    from oms.domain.users import User

__all__ = ["user_app"]

user_app = typer.Typer(no_args_is_help=True, help="Portal users (/app).")

ROLES = "operator-admin, operator-staff, merchant-admin or merchant-viewer"


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The address the user signs in with")],
    role: Annotated[str, typer.Option(help=ROLES)],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    tenant: Annotated[
        str | None, typer.Option(help="The tenant of a merchant user (its id)")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create a portal user; its password comes from standard input."""
    from oms.domain.users import Role
    from oms.services.users import create_user
    from oms.wiring import password_hasher

    try:
        chosen = Role(role)
    except ValueError:
        fail(f"--role {role!r} is not a role: {ROLES}", 2)
    if not password_stdin:
        fail("give the password on standard input with --password-stdin", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    tenant_id = None if tenant is None else tenant_id_of(tenant)
    settings = load_settings()
    with database(settings) as uow:
        user = guard(
            lambda: create_user(
                uow_factory=uow,
                hasher=password_hasher(settings),
                email=email,
                role=chosen,
                tenant_id=tenant_id,
                password=password,
            )
        )
    if as_json:
        typer.echo(json.dumps(_row(user)))
    else:
        typer.echo(f"user {user.id} ({user.email}, {user.role.value})")


def _row(user: User) -> dict[str, str | None]:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role.value,
        "tenant_id": None if user.tenant_id is None else str(user.tenant_id),
        "created_at": user.created_at.isoformat(),
        "locked_until": None if user.locked_until is None else user.locked_until.isoformat(),
        "disabled_at": None if user.disabled_at is None else user.disabled_at.isoformat(),
    }


@user_app.command("list")
def user_list(as_json: AsJson = False) -> None:
    """List portal users, oldest first (never a password hash)."""
    from oms.services.users import list_users

    with database(load_settings()) as uow:
        found = guard(lambda: list_users(uow_factory=uow))
    columns = ("id", "email", "role", "tenant_id", "created_at", "locked_until", "disabled_at")
    echo_rows([_row(u) for u in found], columns, as_json)
