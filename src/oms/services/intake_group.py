"""Group commit for order intake: several orders in one transaction, each placed as alone.

Under load an order's statements and its commit cost the database and this process more
than the order's own work: nine statements planned, run and answered, and one log flush,
per order. ``place_group`` places a group of orders in one transaction:

1. It reads once what they all need: settings, products, locations, stock levels,
   customers and known external ids, per tenant.
2. It places each order with the code that places it alone (``intake.place_in``), against
   a ``GroupSnapshot`` of those reads (``oms.services.intake_snapshot``) that also counts
   what the group's earlier orders took.
3. It writes them all: one conditional reservation per tenant (the stock rows locked in
   (SKU, location) order, as alone), one customer upsert per tenant (in email order), one
   insert of every order and its children (payments, events, outbox messages), one of
   the released orders' fulfilment orders, and one commit.

Python's cyclic garbage collector waits while a group is placed
(``oms.services.collector_pause``): the group's objects live until its commit.

The snapshot answers only what it can answer exactly as the database would in a
transaction of the order's own. Anything else raises ``NotGroupable`` inside the order's
placement, and that order is placed alone after the group, exactly as before: an
Idempotency-Key, a payment through a gateway that calls out (``PaymentGateway.calls_out``:
a card processor; the ``manual`` gateway of a channel's reported payment only records, so
such a paid order groups, and is released with its fulfilment orders in the group), a
discount code, a cart reservation, risk rules that count past orders, a location with a
daily capacity. So is an order refused for want of stock (decided again on fresh
figures), and a second copy of an external id within the group (placed alone, it finds
the first). When writing finds that the database moved meanwhile (stock taken, an
external id or a customer created by another transaction, a deadlock), the transaction
rolls back and every order of the group is placed alone. So it does when writing fails
for any other reason (an order's row the database refuses, say, though validation should
have refused it first): alone, only the order at fault fails. Overselling stays
impossible: the reservation is the same conditional update, made for the group's total
per row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from oms.domain.errors import InsufficientStock, OmsError
from oms.domain.orders import Actor
from oms.services import intake
from oms.services.collector_pause import collector_paused
from oms.services.intake import OnCreated, PlacedOrder, PlaceOrder
from oms.services.intake_snapshot import GroupSnapshot, NotGroupable
from oms.services.payment_gateway import PaymentGateway
from oms.services.payments import GatewayProvider
from oms.services.ports import TransientStorageError, UnitOfWork, UnitOfWorkFactory
from oms.services.routing import Geocoder

__all__ = ["NotGroupable", "Outcome", "Submission", "groupable", "place_alone", "place_group"]

log = logging.getLogger(__name__)


class _WriteFailed(Exception):
    """Writing the group failed before its commit: nothing of it is stored."""


@dataclass(frozen=True)
class Submission:
    """One order to place, as ``intake.place_order`` takes it."""

    tenant_id: UUID
    command: PlaceOrder
    actor: Actor
    at: datetime
    idempotency_key: str | None = None
    fingerprint: str = ""
    # What the caller writes beside the order if it is created, in the same transaction
    # (the group's when grouped): a store's copy and sync log entry.
    on_created: OnCreated | None = None


Outcome = PlacedOrder | Exception


def groupable(command: PlaceOrder, idempotency_key: str | None, gateways: GatewayProvider) -> bool:
    """Whether an order may go in a group at all (the snapshot decides the rest).

    Never one that calls a payment gateway reaching outside the database
    (``PaymentGateway.calls_out``) or claims an Idempotency-Key: a group that rolls back
    must not have acted outside the database. A payment through a gateway that only
    records (``manual``: a channel's reported payment) may.
    """
    return (
        idempotency_key is None
        and (command.payment is None or _records_only(gateways, command.payment.gateway))
        and not command.payments  # store credit with another payment: placed alone
        and not command.discount_codes
        and command.reservation_id is None
        and command.store_location is None
    )


def _records_only(gateways: GatewayProvider, name: str) -> bool:
    """Whether the gateway ``name`` calls nothing outside the database (False when unknown:
    placed alone, the order meets the error it deserves)."""
    try:
        return not gateways(name).calls_out
    except OmsError:
        return False


def place_group(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submissions: Sequence[Submission],
    on_writing: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Place every submission: the groupable ones together (when there are two or more),
    the rest (and any the group could not take) alone with ``intake.place_order``. One
    outcome per submission, in order: the placed order, or the error placing it alone
    would have raised. ``on_writing`` is called once the group's orders are placed and its
    writes begin (what is left is mostly the database's work)."""
    outcomes: list[Outcome | None] = [None] * len(submissions)
    together = [
        i for i, s in enumerate(submissions) if groupable(s.command, s.idempotency_key, gateways)
    ]
    alone = sorted(set(range(len(submissions))) - set(together))
    if len(together) == 1:  # a group of one costs more than placing it alone
        alone.extend(together)
    elif together:
        try:
            placed = _place_together(
                uow_factory, gateways, geocoder, [submissions[i] for i in together], on_writing
            )
        except TransientStorageError as error:
            log.info("an intake group of %d went back one by one: %s", len(together), error)
            alone.extend(together)
        except _WriteFailed as failed:
            # Logged as the fault it is; the order at fault fails again alone, on its own.
            log.error(
                "an intake group of %d met an error writing; each order goes alone",
                len(together),
                exc_info=failed.__cause__,
            )
            alone.extend(together)
        else:
            for i, outcome in zip(together, placed, strict=True):
                if outcome is None:
                    alone.append(i)
                else:
                    outcomes[i] = outcome
    for i in sorted(alone):
        try:
            outcomes[i] = place_alone(uow_factory, gateways, geocoder, submissions[i])
        except Exception as error:  # it belongs to this submission's caller
            outcomes[i] = error
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(submissions), "every submission has its outcome"
    return done


def place_alone(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submission: Submission,
) -> PlacedOrder:
    """``intake.place_order`` for one submission, in a transaction of its own."""
    return intake.place_order(
        uow_factory=uow_factory,
        gateways=gateways,
        geocoder=geocoder,
        tenant_id=submission.tenant_id,
        command=submission.command,
        actor=submission.actor,
        idempotency_key=submission.idempotency_key,
        fingerprint=submission.fingerprint,
        at=submission.at,
        on_created=submission.on_created,
    )


def _recording_gateways(gateways: GatewayProvider) -> GatewayProvider:
    """``gateways`` as a group may use them: only those that call nothing outside the
    database (NotGroupable for the others, and the order is placed alone)."""

    def gateway(name: str) -> PaymentGateway:
        found = gateways(name)
        if found.calls_out:
            raise NotGroupable(f"payment gateway {name!r}")
        return found

    return gateway


def _place_together(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submissions: Sequence[Submission],
    on_writing: Callable[[], None] | None = None,
) -> list[Outcome | None]:
    """Outcomes of the orders placed in the group; None for those to place alone."""
    with collector_paused():  # its objects live until the commit (services.collector_pause)
        return _place_in_snapshot(uow_factory, gateways, geocoder, submissions, on_writing)


def _place_in_snapshot(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submissions: Sequence[Submission],
    on_writing: Callable[[], None] | None,
) -> list[Outcome | None]:
    results: list[Outcome | None] = [None] * len(submissions)
    recording = _recording_gateways(gateways)
    with uow_factory() as uow:
        snapshot = GroupSnapshot(uow, [(s.tenant_id, s.command) for s in submissions])
        for k, s in enumerate(submissions):
            snapshot.begin(s.tenant_id)
            try:
                placed = intake.place_in(
                    cast(UnitOfWork, snapshot),
                    recording,
                    geocoder,
                    s.tenant_id,
                    s.command,
                    s.actor,
                    None,
                    "",
                    s.at,
                )
            except (NotGroupable, InsufficientStock, TransientStorageError):
                snapshot.discard()
                continue
            except OmsError as error:
                snapshot.discard()
                results[k] = error
                continue
            except Exception:
                # Placed alone it will raise again if the fault is not the group's.
                log.exception("placing an order in an intake group failed")
                snapshot.discard()
                continue
            snapshot.keep()
            results[k] = placed
        if snapshot.has_writes():
            if on_writing is not None:
                on_writing()
            try:
                wrote = snapshot.write(at=max(s.at for s in submissions))
            except TransientStorageError:
                raise
            except Exception as error:
                raise _WriteFailed from error
            if not wrote:
                raise TransientStorageError("the database moved while the group was placed")
            try:
                for s, outcome in zip(submissions, results, strict=True):
                    created = isinstance(outcome, PlacedOrder) and outcome.created
                    if s.on_created is not None and created:
                        s.on_created(uow, cast(PlacedOrder, outcome))
                # What they kept for the commit, now: a fault in it is the group's.
                uow.channel_intake.flush()
            except TransientStorageError:
                raise
            except Exception as error:
                raise _WriteFailed from error
            uow.commit()
    return results
