"""The routing profile's what-if run in the portal: the tenant's latest orders (or orders
given as CSV) routed under the profile in force and a candidate through the simulation
use case, the difference told in words; nothing is saved; a bad candidate is refused on
the page (422). Rate cards are deployment-wide, so this module runs on a database of its
own."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.users import Role, User
from tests.api.fulfilment_support import own_engine
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    create_product,
    new_operator_headers,
    new_tenant,
    place_order,
    set_on_hand,
)
from tests.databases import ENGINES
from tests.integration.test_routing import RATES

COLOGNE = {
    "name": "E M",
    "line1": "Heidestrasse 17",
    "city": "Koeln",
    "postal_code": "51147",
    "country": "DE",
    "latitude": 50.94,
    "longitude": 6.96,
}
PAID = {"gateway": "manual", "captured": True}


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "portal_what_if")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def client(api_engine: Engine, api_uow: SqlUnitOfWorkFactory) -> Iterator[TestClient]:
    settings: Settings = api_settings_for(api_engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, engine=api_engine)) as test_client:
        imported = test_client.post(
            "/v1/carrier-services/import",
            headers=new_operator_headers(api_uow),
            json={"format": "yaml", "document": RATES},
        )
        assert imported.status_code == 200, imported.text
        yield test_client


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    tenant = new_tenant(api_uow)
    for code, lat, lon in (("NEAR", 50.88, 7.06), ("FAR", 48.14, 11.58)):
        response = client.post(
            "/v1/locations",
            headers=tenant.headers,
            json={
                "code": code,
                "name": code,
                "latitude": lat,
                "longitude": lon,
                "address": {"country": "DE"},
            },
        )
        assert response.status_code == 201, response.text
    create_product(client, tenant, "X", weight_grams=500)
    for code in ("NEAR", "FAR"):
        set_on_hand(client, tenant, "X", code, 50)
    return tenant


@pytest.fixture
def viewer(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_VIEWER, shop.id)


def _sentences(html: str) -> list[str]:
    section = html.split('id="what-if-result"', 1)[1].split("</section>", 1)[0]
    return [re.sub(r"\s+", " ", p) for p in re.findall(r"<p>(.*?)</p>", section, re.S)]


def test_excluding_the_near_location_is_told_as_dearer_and_shipped_from_far(
    client: TestClient, shop: ApiTenant, viewer: User
) -> None:
    for _ in range(3):
        place_order(client, shop, ("X", 1), shipping_address=COLOGNE, payment=PAID)
    sign_in(client, viewer)
    form = client.get("/app/settings/routing/what-if")
    candidate = '{"excluded_locations": ["NEAR"]}'

    answer = client.post(
        "/app/settings/routing/what-if",
        data={"csrf_token": csrf_of(form.text), "profile": candidate, "orders": ""},
    )
    versions = client.get("/v1/routing-profile", headers=shop.headers).json()

    assert form.status_code == 200
    assert "&#34;allow_split&#34;" in form.text or '"allow_split"' in form.text
    assert answer.status_code == 200, answer.text
    told = _sentences(answer.text)
    assert "the tenant&#39;s latest 3 orders shipped to an address" in told[0]
    assert told[1].startswith("3 order(s) routed under both profiles")
    assert re.fullmatch(
        r"Shipping and handling would cost [\d,.]+ under the candidate: [\d,.]+ more than "
        r"the [\d,.]+ of the profile in force \([\d.]+% more\)\.",
        told[2],
    ), told[2]
    assert "Parcels per location: FAR 3 instead of 0; NEAR 0 instead of 3." in told
    assert versions.get("version", 0) == 0


def test_orders_given_as_csv_and_a_bad_candidate(
    client: TestClient, shop: ApiTenant, viewer: User
) -> None:
    sign_in(client, viewer)
    token = csrf_of(client.get("/app/settings/routing/what-if").text)
    csv = "country,region,postal_code,city,lines,service_level\nDE,,51147,Koeln,X:2,standard\n"

    given = client.post(
        "/app/settings/routing/what-if",
        data={"csrf_token": token, "profile": "allow_split: false", "orders": csv},
    )
    bad = client.post(
        "/app/settings/routing/what-if",
        data={"csrf_token": token, "profile": "max_locations: many", "orders": csv},
    )
    not_yaml = client.post(
        "/app/settings/routing/what-if",
        data={"csrf_token": token, "profile": "[unclosed", "orders": ""},
    )

    assert given.status_code == 200
    assert "Orders: the orders given." in _sentences(given.text)[0]
    assert "1 order(s) routed under both profiles" in given.text
    assert bad.status_code == 422
    assert "max_locations" in bad.text
    assert not_yaml.status_code == 422
    assert "not JSON or YAML" in not_yaml.text
