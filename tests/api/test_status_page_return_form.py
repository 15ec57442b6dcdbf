"""The return form on the order status page's HTML: offered once the order was delivered,
posted as a plain form, answered with a page that says what happened or with each problem
next to its field; cross-site posts refused, rate limited like the JSON call (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.web.pages import PageClock
from oms.wiring import status_links
from tests.api.exchange_support import (
    BROWSER,
    NOW,
    delivered,
    post_return_form,
    returns_of,
    status_page_client,
)
from tests.api.support import ApiTenant, TestClient, api_settings_for, new_tenant
from tests.integration.returns_support import open_shop, returns_engine, shipped_order

__all__ = ["returns_engine"]


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture(scope="module")
def client(returns_engine: Engine) -> Iterator[TestClient]:
    with status_page_client(returns_engine) as test_client:
        yield test_client


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> tuple[ApiTenant, str]:
    tenant = new_tenant(uow, "return form shop")
    open_shop(uow, tenant.id)
    with uow(readonly=True) as read:
        found = read.tenants.get(tenant.id)
    assert found is not None
    return tenant, found.slug


def test_a_delivered_order_shows_the_return_form_with_its_lines_and_reasons(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    shipped = shipped_order(uow, tenant.id, ("X", 1))
    done = delivered(uow, tenant.id, ("X", 2))
    query = {"email": "erika@example.com"}
    page = client.get(f"/status/{slug}", params={"number": done.number} | query)
    assert page.status_code == 200
    assert f'action="/status/{slug}/returns/form"' in page.text
    assert '<option value="2">2</option>' in page.text
    assert '<option value="wrong_size">Wrong size</option>' in page.text
    assert 'value="store_credit"' in page.text  # the order has a customer to credit
    not_yet = client.get(f"/status/{slug}", params={"number": shipped.number} | query)
    assert not_yet.status_code == 200
    assert "returns/form" not in not_yet.text


def test_posting_the_form_opens_the_return_and_says_what_happened(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 2), ("Y", 1))
    answer = post_return_form(
        client, slug, order, **{"qty-1": "1", "reason-1": "defective", "qty-2": "0"}
    )
    assert answer.status_code == 201, answer.text
    assert "Your return is approved" in answer.text
    (made,) = returns_of(client, tenant, order)
    assert made["status"] == "approved"
    assert made["created_by"] == f"customer:order {order.number}"
    assert [(ln["line_no"], ln["quantity"], ln["reason"]) for ln in made["lines"]] == [
        (1, 1, "defective")
    ]
    assert made["id"] in answer.text

    waiting = post_return_form(client, slug, order, **{"qty-2": "1", "reason-2": "changed_mind"})
    assert waiting.status_code == 201, waiting.text
    assert "We have your return request" in waiting.text
    page = client.get(
        f"/status/{slug}", params={"number": order.number, "email": "erika@example.com"}
    )
    assert '<option value="2">' not in page.text  # one unit of X left to return, none of Y
    assert 'name="qty-2"' not in page.text


def test_problems_are_shown_next_to_their_fields_and_nothing_is_opened(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 1))
    nothing = post_return_form(client, slug, order)
    assert nothing.status_code == 422
    assert 'id="lines-error">Choose at least one item to send back' in nothing.text
    no_reason = post_return_form(client, slug, order, **{"qty-1": "1"})
    assert no_reason.status_code == 422
    assert 'id="reason-1-error">Choose why you are sending it back' in no_reason.text
    assert 'aria-describedby="reason-1-error" aria-invalid="true"' in no_reason.text
    assert '<option value="1" selected>' in no_reason.text  # what was chosen stays chosen
    too_many = post_return_form(client, slug, order, **{"qty-1": "5", "reason-1": "defective"})
    assert 'id="qty-1-error">Choose from 0 to 1' in too_many.text
    wrong_email = post_return_form(
        client,
        slug,
        order,
        headers=BROWSER,
        **{"qty-1": "1", "reason-1": "defective", "return_email": "someone@example.com"},
    )
    assert wrong_email.status_code == 422, wrong_email.text
    assert 'id="return_email-error">This is not the email address the order was placed with' in (
        wrong_email.text
    )
    assert returns_of(client, tenant, order) == []


def test_a_post_from_another_site_is_refused(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 1))
    choice = {"qty-1": "1", "reason-1": "defective"}
    other_origin = {"Accept": "text/html", "Origin": "https://attacker.example"}
    assert post_return_form(client, slug, order, headers=other_origin, **choice).status_code == 403
    cross_site = {"Accept": "text/html", "Sec-Fetch-Site": "cross-site"}
    assert post_return_form(client, slug, order, headers=cross_site, **choice).status_code == 403
    assert returns_of(client, tenant, order) == []
    sibling = {"Accept": "text/html", "Sec-Fetch-Site": "same-site", "Origin": "null"}
    assert post_return_form(client, slug, order, headers=sibling, **choice).status_code == 403
    assert returns_of(client, tenant, order) == []
    # The page's own post: its no-referrer policy makes the browser say "Origin: null".
    own_page = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin", "Origin": "null"}
    assert post_return_form(client, slug, order, headers=own_page, **choice).status_code == 201


def test_the_form_counts_against_the_public_pages_rate_limit(
    returns_engine: Engine, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 1))
    url = returns_engine.url.render_as_string(hide_password=False)
    settings = api_settings_for(url).model_copy(
        update={"public_rate_limit_burst": 2, "public_rate_limit_per_minute": 1}
    )
    app = create_app(
        settings, engine=returns_engine, page_clock=PageClock(now=lambda: NOW, monotonic=lambda: 0)
    )
    with TestClient(app) as limited:
        answers = [post_return_form(limited, slug, order).status_code for _ in range(3)]
        assert answers == [422, 422, 429]


def test_a_page_opened_by_its_signed_link_posts_the_link_with_its_form(
    returns_engine: Engine,
    client: TestClient,
    uow: SqlUnitOfWorkFactory,
    shop: tuple[ApiTenant, str],
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 1))
    settings = api_settings_for(returns_engine.url.render_as_string(hide_password=False))
    token = status_links(settings, uow, clock=lambda: NOW).token(tenant.id, order.id)
    page = client.get(f"/status/{slug}", params={"token": token})
    assert f'<input type="hidden" name="token" value="{token}">' in page.text
    assert "erika@example.com" not in page.text  # typed by the customer, never shown
    choice = {"token": token, "return_email": "erika@example.com", "qty-1": "1"}
    made = client.post(
        f"/status/{slug}/returns/form", data=choice | {"reason-1": "defective"}, headers=BROWSER
    )
    assert made.status_code == 201, made.text
    forged = client.post(
        f"/status/{slug}/returns/form",
        data=choice | {"token": token[:-3] + "AAA", "reason-1": "defective"},
        headers=BROWSER,
    )
    assert forged.status_code == 404
    assert "This link is not valid" in forged.text
