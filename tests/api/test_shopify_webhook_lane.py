"""The Shopify webhook lane answers a store's new orders itself and hands every other
delivery, its body intact, to the route, which answers it as it always has. The webhook
tests of test_channels.py and test_channel_webhook_intake.py run through both (the
``webhook_path`` fixture); these show which requests the lane takes."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from starlette.routing import Match

from oms.adapters.channels.shopify import signature_of
from oms.api.webhook_lane import ShopifyWebhookLane
from tests.api.support import ApiTenant, TestClient, api_routes, assert_problem
from tests.api.test_channels import (
    FIXTURE,
    ORDER_ID,
    SECRET,
    connect_shop,
    deliver,
    fixture_payload,
    orders_of,
    stock_the_shop,
)
from tests.api.test_intake_lane import HandedOn

LANE = pytest.mark.parametrize("webhook_path", ["lane"], indirect=True)


@pytest.fixture
def handed_on(client: TestClient) -> Iterator[HandedOn]:
    assert client.get("/healthz").status_code == 200  # builds the middleware stack
    node: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(node, ShopifyWebhookLane):
        node = node.app
    recorder = HandedOn(node.app)
    node.app = recorder
    yield recorder
    node.app = recorder.app


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    stock_the_shop(client, tenant)
    return connect_shop(client, tenant)


def _webhooks_handed_on(recorder: HandedOn, shop: dict[str, Any]) -> list[bytes]:
    return [body for _, path, body in recorder.seen if path == shop["webhook_path"]]


def _sent(
    client: TestClient, shop: dict[str, Any], raw: bytes, *, path: str = "", **headers: str
) -> Any:
    return client.post(
        shop["webhook_path"] + path,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signature_of(raw, SECRET),
            "X-Shopify-Webhook-Id": str(uuid4()),
            **headers,
        },
    )


@LANE
@pytest.mark.usefixtures("webhook_path")
def test_a_new_order_and_its_copies_are_answered_by_the_lane(
    client: TestClient, tenant: ApiTenant, shop: dict[str, Any], handed_on: HandedOn
) -> None:
    raw = FIXTURE.read_bytes()

    created = deliver(client, shop, raw)
    again = deliver(client, shop, raw, webhook_id="another-delivery")
    paid = deliver(client, shop, raw, topic="orders/paid")

    assert _webhooks_handed_on(handed_on, shop) == []
    assert created.status_code == 200, created.text
    assert created.headers["content-type"] == "application/json"
    assert created.json() == {
        "topic": "orders/create",
        "handled": True,
        "order_id": created.json()["order_id"],
        "created": True,
        "applied": True,
    }
    assert again.json() == {**created.json(), "created": False, "applied": False}
    assert paid.json() == {**again.json(), "topic": "orders/paid"}
    (order,) = orders_of(client, tenant, shop)
    assert (order["id"], order["external_id"]) == (created.json()["order_id"], ORDER_ID)


def _cancelled() -> bytes:
    payload = fixture_payload()
    payload.update(cancelled_at="2026-12-07T12:00:00+01:00", cancel_reason="customer")
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("raw", "path", "headers", "status"),
    [
        pytest.param(FIXTURE.read_bytes(), "?shop=x", {}, 200, id="query-string"),
        pytest.param(
            FIXTURE.read_bytes(), "", {"X-Shopify-Hmac-Sha256": "bm9wZQ=="}, 401, id="signature"
        ),
        pytest.param(FIXTURE.read_bytes(), "", {"X-Shopify-Topic": ""}, 200, id="no-topic"),
        pytest.param(
            FIXTURE.read_bytes(), "", {"X-Shopify-Topic": "orders/fulfilled"}, 200, id="topic"
        ),
        pytest.param(
            _cancelled(), "", {"X-Shopify-Topic": "orders/cancelled"}, 200, id="cancelled-topic"
        ),
        pytest.param(_cancelled(), "", {"X-Shopify-Topic": "orders/updated"}, 200, id="cancelled"),
        pytest.param(b'{"id": 1, "line_items": [', "", {}, 422, id="broken-json"),
        pytest.param(b'{"id": 12.5}', "", {}, 422, id="not-an-order"),
        pytest.param(FIXTURE.read_bytes(), "", {"X-Note": "a\x00b"}, 422, id="nul-in-a-header"),
        pytest.param(FIXTURE.read_bytes() + b" " * 16_000, "", {}, 413, id="too-large"),
    ],
)
@LANE
@pytest.mark.usefixtures("webhook_path")
def test_every_other_delivery_reaches_the_route_with_its_body_intact(
    client: TestClient,
    shop: dict[str, Any],
    handed_on: HandedOn,
    raw: bytes,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    response = _sent(client, shop, raw, path=path, **headers)

    assert response.status_code == status, response.text
    assert _webhooks_handed_on(handed_on, shop) == [raw]


@pytest.mark.parametrize("webhook_path", ["route"], indirect=True)
@pytest.mark.usefixtures("webhook_path")
def test_a_connection_the_cache_does_not_hold_goes_to_the_route(
    client: TestClient, shop: dict[str, Any], handed_on: HandedOn
) -> None:
    raw = FIXTURE.read_bytes()

    response = deliver(client, shop, raw)

    assert response.json()["created"] is True
    assert _webhooks_handed_on(handed_on, shop) == [raw]


@LANE
@pytest.mark.usefixtures("webhook_path")
def test_an_intake_refusal_is_answered_by_the_lane_as_the_route_answers_it(
    client: TestClient, shop: dict[str, Any], handed_on: HandedOn
) -> None:
    payload = fixture_payload()
    payload["currency"] = "EURO"
    raw = json.dumps(payload).encode()

    by_lane = _sent(client, shop, raw)
    by_route = _sent(client, shop, raw, path="?by=route")

    assert len(_webhooks_handed_on(handed_on, shop)) == 1  # only the one with a query
    assert_problem(by_lane, 422)
    assert by_lane.json() == by_route.json()
    assert by_lane.headers["content-type"] == by_route.headers["content-type"]


def test_the_lane_knows_everything_the_route_and_the_app_run_for_a_webhook(
    client: TestClient,
) -> None:
    """The lane does by hand what these do for the route. A new middleware, app-wide
    dependency or parameter of the route must be taught to the lane (or make it hand the
    request on) before this test is changed."""
    app: Any = client.app
    path = f"/channels/{uuid4()}/shopify/webhooks"
    scope = {"type": "http", "method": "POST", "path": path, "root_path": ""}
    route = next(r for r in api_routes(app) if r.matches(scope)[0] is Match.FULL)
    assert route.endpoint.__name__ == "shopify_webhook"
    assert [m.cls.__name__ for m in app.user_middleware] == [
        "IntakeLane",
        "ShopifyWebhookLane",
        "BodySizeLimit",
    ]
    assert [d.dependency.__name__ for d in app.router.dependencies] == ["reject_nul_characters"]
    assert list(inspect.signature(route.endpoint).parameters) == [
        "channel_id",
        "request",
        "app",
        "state",
    ]
