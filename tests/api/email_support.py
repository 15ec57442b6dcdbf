"""A stand-in for the email sink in portal tests: records what ``oms worker``'s delivery use
cases would send, and one round of fan-out and delivery on a given clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from random import Random
from uuid import UUID

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.event_data import render_event_data
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork

__all__ = ["RecordingEmails", "deliver_emails"]


class RecordingEmails:
    """An email sink of one tenant: the order confirmation for each order created; every
    send recorded as (event id, template) and accepted."""

    kind = "email"

    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.sent: list[tuple[UUID, str]] = []

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        wanted = event.tenant_id == self.tenant_id and event.type == "order.created"
        return ["order_confirmed"] if wanted else []

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        return key

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        self.sent.append((event.id, key))
        return Outcome(delivered=True, status_code=250)


def deliver_emails(uow: SqlUnitOfWorkFactory, sink: RecordingEmails, at: datetime) -> None:
    while fan_out(
        uow_factory=uow, sinks=[sink], render=render_event_data, clock=lambda: at, limit=500
    ):
        pass
    deliver_due(uow_factory=uow, sinks={"email": sink}, clock=lambda: at, rng=Random(1), limit=500)
