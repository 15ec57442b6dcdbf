"""POST /v1/orders under concurrency: orders go in groups, and each caller gets its own answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from oms.api import app as app_module
from oms.services.intake_group import Outcome, Submission
from tests.api.support import (
    ApiTenant,
    TestClient,
    create_location,
    create_product,
    order_body,
    set_on_hand,
    stock_of,
)


def test_concurrent_orders_are_grouped_and_answered_one_by_one(
    client: TestClient, tenant: ApiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_location(client, tenant, "WH")
    create_product(client, tenant, "TEE")
    create_product(client, tenant, "MUG")
    set_on_hand(client, tenant, "TEE", "WH", 5)
    set_on_hand(client, tenant, "MUG", "WH", 100)
    groups: list[int] = []
    real = app_module.place_group

    def recording(**kwargs: Any) -> list[Outcome]:
        submissions: Sequence[Submission] = kwargs["submissions"]
        groups.append(len(submissions))
        return real(**kwargs)

    monkeypatch.setattr(app_module, "place_group", recording)
    bodies = [
        *(order_body(("TEE", 1), allow_backorder=False, external_id=f"t-{n}") for n in range(12)),
        *(order_body(("MUG", 1), external_id="same") for _ in range(3)),
        order_body(("NOPE", 1)),
    ]

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
            return list(
                await asyncio.gather(
                    *(http.post("/v1/orders", headers=tenant.headers, json=b) for b in bodies)
                )
            )

    answers = asyncio.run(send_all())

    tees, copies, invalid = answers[:12], answers[12:15], answers[15]
    assert Counter(a.status_code for a in tees) == Counter({201: 5, 409: 7})
    for refused in (a for a in tees if a.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        assert [s["sku"] for s in refused.json()["shortages"]] == ["TEE"]
    assert sorted(a.status_code for a in copies) == [200, 200, 201]
    assert len({a.json()["id"] for a in copies}) == 1
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert stock_of(client, tenant, "TEE")["reserved"] == 5
    assert stock_of(client, tenant, "MUG")["reserved"] == 1
    # Sixteen requests, fewer groups: they went together.
    assert sum(groups) == len(bodies)
    assert len(groups) < len(bodies)
