"""Prometheus metrics of events out (prometheus-client).

The worker counts what it delivers and how long events waited (``oms worker
--metrics-port`` serves them); ``/metrics`` on the API reads what waits in the database
at each scrape (outbox backlog, its oldest message's age, deliveries pending and due), so
one scrape of any API process sees the whole deployment's backlog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.deliveries import ClaimedDelivery
from oms.services.events import Outcome
from oms.services.ports import UnitOfWorkFactory

__all__ = ["BacklogCollector", "DeliveryMetrics"]

# From 10 ms to 2 minutes, then the retries' hours.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 600, 3600, 86400)


class DeliveryMetrics:
    """What a worker counts: attempts by sink and outcome, the time from an event to each
    attempt, and the sends' own latency. ``emails_sent``/``emails_failed`` are the email
    sink's to count."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "oms_event_delivery_attempts",
            "Delivery attempts by sink and the status they left the delivery in",
            ["sink", "outcome"],
            registry=registry,
        )
        self.event_to_delivery = Histogram(
            "oms_event_to_delivery_seconds",
            "From an event's creation to its successful delivery",
            ["sink"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.send_latency = Histogram(
            "oms_event_send_seconds",
            "How long one send took (the receiver's answer included)",
            ["sink"],
            registry=registry,
        )
        self.emails_sent = Counter(
            "oms_emails_sent", "Emails the SMTP server accepted", registry=registry
        )
        self.emails_failed = Counter(
            "oms_emails_failed", "Emails that could not be sent", registry=registry
        )

    def observe(
        self, delivery: ClaimedDelivery, outcome: Outcome, status: DeliveryStatus, age: timedelta
    ) -> None:
        """An ``AttemptObserver`` (oms.services.event_delivery)."""
        outcome_name = "retrying" if status is DeliveryStatus.PENDING else status.value
        self.attempts.labels(delivery.sink_kind, outcome_name).inc()
        self.send_latency.labels(delivery.sink_kind).observe(outcome.latency_ms / 1000)
        if status is DeliveryStatus.DELIVERED:
            self.event_to_delivery.labels(delivery.sink_kind).observe(max(age.total_seconds(), 0.0))


class BacklogCollector(Collector):
    """Reads the backlog from the database at each scrape."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Callable[[], datetime]) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        with self._uow_factory(readonly=True) as uow:
            backlog = uow.deliveries.backlog(now=now)
        yield GaugeMetricFamily(
            "oms_outbox_backlog", "Outbox messages not fanned out yet", value=backlog.outbox_waiting
        )
        age = (
            0.0
            if backlog.oldest_waiting_at is None
            else (now - backlog.oldest_waiting_at).total_seconds()
        )
        yield GaugeMetricFamily(
            "oms_outbox_oldest_age_seconds",
            "Age of the oldest outbox message not fanned out yet (0: none)",
            value=max(age, 0.0),
        )
        yield GaugeMetricFamily(
            "oms_deliveries_pending",
            "Deliveries waiting for an attempt",
            value=backlog.deliveries_pending,
        )
        yield GaugeMetricFamily(
            "oms_deliveries_due",
            "Pending deliveries whose attempt is due now",
            value=backlog.deliveries_due,
        )
