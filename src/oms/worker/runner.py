"""``oms worker``: fan the outbox out and deliver what is due, batch after batch.

Each round fans out up to ``batch_size`` outbox messages and delivers up to ``batch_size``
due deliveries, sending them from a pool of threads; when a round finds nothing it sleeps
``idle_seconds`` (or until told to stop). SIGTERM and SIGINT let the round in progress
finish (its attempts are recorded) and then stop. A worker killed outright loses nothing:
its fan-out transaction is rolled back by the database, and the deliveries it held come
due again when their lease ends (``DEFAULT_LEASE``), to be sent again with the same
``webhook-id``.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

from sqlalchemy.exc import DBAPIError

from oms.services.event_delivery import (
    DEFAULT_LEASE,
    AttemptObserver,
    DeliveryReport,
    EventRenderer,
    SendJob,
    deliver_due,
    fan_out,
    send_once,
)
from oms.services.events import EventSink, Outcome
from oms.services.ports import TransientStorageError, UnitOfWorkFactory

__all__ = ["RoundReport", "ThreadedSender", "Worker"]

log = logging.getLogger("oms.worker")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ThreadedSender:
    """Sends a batch's jobs from ``threads`` threads at once (each blocks on its receiver);
    a job whose deadline has passed when its turn comes is not started."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oms-send")

    def __call__(self, jobs: Sequence[SendJob], clock: Clock) -> list[Outcome | None]:
        def run(job: SendJob) -> Outcome | None:
            return send_once(job) if clock() < job.deadline else None

        return list(self._pool.map(run, jobs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass(frozen=True)
class RoundReport:
    fanned_out: int
    deliveries: DeliveryReport

    @property
    def idle(self) -> bool:
        return self.fanned_out == 0 and self.deliveries.claimed == 0


class Worker:
    """One worker process's loop over the outbox and the deliveries."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        sinks: Sequence[EventSink],
        render: EventRenderer,
        batch_size: int = 200,
        threads: int = 32,
        idle_seconds: float = 0.2,
        clock: Clock = _utcnow,
        rng: random.Random | None = None,
        observe: AttemptObserver | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._uow_factory = uow_factory
        self._sinks = list(sinks)
        self._by_kind: Mapping[str, EventSink] = {sink.kind: sink for sink in sinks}
        self._render = render
        self._batch = batch_size
        self._idle = idle_seconds
        self._clock = clock
        self._rng = rng or random.Random()
        self._observe = observe
        self._lease = lease
        self._sender = ThreadedSender(threads)
        self._stop = threading.Event()

    def stop(self) -> None:
        """Finish the round in progress, then return from ``run``."""
        self._stop.set()

    def run_round(self) -> RoundReport:
        """Fan out one batch and deliver one batch."""
        fanned = fan_out(
            uow_factory=self._uow_factory,
            sinks=self._sinks,
            render=self._render,
            clock=self._clock,
            limit=self._batch,
        )
        report = deliver_due(
            uow_factory=self._uow_factory,
            sinks=self._by_kind,
            clock=self._clock,
            rng=self._rng,
            limit=self._batch,
            sender=self._sender,
            observe=self._observe,
            lease=self._lease,
        )
        return RoundReport(fanned, report)

    def run(self, *, once: bool = False) -> int:
        """Rounds until stopped (``once``: until a round finds nothing to do); the number
        of deliveries attempted."""
        attempted = 0
        try:
            while not self._stop.is_set():
                try:
                    report = self.run_round()
                except (TransientStorageError, DBAPIError) as error:
                    # The database is busy or away: try again shortly, never crash.
                    log.warning("worker round failed, retrying: %s", str(error).splitlines()[0])
                    self._stop.wait(1.0)
                    continue
                attempted += report.deliveries.claimed - report.deliveries.handed_back
                if report.idle:
                    if once:
                        break
                    self._stop.wait(self._idle)
        finally:
            self._sender.close()
            for sink in self._sinks:
                close = getattr(sink, "close", None)
                if callable(close):
                    close()
        return attempted

    def stop_on_signals(self) -> None:
        """SIGTERM and SIGINT stop the loop after the round in progress."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: finishing the batch in progress, then stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
