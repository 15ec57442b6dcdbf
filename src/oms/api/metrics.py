"""The API's Prometheus metrics: what waits in the database for the workers, read at each
scrape, so one scrape of any API process sees the whole deployment's backlog."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from oms.services.ports import UnitOfWorkFactory

__all__ = ["BacklogCollector", "metrics_text"]


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


def metrics_text(uow_factory: UnitOfWorkFactory, clock: Callable[[], datetime]) -> bytes:
    """The Prometheus text exposition of the backlog now."""
    registry = CollectorRegistry()
    registry.register(BacklogCollector(uow_factory, clock))
    return generate_latest(registry)
