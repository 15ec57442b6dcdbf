"""A store's verified order delivery into the intake: what the webhook routes
(``oms.api.routers.channels``) and the Shopify webhook lane (``oms.api.webhook_lane``)
both do once the signature holds and the body is mapped.

The copy is placed as ``POST /v1/orders`` places an order: with the orders arriving
meanwhile when it may be (``app.intake``, on the event loop), else alone in a worker
thread. A copy that placing settles (a new order it changes nothing in:
``channel_orders.settled_by_placing``) is answered at once; any other copy goes through
``channel_orders.receive_order`` in a worker thread with the placing's outcome.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from oms.api.deps import AppState
from oms.domain.channels import ChannelConnection
from oms.domain.errors import OmsError
from oms.domain.orders import Actor
from oms.services.channel_orders import (
    PlaceSubmission,
    receive_order,
    settled_by_placing,
    submission_of,
)
from oms.services.channels import ChannelOrder, ChannelRepository
from oms.services.common import utcnow
from oms.services.intake import PlacedOrder
from oms.services.intake_group import Submission, groupable, place_alone

__all__ = ["receive_delivery"]


async def _placed(app: AppState, submission: Submission) -> PlacedOrder | OmsError:
    """The submission placed as POST /v1/orders places it; a refusal is returned, for the
    use case to log and raise."""
    try:
        if groupable(submission.command, submission.idempotency_key, app.gateways):
            return await app.intake.place(submission)
        return await run_in_threadpool(
            place_alone, app.uow_factory, app.gateways, app.geocoder, submission
        )
    except OmsError as refused:
        return refused


def _given(outcome: PlacedOrder | OmsError) -> PlaceSubmission:
    def place(_: Submission) -> PlacedOrder:
        if isinstance(outcome, OmsError):
            raise outcome
        return outcome

    return place


async def receive_delivery(
    *,
    app: AppState,
    channels: ChannelRepository,
    found: ChannelConnection,
    incoming: ChannelOrder,
    topic: str,
) -> dict[str, Any]:
    """The answer to a verified, mapped delivery of ``found``'s store: its order placed
    once however often it is sent, a newer copy applied; an intake refusal is raised."""
    actor = Actor("channel", str(found.id))
    at = utcnow()
    operation = f"webhook {topic}"
    # Placed first, on the loop: a worker thread waiting for the group would hold one of
    # the threads the group itself needs.
    outcome = await _placed(
        app, submission_of(found, incoming, operation=operation, actor=actor, at=at)
    )
    received = None
    if isinstance(outcome, PlacedOrder):
        received = settled_by_placing(outcome, incoming, actor=actor, at=at)
    if received is None:
        received = await run_in_threadpool(
            lambda: receive_order(
                channels=channels,
                uow_factory=app.uow_factory,
                gateways=app.gateways,
                place=_given(outcome),
                connection=found,
                incoming=incoming,
                operation=operation,
                actor=actor,
                at=at,
            )
        )
    return {
        "topic": topic,
        "handled": True,
        "order_id": str(received.order.id),
        "created": received.created,
        "applied": received.applied,
    }
