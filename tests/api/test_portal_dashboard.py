"""The portal's dashboard page: where signing in lands, the figures of the dashboard use
case for the range in the form, scoped to the viewer's tenant (an operator's pick, or all),
its SVG charts each with a table of the same figures, and a bad range refused on the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.users import Role
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_pages import FixedClock, read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient, new_tenant


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="module")
def portal(api_settings: Settings, api_engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    app = create_app(api_settings, engine=api_engine, page_clock=clock.page_clock())
    with TestClient(app) as test_client:
        yield test_client


def _placed(portal: TestClient, shop: ApiTenant, count: int) -> datetime:
    """Place ``count`` orders; when the last was placed."""
    last = None
    for _ in range(count):
        last = clean_order(portal, shop)
    assert last is not None
    return datetime.fromisoformat(last["created_at"])


def test_signing_in_lands_on_the_dashboard(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    shop = new_tenant(api_uow, "Landing Shop")
    user = new_user(api_uow, Role.MERCHANT_VIEWER, shop.id)
    portal.cookies.clear()
    form = portal.get("/app/login")
    answer = portal.post(
        "/app/login",
        data={
            "csrf_token": csrf_of(form.text),
            "email": user.email,
            "password": "a long portal password",
        },
        follow_redirects=False,
    )

    assert answer.headers["location"] == "/app/dashboard"
    assert portal.get("/app", follow_redirects=False).headers["location"] == "/app/dashboard"


def test_a_merchant_sees_its_own_figures_for_the_range(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory, clock: FixedClock
) -> None:
    shop = stock_shop(portal, new_tenant(api_uow, "Dashboard Shop"))
    other = stock_shop(portal, new_tenant(api_uow, "Other Dashboard Shop"))
    clean_order(portal, other)
    placed = _placed(portal, shop, 2)
    clock.now = placed + timedelta(seconds=1)
    day = placed.date().isoformat()
    sign_in(portal, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))

    answer = portal.get("/app/dashboard", params={"from": day, "to": day})

    assert answer.status_code == 200
    page = read(answer.text)
    assert page.figures["orders-in-range"] == "2"
    assert page.figures["orders-today"] == "2"
    assert page.figures["backlog"] == "2"
    assert page.tables["per-day-table"][1:] == [[page.tables["per-day-table"][1][0], "2"]]
    assert ["Under 1 day", "2"] in page.tables["age-table"]
    # one bar per day, one per age bucket; each chart titled and backed by its table
    assert page.bars == 1 + 4
    assert any(title.startswith("Orders per day") for title in page.svg_titles)
    assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_the_range_defaults_to_the_last_seven_days(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory, clock: FixedClock
) -> None:
    shop = new_tenant(api_uow, "Week Shop")
    sign_in(portal, new_user(api_uow, Role.MERCHANT_ADMIN, shop.id))

    page = read(portal.get("/app/dashboard").text)

    days = page.tables["per-day-table"][1:]
    assert len(days) == 7
    assert page.bars == 7 + 4
    assert all(count == "0" for _, count in days)
    assert clock.now.strftime("%B %Y") in days[-1][0]


def test_an_operator_sees_the_tenant_it_picked_or_all_of_them(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory, clock: FixedClock
) -> None:
    shop = stock_shop(portal, new_tenant(api_uow, "Picked Shop"))
    other = stock_shop(portal, new_tenant(api_uow, "Unpicked Shop"))
    _placed(portal, other, 1)
    placed = _placed(portal, shop, 2)
    clock.now = placed + timedelta(seconds=1)
    day = placed.date().isoformat()
    sign_in(portal, new_user(api_uow, Role.OPERATOR_ADMIN))
    url = f"/app/dashboard?from={day}&to={day}"

    everyone = read(portal.get(url).text)
    token = csrf_of(portal.get(url).text)
    portal.post("/app/tenant", data={"csrf_token": token, "tenant": str(shop.id), "next": url})
    picked = read(portal.get(url).text)

    assert int(everyone.figures["orders-in-range"]) >= 3
    assert picked.figures["orders-in-range"] == "2"


def test_a_range_running_backwards_is_refused_on_the_page(
    portal: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    shop = new_tenant(api_uow, "Backwards Shop")
    sign_in(portal, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))

    backwards = portal.get("/app/dashboard", params={"from": "2031-03-04", "to": "2031-03-01"})
    garbled = portal.get("/app/dashboard", params={"from": "yesterday"})

    assert backwards.status_code == 422
    assert "The range ends before it starts" in read(backwards.text).alerts[0]
    assert garbled.status_code == 422
    assert len(read(garbled.text).tables["per-day-table"]) == 1 + 7


def test_the_dashboard_needs_a_signed_in_user(portal: TestClient) -> None:
    portal.cookies.clear()

    answer = portal.get("/app/dashboard", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/login")
