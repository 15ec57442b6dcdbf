"""Real ``oms worker`` processes on PostgreSQL: one killed with SIGKILL in the middle of a
batch, two more started after it; every event reaches the receiver at least once (a
repeat carries the same webhook-id and the same body), nothing of a rolled-back
transaction does, and SIGTERM stops a worker cleanly.

The only waiting is for the receiver to have seen what is expected (with a deadline), and
for the killed worker's leases (two seconds here) to end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import event_deliveries
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.webhooks.addresses import AddressGuard
from oms.services import webhook_endpoints as endpoints
from oms.services.ports import OutboxMessage
from oms.services.tenants import create_tenant
from tests.databases import own_database
from tests.webhook_receiver import Receiver, receiving

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""

pytestmark = pytest.mark.postgres

OMS = Path(sys.executable).with_name("oms")
EVENTS = 200
DEADLINE = 60.0


@pytest.fixture(scope="module")
def pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    request.param = "postgres"  # type: ignore[attr-defined]
    yield from own_database(request, "worker_process")


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    give_up = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def _worker(url: str, log: IO[bytes], *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMS_DATABASE_URL": url,
        "OMS_ENVIRONMENT": "test",
        "OMS_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    return subprocess.Popen(  # noqa: S603 - our own oms command
        [str(OMS), "worker", "--lease-seconds", "2", "--idle-seconds", "0.05", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_worker_loses_nothing_and_two_workers_deliver_everything(
    pg_engine: Engine, tmp_path: Path
) -> None:
    uow = SqlUnitOfWorkFactory(pg_engine)
    url = pg_engine.url.render_as_string(hide_password=False)
    tenant, _ = create_tenant(uow_factory=uow, name="merchant")
    log_path = tmp_path / "workers.log"
    with (
        log_path.open("ab") as log,
        receiving(Receiver(secrets=[], delay=0.0, own_stamp=True)) as receiver,
    ):
        endpoint = endpoints.create_endpoint(
            uow_factory=uow,
            tenant_id=tenant.id,
            url=receiver.url,
            event_types=["*"],
            description=None,
            check=AddressGuard(allow_private=True),
        )
        receiver.secrets.append(endpoint.secret)
        rolled_back = uuid4()
        with uow() as work:
            work.outbox.add_many(
                tenant.id, [OutboxMessage("webhook_endpoint.disabled", rolled_back, {}, AT)]
            )
            work.rollback()
        with uow() as work:
            work.outbox.add_many(
                tenant.id,
                [
                    OutboxMessage("webhook_endpoint.disabled", uuid4(), {"n": n}, AT)
                    for n in range(EVENTS)
                ],
            )
            work.commit()

        first = _worker(url, log, "--batch-size", "100", "--threads", "4")
        try:
            _wait_for(lambda: len(receiver.arrivals) >= 20, "the first worker to start sending")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        seen_before_restart = len(receiver.arrivals)
        assert seen_before_restart < EVENTS, "killed after the end: make the batch slower"

        others = [_worker(url, log, "--batch-size", "50", "--threads", "8") for _ in range(2)]
        try:
            # SIGTERM is the worker's to handle once it runs: wait until both say so (a
            # loaded machine can take seconds to start them; the first could deliver all).
            _wait_for(
                lambda: log_path.read_text().count("oms worker: delivering") >= 3,
                "both workers to start",
            )
            _wait_for(lambda: len(set(receiver.ids())) >= EVENTS, "every event to arrive")
            _wait_for(lambda: _all_delivered(uow, tenant.id), "every delivery to be recorded")
        finally:
            for worker in others:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=30) for worker in others]

    assert codes == [0, 0], log_path.read_text()[-2000:]
    assert log_path.read_text().count("stopped after") == 2
    arrivals = receiver.arrivals
    assert all(a.verified for a in arrivals), {a.error for a in arrivals}
    by_id: dict[str, set[bytes]] = {}
    for arrival in arrivals:
        by_id.setdefault(arrival.webhook_id, set()).add(arrival.body)
    assert len(by_id) == EVENTS
    assert all(len(bodies) == 1 for bodies in by_id.values())  # a repeat is the same event
    assert str(rolled_back) not in {a.payload["data"]["id"] for a in arrivals}
    assert sorted(Counter(a.payload["type"] for a in arrivals)) == ["webhook_endpoint.disabled"]


def _all_delivered(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> bool:
    with uow(readonly=True) as work:
        statuses = [
            row.status
            for row in work._conn.execute(  # type: ignore[attr-defined]
                select(event_deliveries.c.status).where(event_deliveries.c.tenant_id == tenant_id)
            )
        ]
    return len(statuses) == EVENTS and set(statuses) == {"delivered"}
