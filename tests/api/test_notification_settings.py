"""Notification settings over HTTP: sender, branding and templates on/off, validated with
field pointers; and template previews with a sample order or one of the tenant's own."""

from __future__ import annotations

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.notifications import branding_of
from tests.api.order_support import VALID_ADDRESS, clean_order, stock_shop
from tests.api.support import ApiTenant, TestClient, assert_problem

SETTINGS = "/v1/notification-settings"


def _preview(client: TestClient, tenant: ApiTenant, name: str, **body: object) -> dict[str, str]:
    response = client.post(
        f"/v1/notification-templates/{name}/preview", headers=tenant.headers, json=body or None
    )
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


def test_a_tenant_that_set_nothing_sends_every_email_in_default_colours(
    client: TestClient, tenant: ApiTenant
) -> None:
    settings = client.get(SETTINGS, headers=tenant.headers).json()

    assert settings["sender_name"] is None
    assert settings["sender_email"] is None
    assert (settings["colour"], settings["accent_colour"]) == ("#1f4e79", "#f2f5f9")
    assert settings["templates"]["order_confirmed"] is True
    assert set(settings["templates"]) >= {
        "order_confirmed",
        "action_needed",
        "shipped",
        "out_for_delivery",
        "delivered",
        "ready_for_pickup",
        "cancelled",
        "refunded",
    }
    assert all(settings["templates"].values())


def test_changed_settings_are_kept_and_only_for_that_tenant(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    changed = client.put(
        SETTINGS,
        headers=tenant.headers,
        json={
            "sender_name": "Acme Outfitters",
            "sender_email": "Orders@Acme.example.com",
            "reply_to": "help@acme.example.com",
            "logo_url": "https://acme.example.com/logo.png",
            "colour": "#AA3300",
            "templates": {"refunded": False},
        },
    )
    assert changed.status_code == 200, changed.text
    # Only what was sent changes; a second PUT keeps the first one's fields.
    again = client.put(SETTINGS, headers=tenant.headers, json={"templates": {"shipped": False}})
    settings = client.get(SETTINGS, headers=tenant.headers).json()

    assert again.json() == settings
    assert settings["sender_name"] == "Acme Outfitters"
    assert settings["sender_email"] == "Orders@acme.example.com"  # the domain normalised
    assert settings["colour"] == "#aa3300"
    assert (settings["templates"]["refunded"], settings["templates"]["shipped"]) == (False, False)
    assert settings["templates"]["order_confirmed"] is True
    assert client.get(SETTINGS, headers=other_tenant.headers).json()["sender_name"] is None
    with api_uow(readonly=True) as uow:
        branding = branding_of(uow, tenant.id)
        other = branding_of(uow, other_tenant.id)
    assert (branding.display_name, branding.logo_url, branding.colour) == (
        "Acme Outfitters",
        "https://acme.example.com/logo.png",
        "#aa3300",
    )
    assert other.display_name == "another tenant"  # the tenant's own name by default


def test_null_clears_a_setting_back_to_its_default(client: TestClient, tenant: ApiTenant) -> None:
    client.put(
        SETTINGS, headers=tenant.headers, json={"reply_to": "a@b.example", "colour": "#000000"}
    )

    cleared = client.put(SETTINGS, headers=tenant.headers, json={"reply_to": None, "colour": None})

    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["reply_to"], cleared.json()["colour"]) == (None, "#1f4e79")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"sender_email": "not an address"}, "#/sender_email"),
        ({"reply_to": "a@"}, "#/reply_to"),
        ({"notify_email": "ops@@example.com"}, "#/notify_email"),
        ({"colour": "red"}, "#/colour"),
        ({"accent_colour": "#12345"}, "#/accent_colour"),
        ({"logo_url": "http://acme.example.com/logo.png"}, "#/logo_url"),
        ({"logo_url": "javascript:alert(1)"}, "#/logo_url"),
        ({"logo_url": "data:text/html;base64,PGgxPg=="}, "#/logo_url"),
        ({"templates": {"newsletter": True}}, "#/templates/newsletter"),
        ({"sender_name": "Acme\r\nBcc: everyone@example.com"}, "#/sender_name"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    client: TestClient, tenant: ApiTenant, body: dict[str, object], pointer: str
) -> None:
    before = client.get(SETTINGS, headers=tenant.headers).json()

    refused = client.put(SETTINGS, headers=tenant.headers, json=body)

    problem = assert_problem(refused, 422)
    assert pointer in [e["pointer"] for e in problem["errors"]], problem
    assert client.get(SETTINGS, headers=tenant.headers).json() == before


def test_a_data_uri_logo_is_accepted(client: TestClient, tenant: ApiTenant) -> None:
    logo = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
        "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )

    answer = client.put(SETTINGS, headers=tenant.headers, json={"logo_url": logo})

    assert answer.status_code == 200, answer.text
    assert logo in _preview(client, tenant, "order_confirmed")["html"]


def test_a_preview_with_a_sample_order_wears_the_merchants_branding(
    client: TestClient, tenant: ApiTenant
) -> None:
    changed = client.put(
        SETTINGS,
        headers=tenant.headers,
        json={"sender_name": "Ben & Jerry's", "colour": "#ffcc00"},
    )
    assert changed.status_code == 200, changed.text

    preview = _preview(client, tenant, "shipped")

    assert preview["subject"] == "Your order #1001 is on its way"
    assert "Ben &amp; Jerry&#39;s" in preview["html"]  # escaped in HTML
    assert "Ben & Jerry's" in preview["text"]
    assert "background-color:#ffcc00; color:#111111" in preview["html"]  # dark on yellow
    assert "Track your parcel" in preview["html"]
    assert "/track/AC123456786OM" in preview["text"]


def test_a_preview_of_an_order_of_the_tenant_tells_that_order(
    client: TestClient, tenant: ApiTenant
) -> None:
    stock_shop(client, tenant)
    order = clean_order(
        client, tenant, ("TEE", 2), customer={"email": "grace@example.com", "name": "Grace Hopper"}
    )

    confirmed = _preview(client, tenant, "order_confirmed", order_id=order["id"])
    unpaid = _preview(client, tenant, "action_needed", order_id=order["id"])

    assert confirmed["subject"] == f"Thank you for your order #{order['number']}"
    assert "Grace Hopper" in confirmed["text"]
    assert "2 x Product TEE" in confirmed["text"]
    assert VALID_ADDRESS["line1"] in confirmed["text"]
    assert "€100.00" in confirmed["text"]
    # Placed unpaid: its open hold is the payment's, and the email says what to do.
    assert unpaid["subject"] == f"Your payment for order #{order['number']} has not come through"
    assert "complete your payment" in unpaid["text"]


def test_a_preview_of_the_pickup_email_never_shows_a_real_code(
    client: TestClient, tenant: ApiTenant
) -> None:
    preview = _preview(client, tenant, "ready_for_pickup")

    assert "Your collection code: 739204" in preview["text"]


def test_previews_of_unknown_templates_and_orders_are_refused(
    client: TestClient, tenant: ApiTenant
) -> None:
    unknown = client.post("/v1/notification-templates/newsletter/preview", headers=tenant.headers)
    no_order = client.post(
        "/v1/notification-templates/shipped/preview",
        headers=tenant.headers,
        json={"order_id": "00000000-0000-4000-8000-000000000000"},
    )
    bad_hold = client.post(
        "/v1/notification-templates/action_needed/preview",
        headers=tenant.headers,
        json={"hold_reason": "fraud_review"},
    )

    assert "order_confirmed" in assert_problem(unknown, 404)["templates"]
    assert_problem(no_order, 404)
    assert assert_problem(bad_hold, 422)["errors"][0]["pointer"] == "#/hold_reason"


def test_a_preview_of_another_tenants_order_answers_like_a_missing_one(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    stock_shop(client, other_tenant)
    theirs = clean_order(client, other_tenant, customer={"email": "theirs@example.com"})
    missing = "00000000-0000-4000-8000-000000000000"

    def preview(order_id: str) -> dict[str, object]:
        answer = client.post(
            "/v1/notification-templates/order_confirmed/preview",
            headers=tenant.headers,
            json={"order_id": order_id},
        )
        body = assert_problem(answer, 404)
        return {k: str(v).replace(order_id, "<id>") for k, v in body.items()}

    assert preview(theirs["id"]) == preview(missing)
