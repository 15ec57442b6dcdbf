"""/metrics: Prometheus text of what waits for the workers (docs/events.md, operations).

Read from the database at each scrape, so any API process answers for the deployment;
each ``oms worker`` serves its own counters (``--metrics-port``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from oms.api.deps import UowDep
from oms.api.metrics import metrics_text
from oms.api.one_hop import OneHopRoute
from oms.services.common import utcnow

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, tags=["operations"])


@router.get("/metrics", response_class=Response)
async def metrics(uow: UowDep) -> Response:
    """Outbox backlog and its oldest message's age, deliveries pending and due."""
    text = await run_in_threadpool(metrics_text, uow, utcnow)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
