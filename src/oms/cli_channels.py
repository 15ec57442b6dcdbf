"""``oms channels``: a store's orders missed while its webhooks were down, pulled again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer

from oms.cli_support import database, fail, guard, load_settings

__all__ = ["channels_app"]

channels_app = typer.Typer(no_args_is_help=True, help="Sales channels (stores).")


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {text!r} is not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z)", 2)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@channels_app.command("sync")
def channels_sync(
    channel: Annotated[str, typer.Argument(help="The channel's id (GET /v1/channels)")],
    since: Annotated[str, typer.Option("--since", help="Orders updated at or after this")],
) -> None:
    """Pull the channel's orders updated since --since through the intake, exactly once."""
    from oms.adapters.channels.registry import sales_channel_of
    from oms.adapters.payments.registry import gateway_named
    from oms.domain.orders import Actor
    from oms.services.channel_orders import backfill_orders
    from oms.services.channels import PayloadRefused, StoreUnavailable
    from oms.services.common import utcnow
    from oms.services.intake_group import place_alone
    from oms.wiring import channel_repository

    try:
        channel_id = UUID(channel)
    except ValueError:
        fail(f"{channel!r} is not a channel id", 2)
    start = _since(since)
    settings = load_settings()
    with database(settings) as uow_factory:
        channels = channel_repository(settings, uow_factory.engine)
        connection = channels.find(channel_id)
        if connection is None:
            fail(f"no channel {channel_id}")
        store = guard(lambda: sales_channel_of(connection))

        def run() -> None:
            try:
                report = backfill_orders(
                    channels=channels,
                    uow_factory=uow_factory,
                    gateways=gateway_named,
                    place=lambda s: place_alone(uow_factory, gateway_named, None, s),
                    connection=connection,
                    store=store,
                    since=start,
                    actor=Actor("channel", str(connection.id)),
                    at=utcnow(),
                )
            except StoreUnavailable as error:
                fail(f"the store did not answer: {error}")
            except PayloadRefused as error:
                fail(f"the store's answer is not what it documents: {error}")
            typer.echo(
                f"{report.created} placed, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.refused} refused (see the sync log)"
            )

        guard(run)
