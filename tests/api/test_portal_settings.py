"""The portal's settings pages over HTTP: webhook endpoints (create with the secret shown
once, the SSRF guard's refusal on the page, rotate, delete, the delivery log with retry and
replay), notification settings and a template preview, the routing profile and its
versions, carrier rate cards and API keys; each scoped to the viewer's tenant, changes for
admins only and only with the session's CSRF token.

The delivery test fans the outbox out like the worker, which claims every tenant's
messages, so this module has a database of its own (as tests/api/test_webhook_endpoints.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

import oms.services.webhook_endpoints as webhook_endpoints_service
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.sink import WebhookSink, new_client
from oms.api.event_data import render_event_data
from oms.domain.users import Role, User
from oms.services import webhook_endpoints as endpoints
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.ports import OutboxMessage
from tests.api.portal_pages import read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient, new_operator_headers
from tests.databases import ENGINES, own_database
from tests.webhook_receiver import Receiver, receiving

PUBLIC = "https://93.184.215.14/hooks"  # an address literal on the public internet
HOOKS = "/app/settings/webhooks"


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "portal_settings")


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, tenant.id)


def _post(client: TestClient, page: str, action: str, data: Any = None) -> Any:
    """Send the form at ``action`` with the CSRF token of ``page``."""
    body: dict[str, list[str]] = {"csrf_token": [csrf_of(client.get(page).text)]}
    for name, value in data or []:
        body.setdefault(name, []).append(value)
    return client.post(action, data=body, follow_redirects=False)


def _listed(client: TestClient) -> list[list[str]]:
    return read(client.get(HOOKS).text).tables.get("endpoints", [])[1:]


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    sign_in(client, admin)

    created = _post(
        client,
        HOOKS,
        HOOKS,
        [("url", PUBLIC), ("description", "ERP"), ("event_types", "order.created")],
    )

    assert created.status_code == 201
    secret = created.text.split('id="secret">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    [row] = _listed(client)
    assert row[:4] == [PUBLIC, "order.created", "ERP", "enabled"]
    api = client.get("/v1/webhook-endpoints", headers=tenant.headers).json()["items"]
    assert [e["url"] for e in api] == [PUBLIC]
    detail = client.get(f"{HOOKS}/{api[0]['id']}").text
    assert secret not in detail
    assert secret not in client.get(HOOKS).text


def test_a_url_the_guard_refuses_is_shown_on_the_page(client: TestClient, admin: User) -> None:
    sign_in(client, admin)

    refused = _post(client, HOOKS, HOOKS, [("url", "http://127.0.0.1:9/hooks")])

    assert refused.status_code == 422
    page = read(refused.text)
    assert "#/url" in page.alerts[0]
    assert _listed(client) == []


def test_rotating_shows_a_new_secret_and_deleting_forgets_the_endpoint(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    sign_in(client, admin)
    _post(client, HOOKS, HOOKS, [("url", PUBLIC)])
    [endpoint] = client.get("/v1/webhook-endpoints", headers=tenant.headers).json()["items"]
    page = f"{HOOKS}/{endpoint['id']}"

    first = _post(client, page, f"{page}/rotate")
    second = _post(client, page, f"{page}/rotate")
    deleted = _post(client, page, f"{page}/delete")

    secrets = [r.text.split('id="secret">')[1].split("<")[0] for r in (first, second)]
    assert all(s.startswith("whsec_") for s in secrets)
    assert secrets[0] != secrets[1]
    assert "Old secret" in first.text
    assert deleted.status_code == 303
    assert "Webhook endpoint deleted" in client.get(deleted.headers["location"]).text
    assert _listed(client) == []
    assert client.get(page).status_code == 404


def _deliver(uow: SqlUnitOfWorkFactory, sink: WebhookSink, now: datetime) -> None:
    clock = lambda: now  # noqa: E731
    while fan_out(uow_factory=uow, sinks=[sink], render=render_event_data, clock=clock, limit=200):
        pass
    deliver_due(
        uow_factory=uow, sinks={sink.kind: sink}, clock=clock, rng=random.Random(1), limit=200
    )


def test_the_delivery_log_shows_each_delivery_and_retries_and_replays_them(
    client: TestClient,
    admin: User,
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
    sign_in(client, admin)
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
        page = f"{HOOKS}/{endpoint.id}"

        [failed] = read(client.get(page).text).tables["deliveries"][1:]
        [delivery] = client.get(
            f"/v1/webhook-endpoints/{endpoint.id}/deliveries", headers=tenant.headers
        ).json()["items"]
        retried = _post(client, page, f"{page}/deliveries/{delivery['id']}/retry")
        _deliver(api_uow, sink, now + timedelta(minutes=1))
        [done] = read(client.get(page).text).tables["deliveries"][1:]
        since = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        replayed = _post(client, page, f"{page}/replay", [("since", since)])
        attempts = read(client.get(f"{page}/deliveries/{delivery['id']}").text)
        delivered = read(client.get(page, params={"status": "delivered"}).text)
        pending = read(client.get(page, params={"status": "pending"}).text)
    sink.close()

    assert failed[:4] == ["webhook_endpoint.disabled", "pending", "1", "500"]
    assert failed[4].endswith("ms")
    assert retried.status_code == 303
    assert done[:4] == ["webhook_endpoint.disabled", "delivered", "2", "200"]
    assert "1 delivery(ies) scheduled again" in client.get(replayed.headers["location"]).text
    assert [row[2:4] for row in attempts.tables["attempts"][1:]] == [
        ["failed", "500"],
        ["delivered", "200"],
    ]
    assert "deliveries" not in delivered.tables  # the replay made it pending again
    assert [row[1] for row in pending.tables["deliveries"][1:]] == ["pending"]


def test_a_replay_from_the_future_is_refused_on_the_page(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    sign_in(client, admin)
    _post(client, HOOKS, HOOKS, [("url", PUBLIC)])
    [endpoint] = client.get("/v1/webhook-endpoints", headers=tenant.headers).json()["items"]
    page = f"{HOOKS}/{endpoint['id']}"

    answer = _post(client, page, f"{page}/replay", [("since", "2999-01-01T00:00")])
    garbled = _post(client, page, f"{page}/replay", [("since", "soon")])

    assert answer.status_code == 422
    assert "Nothing to replay from the future" in read(answer.text).alerts[0]
    assert garbled.status_code == 422
    assert "#/since" in read(garbled.text).alerts[0]


def test_another_tenants_endpoint_is_not_found(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    tenant: ApiTenant,
    other_tenant: ApiTenant,
) -> None:
    theirs = endpoints.create_endpoint(
        uow_factory=api_uow,
        tenant_id=other_tenant.id,
        url=PUBLIC,
        event_types=["*"],
        description="theirs",
        check=AddressGuard(allow_private=False),
    )
    sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, tenant.id))
    page = f"{HOOKS}/{theirs.id}"

    assert client.get(page).status_code == 404
    assert client.get(f"{page}/deliveries/{theirs.id}").status_code == 404
    assert _listed(client) == []
    assert _post(client, HOOKS, f"{page}/delete").status_code == 404
    assert _post(client, HOOKS, f"{page}/rotate").status_code == 404
    still = client.get(
        f"/v1/webhook-endpoints/{theirs.id}", headers=other_tenant.headers
    ).status_code
    assert still == 200


def test_a_viewer_sees_the_settings_but_cannot_change_them(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, tenant.id))

    page = read(client.get(HOOKS).text)
    refused = _post(client, HOOKS, HOOKS, [("url", PUBLIC)])
    notices = _post(
        client,
        "/app/settings/notifications",
        "/app/settings/notifications",
        [("colour", "#000000")],
    )

    assert [a for a in page.actions if a.startswith("/app/settings")] == []
    assert refused.status_code == 403
    assert notices.status_code == 403
    assert _listed(client) == []


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, admin: User) -> None:
    sign_in(client, admin)

    answer = client.post(HOOKS, data={"url": PUBLIC}, follow_redirects=False)

    assert answer.status_code == 403
    assert _listed(client) == []


def test_an_operator_picks_a_tenant_before_its_settings(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    sign_in(client, new_user(api_uow, Role.OPERATOR_ADMIN))

    before = client.get(HOOKS).text
    _post(client, HOOKS, "/app/tenant", [("tenant", str(tenant.id)), ("next", HOOKS)])
    after = client.get(HOOKS).text

    assert "Pick the tenant in the switcher" in before
    assert HOOKS in read(after).actions


def test_notification_settings_are_saved_and_previewed(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    sign_in(client, admin)
    page = "/app/settings/notifications"
    on = [("template_on", t) for t in ("order_confirmed", "cancelled")]

    saved = _post(
        client,
        page,
        page,
        [("sender_name", "Ada's Shop"), ("colour", "#112233"), ("accent_colour", "#eeeeee"), *on],
    )
    refused = _post(client, page, page, [("colour", "red"), ("accent_colour", "#eeeeee")])
    preview = client.get(f"{page}/preview/order_confirmed")
    html = client.get(f"{page}/preview/order_confirmed/html")

    assert saved.status_code == 303
    api = client.get("/v1/notification-settings", headers=tenant.headers).json()
    assert api["sender_name"] == "Ada's Shop"
    assert api["colour"] == "#112233"
    assert api["templates"]["order_confirmed"] is True
    assert api["templates"]["shipped"] is False
    shown = client.get(page).text
    assert 'value="Ada&#39;s Shop"' in shown
    assert refused.status_code == 422
    assert "#/colour" in read(refused.text).alerts[0]
    assert preview.status_code == 200
    assert "Ada's Shop" in read(preview.text).text
    assert "sandbox" in html.headers["content-security-policy"]
    assert "#112233" in html.text
    assert client.get(f"{page}/preview/nothing").status_code == 404


def test_the_routing_profile_and_its_versions_are_shown(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    saved = client.put("/v1/routing-profile", headers=tenant.headers, json={"allow_split": False})
    assert saved.status_code == 200, saved.text
    sign_in(client, admin)

    page = read(client.get("/app/settings/routing").text)

    assert ["allow split", "no"] in page.tables["profile"]
    [version] = page.tables["versions"][1:]
    assert version[0] == "1"
    assert version[3] == "no"


def test_carrier_rate_cards_are_listed(
    client: TestClient, admin: User, api_uow: SqlUnitOfWorkFactory
) -> None:
    services = client.get("/v1/carrier-services", headers=new_operator_headers(api_uow)).json()
    sign_in(client, admin)

    page = read(client.get("/app/settings/carriers").text)

    cards = [name for name in page.tables if name.startswith("card-")]
    assert cards == [f"card-{s['carrier']}-{s['code']}" for s in services["items"]]
    assert page.actions == ["/app/logout"]


def test_api_keys_are_listed_without_secrets_for_the_own_tenant_only(
    client: TestClient, admin: User, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    sign_in(client, admin)

    answer = client.get("/app/settings/api-keys").text

    [key] = read(answer).tables["keys"][1:]
    assert tenant.secret.startswith(key[1])
    assert tenant.secret not in answer
    assert other_tenant.secret[: len(key[1])] not in answer
