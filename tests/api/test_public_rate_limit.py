"""The public pages' per-client rate limit over HTTP: a burst, then 429 with Retry-After (a
page for browsers, problem+json for JSON clients) until the bucket refills on the injected
clock; other clients are not affected. On both engines, no sleeping."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Settings
from oms.services.tenants import create_tenant
from oms.web.pages import PageClock
from tests.api.html_support import parse_page
from tests.api.support import TestClient, api_settings_for, assert_problem

BROWSER = {"Accept": "text/html,*/*;q=0.8"}
AS_JSON = {"Accept": "application/json"}
BURST = 3
PER_MINUTE = 30  # one token every 2 seconds


class Seconds:
    def __init__(self) -> None:
        self.now = 5_000.0


@pytest.fixture(scope="module")
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture(scope="module")
def limited_app_settings(api_engine: Engine) -> Settings:
    url = api_engine.url.render_as_string(hide_password=False)
    return api_settings_for(url).model_copy(
        update={"public_rate_limit_burst": BURST, "public_rate_limit_per_minute": PER_MINUTE}
    )


@pytest.fixture(scope="module")
def app_and_slug(
    api_engine: Engine, limited_app_settings: Settings, seconds: Seconds
) -> tuple[FastAPI, str]:
    tenant, _ = create_tenant(uow_factory=SqlUnitOfWorkFactory(api_engine), name="Limited shop")
    app = create_app(
        limited_app_settings,
        engine=api_engine,
        page_clock=PageClock(monotonic=lambda: seconds.now),
    )
    return app, tenant.slug


def _client(app: FastAPI, address: str) -> TestClient:
    """A client calling from ``address``."""
    return TestClient(app, client=(address, 50000))


def test_a_client_over_its_burst_waits_for_the_bucket_to_refill(
    app_and_slug: tuple[FastAPI, str], seconds: Seconds
) -> None:
    app, slug = app_and_slug
    with _client(app, "198.51.100.7") as client:
        allowed = [client.get(f"/status/{slug}", headers=BROWSER) for _ in range(BURST)]
        refused = client.get(f"/status/{slug}", headers=BROWSER)
        refused_json = client.get("/track/AC000000013OM", headers=AS_JSON)

        assert [r.status_code for r in allowed] == [200] * BURST
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        page = parse_page(refused.text)
        assert page.h("h1") == ["Please wait a moment"]
        assert "Try again in 2 seconds" in page.text
        assert refused.headers["referrer-policy"] == "no-referrer"
        problem = assert_problem(refused_json, 429, "rate_limited")
        assert "retry in 2 s" in problem["detail"]
        assert refused_json.headers["retry-after"] == "2"

        seconds.now += 2.0
        assert client.get(f"/status/{slug}", headers=BROWSER).status_code == 200
        assert client.get(f"/status/{slug}", headers=BROWSER).status_code == 429

        seconds.now += 60.0  # a minute refills the whole burst, never more
        statuses = [client.get(f"/status/{slug}").status_code for _ in range(BURST + 1)]
        assert statuses == [200] * BURST + [429]


def test_other_clients_keep_their_own_buckets(
    app_and_slug: tuple[FastAPI, str], seconds: Seconds
) -> None:
    app, slug = app_and_slug
    with _client(app, "192.0.2.10") as first:
        for _ in range(BURST):
            first.get(f"/status/{slug}")
        assert first.get(f"/status/{slug}").status_code == 429
    with _client(app, "192.0.2.11") as second:
        assert second.get(f"/status/{slug}").status_code == 200
    # The API itself is not limited by the pages' buckets.
    with _client(app, "192.0.2.10") as first:
        assert first.get("/healthz").status_code == 200


def test_the_json_return_call_counts_against_the_same_bucket(
    app_and_slug: tuple[FastAPI, str],
) -> None:
    app, slug = app_and_slug
    ask = {
        "number": "1001",
        "email": "erika@example.com",
        "lines": [{"line_no": 1, "quantity": 1, "reason": "wrong_size"}],
        "resolution": "exchange",
        "exchange_lines": [{"line_no": 1, "sku": "TEE-L"}],
    }
    with _client(app, "198.51.100.23") as client:
        allowed = [
            client.post(f"/status/{slug}/returns", json=ask, headers=AS_JSON) for _ in range(BURST)
        ]
        refused = client.post(f"/status/{slug}/returns", json=ask, headers=AS_JSON)

    assert [r.status_code for r in allowed] == [404] * BURST  # no such order
    assert assert_problem(refused, 429, "rate_limited")["status"] == 429
