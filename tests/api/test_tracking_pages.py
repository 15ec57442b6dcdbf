"""The pages customers open, over HTTP: the tracking page and a shop's order status page,
as HTML for browsers and JSON for JSON clients.

One shop ships an order from its warehouse (the carrier has scanned it) and has another
waiting in its store, both built through the API as a merchant would; the tests read them
as the customer does: by tracking number, by order number with an email or postal code, or
by a signed link. Rate cards are deployment-wide, so this module has a database of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import Engine, event

from oms.adapters.carriers.signature import sign
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.status_links import StatusLinkSigner
from oms.api.app import create_app
from oms.config import Settings
from oms.services.fulfilment_changes import expire_uncollected_pickups
from oms.services.tenants import resolve_tenant
from oms.web.pages import PageClock
from oms.wiring import status_links
from tests.api.fulfilment_support import COLOGNE, add_sites, get_json, own_engine, post_json
from tests.api.html_support import Page, parse_page
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    assert_problem,
    create_product,
    new_operator_headers,
    new_tenant,
    set_on_hand,
)
from tests.databases import ENGINES
from tests.integration.test_routing import RATES

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
AS_JSON = {"Accept": "application/json"}
CARD = {"gateway": "test", "token": "tok_approve"}
EMAIL = "Erika.Mustermann@Example.com"
SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"}),
    "STORE-1": ("store", 50.94, 6.95, {"city": "Koeln", "postal_code": "50667"}),
}
BOXES = [
    {"code": "S", "length_mm": 200, "width_mm": 150, "height_mm": 100, "max_weight_grams": 5000}
]
# The links' clock: made at ISSUED, read by the pages at the clock's ``now``.
ISSUED = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)


class FakeClock:
    """The pages' clocks, moved by the tests."""

    def __init__(self) -> None:
        self.now = ISSUED + timedelta(days=1)
        self.seconds = 1_000.0

    def page_clock(self) -> PageClock:
        return PageClock(now=lambda: self.now, monotonic=lambda: self.seconds)


@dataclass(frozen=True)
class World:
    shop: ApiTenant
    slug: str
    shop_name: str
    shipped: dict[str, Any]  # the order that left the warehouse
    shipment: dict[str, Any]
    pickup: dict[str, Any]  # the order waiting in the store
    pickup_code: str


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "tracking_pages")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def settings(api_engine: Engine) -> Settings:
    url = api_engine.url.render_as_string(hide_password=False)
    # The rate limit has a module of its own below; here it never gets in the way.
    return api_settings_for(url).model_copy(update={"public_rate_limit_burst": 100_000})


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def client(
    api_engine: Engine, settings: Settings, api_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> Iterator[TestClient]:
    app = create_app(settings, engine=api_engine, page_clock=clock.page_clock())
    with TestClient(app) as test_client:
        imported = test_client.post(
            "/v1/carrier-services/import",
            headers=new_operator_headers(api_uow),
            json={"format": "yaml", "document": RATES},
        )
        assert imported.status_code == 200, imported.text
        yield test_client


def _carrier_event(client: TestClient, settings: Settings, **fields: Any) -> None:
    body = json.dumps({"events": [fields]}).encode()
    response = client.post(
        "/v1/carriers/acme/events",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-OMS-Signature": sign(body, settings.carrier_webhook_secret),
        },
    )
    assert response.json()["accepted"] == 1, response.text


@pytest.fixture(scope="module")
def world(client: TestClient, api_uow: SqlUnitOfWorkFactory, settings: Settings) -> World:
    shop = new_tenant(api_uow, "Kölner Kaffee & Co.")
    add_sites(client, shop, SITES, BOXES)
    create_product(client, shop, "BEANS", name="Espresso beans, 1 kg", weight_grams=1000)
    create_product(client, shop, "CUP", name="Espresso cup", weight_grams=200)
    set_on_hand(client, shop, "BEANS", "WH-A", 5)
    set_on_hand(client, shop, "CUP", "STORE-1", 5)
    shipped = post_json(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "EUR",
            "lines": [{"sku": "BEANS", "quantity": 2}],
            "customer": {"email": EMAIL, "name": "Erika Mustermann"},
            "shipping_address": COLOGNE,
            "payment": CARD,
        },
        201,
    )
    wave = post_json(client, shop, "/v1/locations/WH-A/pick-waves", {"max_orders": 10}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    [fo] = get_json(client, shop, f"/v1/orders/{shipped['id']}/fulfillment-orders")["items"]
    post_json(
        client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["BEANS"] * 2}, 201
    )
    shipment = post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)
    _carrier_event(
        client,
        settings,
        id="scan-1",
        tracking_number=shipment["tracking_number"],
        status="in_transit",
        occurred_at="2026-11-28T09:00:00Z",
        location="Koeln hub",
        description="Arrived at the sorting centre",
    )
    pickup = post_json(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "EUR",
            "lines": [{"sku": "CUP", "quantity": 1}],
            "customer": {"email": EMAIL},
            "pickup_location": "STORE-1",
            "payment": CARD,
        },
        201,
    )
    store_wave = post_json(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    ready = post_json(client, shop, f"/v1/pick-waves/{store_wave['id']}/confirm")
    [code] = ready["pickup_codes"].values()
    tenant = resolve_tenant(uow_factory=api_uow, tenant_id=shop.id)
    return World(shop, tenant.slug, tenant.name, shipped, shipment, pickup, code)


def _page(response: httpx.Response, status: int = 200) -> Page:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return parse_page(response.text)


def _assert_safe_page(response: httpx.Response) -> Page:
    """Headers and shape every public page must have: nothing loaded from elsewhere, no
    script, no referrer, no cache, and the landmarks a screen reader jumps between."""
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "http:" not in policy
    assert "https:" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Accept"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = parse_page(response.text)
    assert page.lang == "en"
    assert page.scripts == 0
    assert all(url.startswith("/") and not url.startswith("//") for url in page.loads)
    assert {"header", "main", "footer"} <= set(page.landmarks)
    assert len(page.h("h1")) == 1
    return page


# --- the tracking page ------------------------------------------------------------------------


def test_a_browser_opening_a_tracking_link_gets_the_parcel_in_words_with_scans_and_branding(
    client: TestClient, world: World
) -> None:
    number = world.shipment["tracking_number"]

    response = client.get(f"/track/{number.lower()}", headers=BROWSER)

    page = _page(response)
    _assert_safe_page(response)
    assert page.h("h1") == ["On its way"]
    assert world.shop_name in page.text  # the sender's branding
    assert number in page.text
    assert "acme" in page.text
    assert "Koeln hub" in page.text
    assert "Arrived at the sorting centre" in page.text
    assert "28 Nov 2026, 09:00 UTC" in page.text
    # The parcel, not the customer.
    assert "Erika" not in response.text
    assert "Heidestrasse" not in response.text


def test_a_bare_accept_or_none_gets_the_page_and_json_clients_keep_the_json(
    client: TestClient, world: World
) -> None:
    number = world.shipment["tracking_number"]
    shipment = get_json(client, world.shop, f"/v1/shipments/{world.shipment['id']}")

    as_json = client.get(f"/track/{number}", headers=AS_JSON)
    library = client.get(f"/track/{number}", headers={"Accept": "application/json, */*"})

    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == {
        "tracking_number": number,
        "carrier": "acme",
        "service": shipment["service"],
        "status": "in_transit",
        "deliver_by": shipment["deliver_by"],
        "delivered_at": None,
        "events": shipment["events"],
    }
    assert library.json() == as_json.json()
    for accept in ("*/*", "text/html", ""):
        assert _page(client.get(f"/track/{number}", headers={"Accept": accept})).h("h1")


def test_an_unknown_tracking_number_is_a_404_page_or_problem(client: TestClient) -> None:
    page = _page(client.get("/track/ZZ000000000OM", headers=BROWSER), 404)

    assert page.h("h1") == ["Not found"]
    assert "ZZ000000000OM" in page.text
    assert_problem(client.get("/track/ZZ000000000OM", headers=AS_JSON), 404, "not_found")


def test_the_stylesheet_is_served_by_the_app_and_cached_under_its_version(
    client: TestClient, world: World
) -> None:
    page = _page(client.get(f"/status/{world.slug}", headers=BROWSER))
    [stylesheet] = page.loads

    versioned = client.get(stylesheet)
    bare = client.get(stylesheet.split("?")[0])

    assert versioned.headers["content-type"].startswith("text/css")
    assert "immutable" in versioned.headers["cache-control"]
    assert bare.headers["cache-control"] == "no-cache"
    assert "--brand" in versioned.text
    assert "url(" not in versioned.text  # no fonts or images from anywhere


# --- the order status page --------------------------------------------------------------------


def _status(client: TestClient, slug: str, headers: dict[str, str], **query: str) -> httpx.Response:
    return client.get(f"/status/{slug}", params=query, headers=headers)


def test_with_nothing_asked_the_status_page_is_a_labelled_form_in_the_shops_branding(
    client: TestClient, world: World
) -> None:
    response = _status(client, world.slug, BROWSER)

    page = _assert_safe_page(response)
    assert response.status_code == 200
    assert page.h("h1") == ["Find your order"]
    assert world.shop_name in page.text
    assert page.forms == [{"class": "lookup", "method": "get", "action": f"/status/{world.slug}"}]
    # Every field has a label naming it.
    assert {field: page.labels.get(field) for field in page.inputs} == {
        "number": "Order number",
        "email": "Email address",
        "postal_code": "Or postal code",
    }
    assert page.alerts == []


def test_a_json_client_asking_nothing_is_told_what_to_send(
    client: TestClient, world: World
) -> None:
    problem = assert_problem(_status(client, world.slug, AS_JSON), 422)

    assert {e["pointer"] for e in problem["errors"]} == {"query:number", "query:email"}


def test_half_a_lookup_gets_the_form_again_saying_what_is_missing(
    client: TestClient, world: World
) -> None:
    page = _page(_status(client, world.slug, BROWSER, number="1001"), 422)

    assert page.alerts == ["Enter the email address you ordered with, or your postal code"]
    assert page.inputs["number"]["value"] == "1001"


@pytest.mark.parametrize(
    "proof",
    [
        {"email": EMAIL},
        {"email": f"  {EMAIL.lower()} "},
        {"postal_code": "51147"},
        {"postal_code": " 51 147 "},
    ],
)
def test_the_order_number_with_the_email_or_postal_code_opens_the_order_in_customer_words(
    client: TestClient, world: World, proof: dict[str, str]
) -> None:
    number = str(world.shipped["number"])
    tracking = world.shipment["tracking_number"]

    response = _status(client, world.slug, BROWSER, number=f"#{number}", **proof)

    page = _assert_safe_page(response)
    assert response.status_code == 200
    assert page.h("h1") == ["Shipped"]
    assert "Your order is on its way." in page.text
    assert f"Order #{number}" in page.text
    assert "2 \N{MULTIPLICATION SIGN} Espresso beans, 1 kg" in page.text
    assert world.shop_name in page.text
    # The parcel with its carrier, its tracking link and when it should arrive.
    assert page.h("h3") == ["On its way"]
    assert (world.shipment["tracking_url"], f"{tracking} (track this parcel)") in page.links
    assert "acme (ground)" in page.text
    assert "Expected by" in page.text
    assert "Koeln hub" in page.text
    # The customer's timeline, newest first, and nothing of the merchant's own.
    steps = re.findall(
        r"(Order placed|Order confirmed|Packed|Handed to the carrier|On its way)",
        page.text.split("Timeline", 1)[1],
    )
    assert steps == [
        "On its way",
        "Handed to the carrier",
        "Packed",
        "Order confirmed",
        "Order placed",
    ]
    for internal in ("api_key", "system:", "BEANS", "WH-A", "wave", "Heidestrasse", "Erika"):
        assert internal not in response.text


def test_the_order_as_json_carries_the_same_facts_and_nothing_more(
    client: TestClient, world: World
) -> None:
    response = _status(
        client, world.slug, AS_JSON, number=str(world.shipped["number"]), email=EMAIL
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "shop",
        "number",
        "placed_at",
        "status",
        "status_text",
        "status_detail",
        "deliver_by",
        "items",
        "parcels",
        "pickups",
        "timeline",
        "returns",
    }
    assert body["returns"] is None  # on its way: nothing to send back yet
    assert body["shop"] == {"slug": world.slug, "name": world.shop_name}
    assert (body["status"], body["status_text"]) == ("shipped", "Shipped")
    assert body["items"] == [{"name": "Espresso beans, 1 kg", "quantity": 2}]
    [parcel] = body["parcels"]
    assert parcel["tracking_number"] == world.shipment["tracking_number"]
    assert parcel["tracking_url"] == world.shipment["tracking_url"]
    assert (parcel["status"], parcel["status_text"]) == ("in_transit", "On its way")
    assert parcel["deliver_by"] == world.shipment["deliver_by"]
    assert [t["type"] for t in body["timeline"]] == [
        "order.placed",
        "order.released",
        "fulfillment_order.packed",
        "shipment.created",
        "shipment.in_transit",
    ]
    for internal in ("api_key", "BEANS", "WH-A", "Heidestrasse", "Erika", "cost"):
        assert internal not in response.text


def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _visible(response: httpx.Response) -> tuple[int, str, list[str], list[str]]:
    """What a wrong look-up answers, without the values it echoes into the form."""
    page = parse_page(response.text)
    return response.status_code, page.text, page.alerts, sorted(page.inputs)


def test_a_wrong_number_and_a_wrong_email_get_the_same_answer_after_the_same_work(
    client: TestClient, world: World, api_engine: Engine
) -> None:
    number = str(world.shipped["number"])
    wrong = {
        "wrong number": {"number": "999999", "email": EMAIL},
        "wrong email": {"number": number, "email": "someone@example.com"},
        "wrong postal code": {"number": number, "postal_code": "10115"},
        "not a number": {"number": "abc", "email": EMAIL},
        "another shop's order": {"number": str(world.pickup["number"] + 100), "email": EMAIL},
    }
    answers, work = {}, {}
    for case, query in wrong.items():
        for seen in _statements(api_engine):
            answers[case] = _status(client, world.slug, BROWSER, **query)
            work[case] = list(seen)
    problems = {case: _status(client, world.slug, AS_JSON, **q).json() for case, q in wrong.items()}

    assert {case: _visible(a) for case, a in answers.items()} == dict.fromkeys(
        wrong, _visible(answers["wrong number"])
    )
    assert answers["wrong number"].status_code == 404
    assert parse_page(answers["wrong email"].text).alerts == [
        "We could not find an order with these details"
    ]
    assert set(map(json.dumps, problems.values())) == {json.dumps(problems["wrong number"])}
    # The same statements run whether the order exists or not.
    assert work == dict.fromkeys(wrong, work["wrong number"])


def test_an_unknown_shop_is_not_found(client: TestClient) -> None:
    page = _page(_status(client, "no-such-shop", BROWSER), 404)

    assert page.h("h1") == ["Not found"]
    assert_problem(_status(client, "no-such-shop", AS_JSON, number="1", email="a@b.c"), 404)


def test_a_pickup_shows_its_store_and_how_long_it_waits_but_never_its_code(
    client: TestClient, world: World
) -> None:
    number = str(world.pickup["number"])

    response = _status(client, world.slug, BROWSER, number=number, email=EMAIL)
    as_json = _status(client, world.slug, AS_JSON, number=number, email=EMAIL)

    page = _assert_safe_page(response)
    assert page.h("h1") == ["Ready for pickup"]
    assert page.h("h3") == ["Site STORE-1"]
    assert "STORE-1 Strasse 1" in page.text
    assert "50667 Koeln" in page.text
    assert "Waiting until" in page.text
    assert "Show the pickup code from your email" in page.text
    [pickup] = as_json.json()["pickups"]
    assert (pickup["store"], pickup["state"]) == ("Site STORE-1", "ready")
    assert pickup["address"]["city"] == "Koeln"
    assert pickup["expires_at"] is not None
    for answer in (response, as_json):
        assert world.pickup_code not in answer.text
    shipped = _status(client, world.slug, BROWSER, number=str(world.shipped["number"]), email=EMAIL)
    tracked = client.get(f"/track/{world.shipment['tracking_number']}", headers=BROWSER)
    assert world.pickup_code not in shipped.text + tracked.text


# --- signed links -----------------------------------------------------------------------------


def _signer(settings: Settings, api_uow: SqlUnitOfWorkFactory, at: datetime) -> StatusLinkSigner:
    """The links the shop's emails carry, made at ``at``."""
    return status_links(settings, api_uow, clock=lambda: at)


def test_a_signed_link_opens_its_order_without_asking(
    client: TestClient, world: World, settings: Settings, api_uow: SqlUnitOfWorkFactory
) -> None:
    url = _signer(settings, api_uow, ISSUED).order_status_url(
        world.shop.id, UUID(world.shipped["id"]), world.shipped["number"]
    )

    assert url.startswith(f"{settings.public_url}/status/{world.slug}?token=")
    response = client.get(url.removeprefix(settings.public_url), headers=BROWSER)
    page = _assert_safe_page(response)
    assert page.h("h1") == ["Shipped"]
    assert f"Order #{world.shipped['number']}" in page.text
    as_json = client.get(url.removeprefix(settings.public_url), headers=AS_JSON)
    assert as_json.json()["number"] == world.shipped["number"]


def test_an_altered_link_or_one_of_another_shop_opens_nothing(
    client: TestClient, world: World, settings: Settings, api_uow: SqlUnitOfWorkFactory
) -> None:
    other = new_tenant(api_uow, "Another shop")
    other_slug = resolve_tenant(uow_factory=api_uow, tenant_id=other.id).slug
    token = _signer(settings, api_uow, ISSUED).token(world.shop.id, UUID(world.shipped["id"]))
    altered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    download_like = "W1sidGVuYW50Il1d.bad"

    answers = [
        _status(client, world.slug, BROWSER, token=altered),
        _status(client, world.slug, BROWSER, token=download_like),
        _status(client, other_slug, BROWSER, token=token),
    ]

    for answer in answers:
        page = _page(answer, 404)
        assert page.h("h1") == ["Find your order"]
        assert page.alerts == ["This link is not valid; look your order up instead"]
        assert "Espresso" not in answer.text
    assert_problem(_status(client, other_slug, AS_JSON, token=token), 404, "not_found")


def test_a_link_past_its_ninety_days_has_expired(
    client: TestClient,
    world: World,
    settings: Settings,
    api_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    token = _signer(settings, api_uow, ISSUED).token(world.shop.id, UUID(world.shipped["id"]))
    try:
        clock.now = ISSUED + timedelta(days=90) - timedelta(seconds=1)
        still = _status(client, world.slug, BROWSER, token=token)
        clock.now = ISSUED + timedelta(days=90)
        expired = _status(client, world.slug, BROWSER, token=token)
        expired_json = _status(client, world.slug, AS_JSON, token=token)
    finally:
        clock.now = ISSUED + timedelta(days=1)

    assert _page(still).h("h1") == ["Shipped"]
    page = _page(expired, 410)
    assert page.alerts == ["This link has expired; look your order up instead"]
    assert page.h("h1") == ["Find your order"]
    assert_problem(expired_json, 410, "gone")


def test_a_pickup_collected_or_left_too_long_says_so(
    client: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    shop = new_tenant(api_uow, "Pickup corner")
    slug = resolve_tenant(uow_factory=api_uow, tenant_id=shop.id).slug
    add_sites(client, shop, {"STORE-1": SITES["STORE-1"]}, BOXES)
    create_product(client, shop, "MUG", name="Mug")
    set_on_hand(client, shop, "MUG", "STORE-1", 5)
    collected, left = (
        post_json(
            client,
            shop,
            "/v1/orders",
            {
                "currency": "EUR",
                "lines": [{"sku": "MUG", "quantity": 1}],
                "customer": {"email": EMAIL},
                "pickup_location": "STORE-1",
                "payment": CARD,
            },
            201,
        )
        for _ in range(2)
    )
    wave = post_json(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    codes = post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")["pickup_codes"]
    [fo] = get_json(client, shop, f"/v1/orders/{collected['id']}/fulfillment-orders")["items"]
    post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/pickup", {"code": codes[fo["id"]]})
    # Long after every pickup's time ran out (a fixed date, not the wall clock).
    assert (
        expire_uncollected_pickups(
            uow_factory=api_uow, tenant_id=shop.id, now=datetime(2999, 1, 1, tzinfo=UTC)
        )
        == 1
    )

    picked = _page(_status(client, slug, BROWSER, number=str(collected["number"]), email=EMAIL))
    expired = _page(_status(client, slug, BROWSER, number=str(left["number"]), email=EMAIL))
    expired_json = _status(client, slug, AS_JSON, number=str(left["number"]), email=EMAIL).json()

    assert picked.h("h1") == ["Picked up"]
    assert "Picked up" in picked.text.split("Store pickup", 1)[1]
    assert expired.h("h1") == ["Cancelled"]
    assert "Not picked up in time" in expired.text
    assert [p["state"] for p in expired_json["pickups"]] == ["expired"]
    assert [(t["type"], t["title"]) for t in expired_json["timeline"]] == [
        ("order.placed", "Order placed"),
        ("order.released", "Order confirmed"),
        ("fulfillment_order.ready_for_pickup", "Ready for pickup"),
        ("fulfillment_order.pickup_expired", "Not picked up in time"),
    ]
    for code in codes.values():
        assert code not in json.dumps(expired_json)
