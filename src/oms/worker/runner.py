"""``oms worker``: fan the outbox out and deliver what is due, batch after batch.

Each round fans out up to ``batch_size`` outbox messages, claiming the deliveries it
creates for itself at once, and claims up to ``batch_size`` other due deliveries (retries,
deliveries a stopped worker held); the batch's sends start on a sending thread while the
main thread goes on to the next round, and a batch's attempts are recorded once its sends
are done. So fan-out, sending and recording overlap: one batch is sending while the next
is fanned out. Webhooks go out many at once from the webhook sink's event loop
(``SendsMany``); other sinks send from ``threads`` threads. When a round finds nothing it
sleeps ``idle_seconds`` (or until told to stop). SIGTERM and SIGINT let the batches in
progress finish (their attempts are recorded) and then stop. A worker killed outright
loses nothing: its fan-out transaction is rolled back by the database, and the deliveries
it held come due again when their lease ends (``DEFAULT_LEASE``), to be sent again with
the same ``webhook-id``.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType

from sqlalchemy.exc import DBAPIError

from oms.services.event_delivery import (
    DEFAULT_LEASE,
    AttemptObserver,
    DeliveryReport,
    EventBatchRenderer,
    EventRenderer,
    SendBatch,
    SendJob,
    SendsMany,
    claim_due_batch,
    fan_out_and_claim,
    record_batch,
    send_once,
)
from oms.services.events import EventSink, Outcome
from oms.services.ports import TransientStorageError, UnitOfWorkFactory

__all__ = ["BatchSender", "RoundReport", "Worker"]

log = logging.getLogger("oms.worker")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BatchSender:
    """Sends a batch's jobs (a ``Sender``): those of a sink that ``SendsMany`` in one call
    to it, the others from ``threads`` threads at once; a job whose deadline has passed
    when its turn comes is not started."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oms-send")

    def __call__(self, jobs: Sequence[SendJob], clock: Clock) -> list[Outcome | None]:
        def run(job: SendJob) -> Outcome | None:
            return send_once(job) if clock() < job.deadline else None

        outcomes: list[Outcome | None] = [None] * len(jobs)
        together: dict[int, tuple[SendsMany, list[int]]] = {}
        threaded: list[tuple[int, Future[Outcome | None]]] = []
        now = clock()
        for n, job in enumerate(jobs):
            if isinstance(job.sink, SendsMany):
                if now < job.deadline:
                    together.setdefault(id(job.sink), (job.sink, []))[1].append(n)
            else:
                threaded.append((n, self._pool.submit(run, job)))
        for sink, numbers in together.values():
            try:
                sent = sink.send_many([jobs[n] for n in numbers])
            except Exception as error:  # a bug in a sink must not stop the others' deliveries
                log.exception("sink %s raised while sending a batch", jobs[numbers[0]].sink.kind)
                failed = Outcome(delivered=False, error=f"{type(error).__name__}: {error}")
                sent = [failed] * len(numbers)
            for n, outcome in zip(numbers, sent, strict=True):
                outcomes[n] = outcome
        for n, future in threaded:
            outcomes[n] = future.result()
        return outcomes

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass(frozen=True)
class RoundReport:
    fanned_out: int
    deliveries: DeliveryReport = field(default_factory=DeliveryReport)

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
        render_many: EventBatchRenderer | None = None,
        batch_size: int = 200,
        threads: int = 32,
        idle_seconds: float = 0.2,
        clock: Clock = _utcnow,
        rng: random.Random | None = None,
        observe: AttemptObserver | None = None,
        lease: timedelta = DEFAULT_LEASE,
        periodic: Sequence[tuple[float, Callable[[], object]]] = (),
    ) -> None:
        self._uow_factory = uow_factory
        # Jobs run between rounds every so many seconds (the analytics rollups' refresh),
        # first at the first round; a failure is logged and tried again next time.
        self._periodic = [(seconds, job) for seconds, job in periodic]
        self._next_run = [0.0 for _ in self._periodic]
        self._sinks = list(sinks)
        self._by_kind: Mapping[str, EventSink] = {sink.kind: sink for sink in sinks}
        self._render = render
        self._render_many = render_many
        self._batch = batch_size
        self._idle = idle_seconds
        self._clock = clock
        self._rng = rng or random.Random()
        self._observe = observe
        self._lease = lease
        self._sender = BatchSender(threads)
        # Send and record each batch, so that the main thread can fan out the next meanwhile.
        self._sending = ThreadPoolExecutor(max_workers=2, thread_name_prefix="oms-batch")
        self._in_flight: deque[Future[DeliveryReport]] = deque()
        self._stop = threading.Event()

    def add_periodic(self, seconds: float, job: Callable[[], object]) -> None:
        """Run ``job`` every ``seconds`` between rounds too, first at the next round."""
        self._periodic.append((seconds, job))
        self._next_run.append(0.0)

    def stop(self) -> None:
        """Finish the batches in progress, then return from ``run``."""
        self._stop.set()

    def _claim(self) -> tuple[int, SendBatch]:
        fanned, batch = fan_out_and_claim(
            uow_factory=self._uow_factory,
            sinks=self._sinks,
            render=self._render,
            clock=self._clock,
            limit=self._batch,
            lease=self._lease,
            render_many=self._render_many,
        )
        batch.extend(
            claim_due_batch(
                uow_factory=self._uow_factory,
                sinks=self._by_kind,
                clock=self._clock,
                limit=self._batch,
                lease=self._lease,
            )
        )
        return fanned, batch

    def _send_and_record(self, batch: SendBatch) -> DeliveryReport:
        """On a sending thread: send the batch, then record its attempts at once."""
        outcomes = self._sender(batch.jobs, self._clock)
        try:
            return record_batch(
                uow_factory=self._uow_factory,
                sinks=self._by_kind,
                batch=batch,
                outcomes=outcomes,
                clock=self._clock,
                rng=self._rng,
                observe=self._observe,
            )
        except (TransientStorageError, DBAPIError) as error:
            # Sent but not recorded: the deliveries come due again when their lease ends
            # (at least once).
            log.warning("recording %d attempts failed: %s", len(batch), str(error).splitlines()[0])
            return DeliveryReport(claimed=len(batch), handed_back=len(batch))

    def run_round(self) -> RoundReport:
        """Fan out and claim one batch, and hand it to a sending thread, which sends it and
        records its attempts; at most two batches are sending at once (the round waits for
        the older one). A round that finds nothing waits for what is still sending."""
        fanned, batch = self._claim()
        while self._in_flight and (len(self._in_flight) >= 2 or not len(batch)):
            self._in_flight.popleft().result()
        if len(batch):
            self._in_flight.append(self._sending.submit(self._send_and_record, batch))
        return RoundReport(fanned, DeliveryReport(claimed=len(batch)))

    def run_periodic(self) -> None:
        """Run the periodic jobs that are due (a monotonic clock decides, not ``clock``)."""
        for n, (seconds, job) in enumerate(self._periodic):
            if time.monotonic() < self._next_run[n]:
                continue
            self._next_run[n] = time.monotonic() + seconds
            try:
                job()
            except Exception:  # a job's failure must not stop the deliveries
                log.exception("periodic job failed; tried again in %s s", seconds)

    def run(self, *, once: bool = False) -> int:
        """Rounds until stopped (``once``: until a round finds nothing to do); the number
        of deliveries claimed for an attempt."""
        attempted = 0
        try:
            while not self._stop.is_set():
                self.run_periodic()
                try:
                    report = self.run_round()
                except (TransientStorageError, DBAPIError) as error:
                    # The database is busy or away: try again shortly, never crash.
                    log.warning("worker round failed, retrying: %s", str(error).splitlines()[0])
                    self._stop.wait(1.0)
                    continue
                attempted += report.deliveries.claimed
                if report.idle and not self._in_flight:
                    if once:
                        break
                    self._stop.wait(self._idle)
        finally:
            while self._in_flight:
                self._in_flight.popleft().result()
            self._sending.shutdown(wait=True)
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
