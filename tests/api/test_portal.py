"""The operations portal over HTTP: signing in (one answer for every refusal, lockout),
the session cookie, CSRF on every form, tenant scoping, the order search, the order page
and its actions landing in the timeline under the user's name, the exceptions queue."""

from __future__ import annotations

import re
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.users import MAX_FAILED_LOGINS, Role, User
from tests.api.order_support import clean_order, paid_order, stock_shop
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, shop.id)


def _order_url(tenant: ApiTenant, order: dict[str, Any]) -> str:
    return f"/app/orders/{tenant.id}/{order['id']}"


def _post(client: TestClient, page: str, action: str, **data: str) -> Any:
    """Send the form at ``action`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _order(client: TestClient, tenant: ApiTenant, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=tenant.headers).json()
    return found


def test_a_page_sends_someone_not_signed_in_to_the_login_form(client: TestClient) -> None:
    client.cookies.clear()

    answer = client.get("/app/orders?q=ada", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?next=%2Fapp%2Forders%3Fq%3Dada"


def test_signing_in_sets_an_http_only_lax_session_cookie(client: TestClient, admin: User) -> None:
    client.cookies.clear()
    form = client.get("/app/login")
    answer = client.post(
        "/app/login",
        data={
            "csrf_token": csrf_of(form.text),
            "email": admin.email.upper(),
            "password": "a long portal password",
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/app" in cookie
    assert "Secure" not in cookie  # the public URL of the tests is http
    assert "default-src 'none'" in form.headers["content-security-policy"]
    assert "script-src 'self'" in form.headers["content-security-policy"]
    assert client.get("/app/orders").status_code == 200


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(
    client: TestClient, admin: User
) -> None:
    client.cookies.clear()
    answers = []
    for email, password in ((admin.email, "not the password"), ("nobody@x.test", "whatever1")):
        token = csrf_of(client.get("/app/login").text)
        answers.append(
            client.post(
                "/app/login", data={"csrf_token": token, "email": email, "password": password}
            )
        )

    assert [a.status_code for a in answers] == [401, 401]
    messages = [re.search(r'role="alert"[^>]*><p>([^<]+)', a.text) for a in answers]
    assert messages[0] is not None
    assert messages[1] is not None
    assert messages[0].group(1) == messages[1].group(1)


def test_repeated_wrong_passwords_lock_the_account(client: TestClient, admin: User) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert sign_in(client, admin, "not the password") == 401

    assert sign_in(client, admin) == 401


def test_a_form_without_the_session_token_is_refused(client: TestClient, admin: User) -> None:
    sign_in(client, admin)

    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post("/app/logout", data=data)
        assert answer.status_code == 403
        assert "security token" in answer.text
    assert client.get("/app/orders").status_code == 200  # still signed in


def test_a_merchant_user_cannot_open_another_tenants_order(
    client: TestClient, admin: User, other_tenant: ApiTenant
) -> None:
    stock_shop(client, other_tenant)
    theirs = paid_order(client, other_tenant, customer={"email": "theirs@example.com"})
    sign_in(client, admin)

    for url in (_order_url(other_tenant, theirs), f"/app/orders/{admin.tenant_id}/{theirs['id']}"):
        answer = client.get(url)
        assert answer.status_code == 404
        assert "Not found" in answer.text
    found = client.get("/app/orders", params={"q": "theirs@example.com"}).text
    assert str(theirs["id"]) not in found
    assert "No orders match" in found


def test_orders_are_found_by_number_email_name_and_external_id(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    wanted = clean_order(
        client,
        shop,
        external_id="SHOP-77",
        customer={"email": "grace@example.com", "name": "Grace Hopper"},
    )
    other = clean_order(client, shop, customer={"email": "alan@example.com", "name": "Alan T"})
    sign_in(client, admin)

    for q in (f"#{wanted['number']}", "GRACE@example.com", "hopper", "SHOP-77"):
        page = client.get("/app/orders", params={"q": q}).text
        assert f">#{wanted['number']}<" in page, q
        assert f">#{other['number']}<" not in page, q
    on_hold = client.get("/app/orders", params={"hold": "payment_pending"}).text
    assert f">#{wanted['number']}<" in on_hold
    partial = client.get("/app/orders", params={"q": "hopper"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert f">#{wanted['number']}<" in partial.text


def test_releasing_a_hold_lands_in_the_timeline_under_the_users_name(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    order = clean_order(client, shop)
    [hold] = [h for h in order["holds"] if h["released_at"] is None]
    sign_in(client, admin)
    page = _order_url(shop, order)

    without_note = _post(client, page, f"{page}/holds/{hold['id']}/release")
    released = _post(client, page, f"{page}/holds/{hold['id']}/release", note="paid by phone")

    assert without_note.status_code == 422
    assert released.status_code == 303
    after = client.get(released.headers["location"])
    assert "Hold released" in after.text
    assert f"by {admin.email}" in after.text
    events = client.get(f"/v1/orders/{order['id']}/events", headers=shop.headers).json()["items"]
    release = [e for e in events if e["type"] == "hold.released"][-1]
    assert release["actor"] == f"user:{admin.id}"


def test_a_merchant_viewer_reads_but_may_not_act(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = clean_order(client, shop)
    viewer = new_user(api_uow, Role.MERCHANT_VIEWER, shop.id)
    sign_in(client, viewer)
    page = _order_url(shop, order)

    shown = client.get(page)
    answer = client.post(
        f"{page}/cancel", data={"csrf_token": csrf_of(shown.text)}, follow_redirects=False
    )

    assert shown.status_code == 200
    assert "Cancel order" not in shown.text
    assert answer.status_code == 403
    assert _order(client, shop, order["id"])["status"] != "cancelled"


def test_cancelling_a_paid_order_refunds_it(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    order = paid_order(client, shop)
    sign_in(client, admin)
    page = _order_url(shop, order)

    answer = _post(client, page, f"{page}/cancel", note="customer asked")

    assert answer.status_code == 303
    cancelled = _order(client, shop, order["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["payment_status"] in ("refunded", "paid")


def test_an_address_edit_from_a_stale_page_is_refused(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    order = clean_order(client, shop)
    sign_in(client, admin)
    page = _order_url(shop, order)
    address = {
        "name": "Erika M",
        "line1": "Heidestrasse 19",
        "city": "Koeln",
        "postal_code": "51147",
        "country": "DE",
    }

    stale = _post(client, page, f"{page}/address", version="0", **address)
    fresh = _post(client, page, f"{page}/address", version=str(order["version"]), **address)

    assert stale.status_code == 412
    assert fresh.status_code == 303, fresh.text
    assert _order(client, shop, order["id"])["shipping_address"]["line1"] == "Heidestrasse 19"


def test_the_exceptions_queue_groups_holds_and_releases_several_at_once(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    orders = [clean_order(client, shop) for _ in range(2)]
    sign_in(client, admin)

    queue = client.get("/app/exceptions")
    keys = re.findall(r'name="hold" value="([^"]+)"', queue.text)
    released = client.post(
        "/app/exceptions/release",
        data={"csrf_token": csrf_of(queue.text), "note": "checked", "hold": keys},
        follow_redirects=False,
    )

    assert "Payment pending (2)" in queue.text
    assert len(keys) == 2
    assert released.status_code == 303
    assert "2 hold(s) released" in client.get(released.headers["location"]).text
    for key in keys:
        _, order_id, hold_id = key.split(":")
        [hold] = [h for h in _order(client, shop, order_id)["holds"] if h["id"] == hold_id]
        assert hold["released_at"] is not None
    assert {key.split(":")[1] for key in keys} == {order["id"] for order in orders}


def test_an_operator_sees_every_tenant_or_the_one_it_picks(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    stock_shop(client, other_tenant)
    mine, theirs = clean_order(client, shop), clean_order(client, other_tenant)
    operator = new_user(api_uow, Role.OPERATOR_STAFF)
    sign_in(client, operator)

    everyone = client.get("/app/orders", params={"hold": "payment_pending"}).text
    picked = _post(
        client, "/app/orders", "/app/tenant", tenant=str(other_tenant.id), next="/app/orders"
    )
    one = client.get("/app/orders", params={"hold": "payment_pending"}).text

    assert f"/app/orders/{shop.id}/{mine['id']}" in everyone
    assert f"/app/orders/{other_tenant.id}/{theirs['id']}" in everyone
    assert picked.status_code == 303
    assert f"/app/orders/{shop.id}/{mine['id']}" not in one
    assert f"/app/orders/{other_tenant.id}/{theirs['id']}" in one
    assert client.get(_order_url(shop, mine)).status_code == 200


def test_the_static_files_are_served_with_versions(client: TestClient) -> None:
    client.cookies.clear()
    login = client.get("/app/login").text
    links = re.findall(r'(?:href|src)="(/app/static/[^"]+)"', login)

    assert {link.split("?")[0] for link in links} == {
        "/app/static/portal.css",
        "/app/static/htmx.min.js",
        "/app/static/portal.js",
    }
    for link in links:
        answer = client.get(link)
        assert answer.status_code == 200
        assert "immutable" in answer.headers["cache-control"]
    assert client.get("/app/static/status.css").status_code == 404


def test_orders_are_filtered_by_the_location_holding_their_stock(
    client: TestClient, shop: ApiTenant, admin: User
) -> None:
    order = clean_order(client, shop)
    locations = client.get("/v1/locations", headers=shop.headers).json()["items"]
    [warehouse] = [loc for loc in locations if loc["code"] == "WH"]
    sign_in(client, admin)

    there = client.get("/app/orders", params={"location": warehouse["id"]}).text
    elsewhere = client.get(
        "/app/orders", params={"location": "00000000-0000-7000-8000-000000000000"}
    ).text

    assert f">#{order['number']}<" in there
    assert f">#{order['number']}<" not in elsewhere
