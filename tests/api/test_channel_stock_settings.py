"""A store connection's stock push settings through the API: which Shopify location or
Magento source each of ours is, changed by PATCH; a location id that is not one, or a
setting of another kind, is refused (422)."""

from __future__ import annotations

from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.api.test_channels import shopify_body


def test_the_shopify_locations_are_stored_and_replaced_as_given(
    client: TestClient, tenant: ApiTenant
) -> None:
    body = shopify_body(
        push_stock=True,
        location_codes=["BER", "HAM"],
        shopify_locations={"BER": "gid://shopify/Location/101", "HAM": "102"},
    )
    created = client.post("/v1/channels", headers=tenant.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["shopify_locations"] == {
        "BER": "gid://shopify/Location/101",
        "HAM": "102",
    }
    path = f"/v1/channels/{created.json()['id']}"
    changed = client.patch(path, headers=tenant.headers, json={"shopify_locations": {"BER": "7"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["shopify_locations"] == {"BER": "7"}
    assert changed.json()["settings"]["shop_domain"] == "alpine-wool.myshopify.com"


def test_a_location_id_that_is_not_shopifys_is_refused(
    client: TestClient, tenant: ApiTenant
) -> None:
    body = shopify_body(shopify_locations={"BER": "gid://shopify/Product/1"})
    assert_problem(client.post("/v1/channels", headers=tenant.headers, json=body), 422)
    woo = {
        "kind": "woocommerce",
        "name": "Woo",
        "store_url": "https://woo.example",
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "webhook_secret": "ws",
    }
    created = client.post("/v1/channels", headers=tenant.headers, json=woo)
    assert created.status_code == 201, created.text
    path = f"/v1/channels/{created.json()['id']}"
    wrong_kind = client.patch(path, headers=tenant.headers, json={"shopify_locations": {"B": "1"}})
    assert_problem(wrong_kind, 422)


def magento_body(**fields: object) -> dict[str, object]:
    return {
        "kind": "magento2",
        "name": "Magento",
        "base_url": "https://magento.example",
        "access_token": "tok",
        **fields,
    }


def test_the_magento_sources_are_stored_and_replaced_as_given(
    client: TestClient, tenant: ApiTenant
) -> None:
    # push_stock stays off: the worker's stock push reads every tenant's connections
    # pushing stock, and this database is shared with tests that run it.
    body = magento_body(magento_sources={"BER": "berlin_dc", "HAM": "default"})
    created = client.post("/v1/channels", headers=tenant.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["settings"]["magento_sources"] == {"BER": "berlin_dc", "HAM": "default"}
    path = f"/v1/channels/{created.json()['id']}"
    changed = client.patch(path, headers=tenant.headers, json={"magento_sources": {"BER": "b2"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"] == {
        "base_url": "https://magento.example",
        "magento_sources": {"BER": "b2"},
    }


def test_a_source_code_with_whitespace_or_on_another_kind_is_refused(
    client: TestClient, tenant: ApiTenant
) -> None:
    spaced = magento_body(magento_sources={"BER": "berlin dc"})
    assert_problem(client.post("/v1/channels", headers=tenant.headers, json=spaced), 422)
    created = client.post("/v1/channels", headers=tenant.headers, json=shopify_body())
    assert created.status_code == 201, created.text
    path = f"/v1/channels/{created.json()['id']}"
    wrong_kind = client.patch(path, headers=tenant.headers, json={"magento_sources": {"B": "s"}})
    assert_problem(wrong_kind, 422)
