"""/v1/webhook-endpoints: create (secret shown once), list, read, delete, rotate, the SSRF
guard, deliveries, retry and replay, tenant isolation; on SQLite and PostgreSQL.

The guard is on here (no OMS_WEBHOOK_ALLOW_PRIVATE): endpoints created through the API
name public address literals, which need no DNS. The delivery tests make their endpoint
through the use case with the guard off, so the worker can reach a loopback receiver. The
worker claims every tenant's outbox, so this module has a database of its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

import oms.services.webhook_endpoints as webhook_endpoints_service
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.sink import WebhookSink, new_client
from oms.api.event_data import render_event_data
from oms.services import webhook_endpoints as endpoints
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.ports import OutboxMessage
from tests.api.support import ApiTenant, TestClient, assert_problem, walk_pages
from tests.databases import ENGINES, own_database
from tests.webhook_receiver import Receiver, receiving

PUBLIC = "https://93.184.215.14/hooks"  # an address literal on the public internet


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "webhook_api")


def _create(client: TestClient, tenant: ApiTenant, **body: object) -> dict:
    response = client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": PUBLIC, "event_types": ["order.created"], **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_creating_an_endpoint_shows_its_secret_once(client: TestClient, tenant: ApiTenant) -> None:
    created = _create(
        client, tenant, event_types=["order.created", "shipment.delivered"], description="ERP"
    )

    assert created["secret"].startswith("whsec_")
    assert created["status"] == "enabled"
    assert created["event_types"] == ["order.created", "shipment.delivered"]
    read = client.get(f"/v1/webhook-endpoints/{created['id']}", headers=tenant.headers).json()
    assert "secret" not in read
    assert read["url"] == PUBLIC
    assert read["description"] == "ERP"
    listed = client.get("/v1/webhook-endpoints", headers=tenant.headers).json()
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    assert listed["next_cursor"] is None


def test_every_event_type_is_asked_for_with_a_star(client: TestClient, tenant: ApiTenant) -> None:
    assert _create(client, tenant, event_types=["*"])["event_types"] == ["*"]


def test_endpoints_are_listed_page_by_page(client: TestClient, tenant: ApiTenant) -> None:
    made = [_create(client, tenant)["id"] for _ in range(3)]

    pages = walk_pages(client, "/v1/webhook-endpoints", tenant.headers, limit=2)

    assert [len(page) for page in pages] == [2, 1]
    assert [e["id"] for page in pages for e in page] == made


def test_an_unknown_event_type_is_refused_where_it_is(
    client: TestClient, tenant: ApiTenant
) -> None:
    response = client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": PUBLIC, "event_types": ["order.created", "order.exploded"]},
    )

    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/event_types/1"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hooks",
        "http://localhost:8000/hooks",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://93.184.215.14/hooks",
        "file:///etc/passwd",
        "http://user:pass@93.184.215.14/",
        "not a url",
    ],
)
def test_a_url_that_does_not_reach_a_public_address_is_refused(
    client: TestClient, tenant: ApiTenant, url: str
) -> None:
    response = client.post(
        "/v1/webhook-endpoints", headers=tenant.headers, json={"url": url, "event_types": ["*"]}
    )

    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/url"]


def test_deleting_an_endpoint_forgets_it(client: TestClient, tenant: ApiTenant) -> None:
    created = _create(client, tenant)

    assert (
        client.delete(f"/v1/webhook-endpoints/{created['id']}", headers=tenant.headers).status_code
        == 204
    )
    assert_problem(
        client.get(f"/v1/webhook-endpoints/{created['id']}", headers=tenant.headers), 404
    )
    assert_problem(
        client.delete(f"/v1/webhook-endpoints/{created['id']}", headers=tenant.headers), 404
    )


def test_rotating_the_secret_shows_the_new_one_and_the_overlap(
    client: TestClient, tenant: ApiTenant
) -> None:
    created = _create(client, tenant)

    rotated = client.post(
        f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=tenant.headers
    )

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    assert rotated.json()["secret_rotated_until"] is not None


def test_another_tenant_sees_none_of_it(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    created = _create(client, tenant)
    base = f"/v1/webhook-endpoints/{created['id']}"

    assert_problem(client.get(base, headers=other_tenant.headers), 404)
    assert_problem(client.delete(base, headers=other_tenant.headers), 404)
    assert_problem(client.post(f"{base}/rotate-secret", headers=other_tenant.headers), 404)
    assert_problem(client.get(f"{base}/deliveries", headers=other_tenant.headers), 404)
    assert_problem(
        client.post(
            f"{base}/replay", headers=other_tenant.headers, json={"since": "2026-01-01T00:00:00Z"}
        ),
        404,
    )
    assert client.get("/v1/webhook-endpoints", headers=other_tenant.headers).json()["items"] == []
    assert client.get(base, headers=tenant.headers).status_code == 200


def _deliver(uow: SqlUnitOfWorkFactory, sink: WebhookSink, now: datetime) -> None:
    clock = lambda: now  # noqa: E731
    while fan_out(uow_factory=uow, sinks=[sink], render=render_event_data, clock=clock, limit=200):
        pass
    deliver_due(
        uow_factory=uow, sinks={sink.kind: sink}, clock=clock, rng=random.Random(1), limit=200
    )


def test_deliveries_are_listed_retried_and_replayed(
    client: TestClient,
    tenant: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fixed moment, in the past: the API's retry and replay read the services' clock
    # (their routers take no clock yet), so it is set to this moment here; a time read
    # anywhere else would leave the retried delivery not yet due, and the test red.
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(webhook_endpoints_service, "utcnow", lambda: now)
    sink = WebhookSink(
        client=new_client(), guard=AddressGuard(allow_private=True), clock=lambda: now
    )
    with receiving(Receiver(secrets=[], answers=[500], clock=lambda: now)) as receiver:
        endpoint = endpoints.create_endpoint(
            uow_factory=api_uow,
            tenant_id=tenant.id,
            url=receiver.url,
            event_types=["*"],
            description=None,
            check=AddressGuard(allow_private=True),
        )
        receiver.secrets.append(endpoint.secret)
        with api_uow() as work:
            work.outbox.add_many(
                tenant.id, [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, now)]
            )
            work.commit()
        _deliver(api_uow, sink, now)
        base = f"/v1/webhook-endpoints/{endpoint.id}"

        listed = client.get(f"{base}/deliveries", headers=tenant.headers).json()
        [failed] = listed["items"]
        assert (failed["status"], failed["attempts"], failed["response_status_code"]) == (
            "pending",
            1,
            500,
        )
        assert failed["event_type"] == "webhook_endpoint.disabled"
        assert failed["latency_ms"] > 0
        assert failed["attempt_history"] is None

        retried = client.post(f"{base}/deliveries/{failed['id']}/retry", headers=tenant.headers)
        assert retried.status_code == 200
        assert retried.json()["status"] == "pending"
        _deliver(api_uow, sink, now + timedelta(minutes=1))  # due again after the retry's wait

        one = client.get(f"{base}/deliveries/{failed['id']}", headers=tenant.headers).json()
        assert one["status"] == "delivered"
        assert [a["status_code"] for a in one["attempt_history"]] == [500, 200]
        filtered = client.get(f"{base}/deliveries?status=delivered", headers=tenant.headers).json()
        assert [d["id"] for d in filtered["items"]] == [failed["id"]]

        replayed = client.post(
            f"{base}/replay",
            headers=tenant.headers,
            json={"since": (now - timedelta(hours=1)).isoformat()},
        )
        assert replayed.status_code == 200
        assert replayed.json() == {"scheduled": 1}
        _deliver(api_uow, sink, now + timedelta(minutes=2))
    sink.close()

    assert len(receiver.arrivals) == 3
    assert len(set(receiver.ids())) == 1
    assert all(a.verified for a in receiver.arrivals)
    assert_problem(
        client.post(f"{base}/deliveries/{endpoint.id}/retry", headers=tenant.headers), 404
    )


def test_a_replay_from_the_future_is_refused(client: TestClient, tenant: ApiTenant) -> None:
    created = _create(client, tenant)
    response = client.post(
        f"/v1/webhook-endpoints/{created['id']}/replay",
        headers=tenant.headers,
        json={"since": "2999-01-01T00:00:00Z"},
    )

    assert [e["pointer"] for e in assert_problem(response, 422)["errors"]] == ["#/since"]


def test_metrics_show_what_waits_for_the_workers(
    client: TestClient, tenant: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    with api_uow() as work:
        work.outbox.add_many(
            tenant.id,
            [OutboxMessage("order.placed", tenant.id, {}, datetime(2026, 1, 1, tzinfo=UTC))],
        )
        work.commit()

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in response.text.splitlines()
        if line and not line.startswith("#")
    }
    assert values["oms_outbox_backlog"] >= 1
    assert values["oms_outbox_oldest_age_seconds"] > 0
    assert {"oms_deliveries_pending", "oms_deliveries_due"} <= set(values)
