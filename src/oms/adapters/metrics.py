"""Prometheus metrics a worker keeps (prometheus-client): what it delivers and how long
events waited; ``oms worker --metrics-port`` serves them. The backlog in the database is
``/metrics`` on the API (``oms.api.metrics``)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram

from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.deliveries import ClaimedDelivery
from oms.services.events import Outcome

__all__ = ["DeliveryMetrics"]

# Buckets from a hundredth of a second up to a day (retries wait hours).
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 600, 3600, 86400)


class DeliveryMetrics:
    """What a worker counts: attempts by sink and outcome, the time from an event to each
    attempt, and the sends' own latency. Emails sent and failed are counted by the email
    sink itself (``oms.adapters.email.metrics``, in the default registry)."""

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

    def observe(
        self, delivery: ClaimedDelivery, outcome: Outcome, status: DeliveryStatus, age: timedelta
    ) -> None:
        """An ``AttemptObserver`` (oms.services.event_delivery)."""
        outcome_name = "retrying" if status is DeliveryStatus.PENDING else status.value
        self.attempts.labels(delivery.sink_kind, outcome_name).inc()
        self.send_latency.labels(delivery.sink_kind).observe(outcome.latency_ms / 1000)
        if status is DeliveryStatus.DELIVERED:
            self.event_to_delivery.labels(delivery.sink_kind).observe(max(age.total_seconds(), 0.0))
