"""What fulfilment needs from the catalogue: barcodes, dimensions and download URLs on
products, the boxes a location packs in, and the bins a tenant's SKUs lie in there.

The tests run on SQLite and PostgreSQL (as every API module does); the last one also reads
the stored rows back from each database.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import locations, product_bins, products
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    new_operator_headers,
    new_tenant,
)

SMALL = {
    "code": "S",
    "length_mm": 200,
    "width_mm": 150,
    "height_mm": 100,
    "max_weight_grams": 5_000,
    "tare_grams": 120,
}
LARGE = {
    "code": "L",
    "length_mm": 600,
    "width_mm": 400,
    "height_mm": 400,
    "max_weight_grams": 30_000,
    "tare_grams": 900,
}
DOWNLOAD = "https://files.example.com/e-book.pdf?token=abc"


def _pointers(body: dict[str, Any]) -> list[str]:
    return [error["pointer"] for error in body["errors"]]


def _refused(response: Any, *pointers: str) -> None:
    assert sorted(_pointers(assert_problem(response, 422))) == sorted(pointers)


def _operator_location(
    client: TestClient, operator_headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    code = f"HUB-{uuid4().hex[:8]}"
    response = client.post(
        "/v1/locations", headers=operator_headers, json={"code": code, "name": "3PL hub", **fields}
    )
    assert response.status_code == 201, response.text
    location: dict[str, Any] = response.json()
    return location


def _grant(
    client: TestClient, operator_headers: dict[str, str], location: dict[str, Any], to: ApiTenant
) -> None:
    response = client.post(
        f"/v1/locations/{location['id']}/grants",
        headers=operator_headers,
        json={"tenant_id": str(to.id)},
    )
    assert response.status_code == 204, response.text


def _put_boxes(
    client: TestClient, headers: dict[str, str], code: str, boxes: list[dict[str, Any]]
) -> Any:
    return client.put(f"/v1/locations/{code}/boxes", headers=headers, json={"boxes": boxes})


def _put_bins(client: TestClient, tenant: ApiTenant, code: str, *bins: tuple[str, str]) -> Any:
    body = {"bins": [{"sku": sku, "bin": bin_} for sku, bin_ in bins]}
    return client.put(f"/v1/locations/{code}/bins", headers=tenant.headers, json=body)


def _bins(client: TestClient, tenant: ApiTenant, code: str) -> list[dict[str, str]]:
    response = client.get(f"/v1/locations/{code}/bins", headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


# --- products -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {"barcode": "4006381333931", "length_mm": 300, "width_mm": 200, "height_mm": 20},
            id="physical",
        ),
        pytest.param({"kind": "digital", "download_url": DOWNLOAD}, id="digital"),
        pytest.param({"kind": "digital", "barcode": "96385074"}, id="digital-with-barcode"),
    ],
)
def test_a_product_reads_back_the_fulfilment_fields_it_was_created_with(
    client: TestClient, tenant: ApiTenant, fields: dict[str, Any]
) -> None:
    created = create_product(client, tenant, "ITEM", **fields)

    read = client.get(f"/v1/products/{created['id']}", headers=tenant.headers).json()
    listed = client.get("/v1/products", headers=tenant.headers).json()["items"]

    expected = {
        "barcode": None,
        "length_mm": None,
        "width_mm": None,
        "height_mm": None,
        "download_url": None,
        **{name: value for name, value in fields.items() if name != "kind"},
    }
    assert {name: created[name] for name in expected} == expected
    assert read == created
    assert listed == [created]


@pytest.mark.parametrize("barcode", ["96385074", "036000291452", "4006381333931", "10614141000415"])
def test_every_gtin_length_is_accepted_and_stored_as_given(
    client: TestClient, tenant: ApiTenant, barcode: str
) -> None:
    created = create_product(client, tenant, "SCANNED", barcode=barcode)

    assert created["barcode"] == barcode


@pytest.mark.parametrize(
    "barcode",
    [
        pytest.param("4006381333932", id="wrong-check-digit"),
        pytest.param("12345", id="too-short"),
        pytest.param("400638133393", id="twelve-digits-wrong-check"),
        pytest.param("4006381333931X", id="not-digits"),
        pytest.param("400638133393100", id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("٤٠٠٦٣٨١٣٣٣٩٣١", id="arabic-indic-digits"),
    ],
)
def test_a_barcode_that_is_not_a_gtin_is_refused(
    client: TestClient, tenant: ApiTenant, barcode: str
) -> None:
    body = {"sku": "BAD", "name": "Bad", "price": "1.00", "currency": "EUR", "barcode": barcode}

    response = client.post("/v1/products", headers=tenant.headers, json=body)

    _refused(response, "#/barcode")
    assert client.get("/v1/products", headers=tenant.headers).json()["items"] == []


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"length_mm": 10}, ["width_mm", "height_mm"]),
        ({"width_mm": 10, "height_mm": 10}, ["length_mm"]),
        ({"length_mm": 10, "width_mm": 10}, ["height_mm"]),
    ],
)
def test_dimensions_come_all_three_or_none(
    client: TestClient, tenant: ApiTenant, given: dict[str, int], missing: list[str]
) -> None:
    body = {"sku": "BOX", "name": "Box", "price": "1.00", "currency": "EUR", **given}

    response = client.post("/v1/products", headers=tenant.headers, json=body)

    _refused(response, *[f"#/{name}" for name in missing])


@pytest.mark.parametrize("side", [0, -5, 100_001])
def test_a_dimension_outside_1_to_100000_mm_is_refused(
    client: TestClient, tenant: ApiTenant, side: int
) -> None:
    sides = {"length_mm": side, "width_mm": 10, "height_mm": 10}
    body = {"sku": "BOX", "name": "Box", "price": "1.00", "currency": "EUR", **sides}

    response = client.post("/v1/products", headers=tenant.headers, json=body)

    _refused(response, "#/length_mm")


@pytest.mark.parametrize("kind", ["physical", "bundle"])
def test_a_download_url_is_only_for_digital_products(
    client: TestClient, tenant: ApiTenant, kind: str
) -> None:
    create_product(client, tenant, "PART")
    body: dict[str, Any] = {
        "sku": "THING",
        "name": "Thing",
        "price": "1.00",
        "currency": "EUR",
        "kind": kind,
        "download_url": DOWNLOAD,
    }
    if kind == "bundle":
        body["components"] = [{"sku": "PART", "quantity": 1}]

    response = client.post("/v1/products", headers=tenant.headers, json=body)

    _refused(response, "#/download_url")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://files.example.com/e-book.pdf", id="ftp"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("files.example.com/e-book.pdf", id="no-scheme"),
        pytest.param("https://", id="no-host"),
        pytest.param("https://[::1/e-book.pdf", id="broken-ipv6"),
        pytest.param("https://files.example.com/my e-book.pdf", id="space"),
        pytest.param("https://files.example.com/" + "a" * 2000, id="2026-characters"),
    ],
)
def test_a_download_url_must_be_http_or_https_and_at_most_2000_characters(
    client: TestClient, tenant: ApiTenant, url: str
) -> None:
    body = {
        "sku": "E-BOOK",
        "name": "E-book",
        "price": "1.00",
        "currency": "EUR",
        "kind": "digital",
        "download_url": url,
    }

    response = client.post("/v1/products", headers=tenant.headers, json=body)

    _refused(response, "#/download_url")


def test_a_download_url_of_exactly_2000_characters_is_accepted(
    client: TestClient, tenant: ApiTenant
) -> None:
    url = "http://files.example.com/"
    url += "a" * (2000 - len(url))

    created = create_product(client, tenant, "LONG-URL", kind="digital", download_url=url)

    assert created["download_url"] == url


# --- boxes ----------------------------------------------------------------------------------


def test_a_location_created_with_boxes_reads_them_back(
    client: TestClient, tenant: ApiTenant
) -> None:
    created = client.post(
        "/v1/locations",
        headers=tenant.headers,
        json={"code": "WH-1", "name": "Main", "boxes": [SMALL, {**LARGE, "tare_grams": 0}]},
    )
    assert created.status_code == 201, created.text

    read = client.get(f"/v1/locations/{created.json()['id']}", headers=tenant.headers).json()

    assert read["boxes"] == [SMALL, {**LARGE, "tare_grams": 0}]
    assert read == created.json()


def test_a_location_without_boxes_lists_none_and_the_tare_defaults_to_zero(
    client: TestClient, tenant: ApiTenant
) -> None:
    location = create_location(client, tenant, "WH-1")
    without_tare = {name: value for name, value in SMALL.items() if name != "tare_grams"}

    response = _put_boxes(client, tenant.headers, "WH-1", [without_tare])

    assert location["boxes"] == []
    assert response.status_code == 200, response.text
    assert response.json()["boxes"] == [{**SMALL, "tare_grams": 0}]


def test_putting_boxes_replaces_the_list_and_answers_the_location(
    client: TestClient, tenant: ApiTenant
) -> None:
    location = create_location(client, tenant, "WH-1")
    assert _put_boxes(client, tenant.headers, "WH-1", [SMALL]).status_code == 200

    replaced = _put_boxes(client, tenant.headers, "WH-1", [LARGE])

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == location["id"]
    assert replaced.json()["boxes"] == [LARGE]
    read = client.get(f"/v1/locations/{location['id']}", headers=tenant.headers).json()
    assert read["boxes"] == [LARGE]
    emptied = _put_boxes(client, tenant.headers, "WH-1", [])
    assert emptied.json()["boxes"] == []


BAD_BOXES = [
    pytest.param([{**SMALL, "tare_grams": 5_000}], ["#/boxes/0/tare_grams"], id="tare-too-heavy"),
    pytest.param([SMALL, {**LARGE, "length_mm": 0}], ["#/boxes/1/length_mm"], id="zero-length"),
    pytest.param([{**SMALL, "max_weight_grams": -1}], ["#/boxes/0/max_weight_grams"], id="neg"),
    pytest.param([{**SMALL, "code": "  "}], ["#/boxes/0/code"], id="blank-code"),
    pytest.param([{**SMALL, "tare_grams": -1}], ["#/boxes/0/tare_grams"], id="negative-tare"),
    pytest.param([SMALL, LARGE, {**SMALL}], ["#/boxes/2/code"], id="duplicate-code"),
    pytest.param([{**SMALL, "lid": True}], ["#/boxes/0/lid"], id="unknown-field"),
    pytest.param([{"code": "X"}], [f"#/boxes/0/{n}" for n in list(SMALL)[1:5]], id="sizeless"),
]


@pytest.mark.parametrize(("boxes", "pointers"), BAD_BOXES)
def test_bad_boxes_are_refused_and_the_old_ones_kept(
    client: TestClient, tenant: ApiTenant, boxes: list[dict[str, Any]], pointers: list[str]
) -> None:
    location = create_location(client, tenant, "WH-1")
    _put_boxes(client, tenant.headers, "WH-1", [SMALL])

    response = _put_boxes(client, tenant.headers, "WH-1", boxes)

    _refused(response, *pointers)
    read = client.get(f"/v1/locations/{location['id']}", headers=tenant.headers).json()
    assert read["boxes"] == [SMALL]


@pytest.mark.parametrize(("boxes", "pointers"), BAD_BOXES)
def test_a_location_with_bad_boxes_is_not_created(
    client: TestClient, tenant: ApiTenant, boxes: list[dict[str, Any]], pointers: list[str]
) -> None:
    body = {"code": "WH-1", "name": "Main", "boxes": boxes}

    response = client.post("/v1/locations", headers=tenant.headers, json=body)

    _refused(response, *pointers)
    assert client.get("/v1/locations", headers=tenant.headers).json()["items"] == []


@pytest.mark.parametrize("whose", ["another-tenants", "unknown"])
def test_boxes_of_another_tenants_or_an_unknown_location_answer_404(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant, whose: str
) -> None:
    theirs = create_location(client, other_tenant, "THEIRS-ONLY")
    code = "THEIRS-ONLY" if whose == "another-tenants" else "NOWHERE"

    response = _put_boxes(client, tenant.headers, code, [SMALL])

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == f"No location {code!r}"
    read = client.get(f"/v1/locations/{theirs['id']}", headers=other_tenant.headers).json()
    assert read["boxes"] == []


def test_a_tenant_may_not_change_the_boxes_of_an_operator_location_it_uses(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    hub = _operator_location(client, operator_headers, boxes=[SMALL])
    _grant(client, operator_headers, hub, tenant)

    response = _put_boxes(client, tenant.headers, hub["code"], [LARGE])

    assert_problem(response, 403, "forbidden")
    read = client.get(f"/v1/locations/{hub['id']}", headers=tenant.headers).json()
    assert read["boxes"] == [SMALL]


def test_the_operator_changes_its_locations_boxes_and_tenants_using_it_see_them(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    hub = _operator_location(client, operator_headers)
    _grant(client, operator_headers, hub, tenant)

    response = _put_boxes(client, operator_headers, hub["code"], [SMALL, LARGE])

    assert response.status_code == 200, response.text
    assert response.json()["owner"] == "operator"
    read = client.get(f"/v1/locations/{hub['id']}", headers=tenant.headers).json()
    assert read["boxes"] == [SMALL, LARGE]


def test_an_operator_key_without_oms_tenant_cannot_reach_a_tenants_own_location(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    code = f"STORE-{uuid4().hex[:8]}"
    create_location(client, tenant, code)

    bare = _put_boxes(client, operator_headers, code, [SMALL])
    acting = _put_boxes(client, {**operator_headers, "OMS-Tenant": str(tenant.id)}, code, [SMALL])

    assert_problem(bare, 404, "not_found")
    assert acting.status_code == 200, acting.text
    assert acting.json()["owner"] == "tenant"


def test_a_tenants_own_location_wins_over_a_granted_one_with_the_same_code(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    hub = _operator_location(client, operator_headers)
    _grant(client, operator_headers, hub, tenant)
    own = create_location(client, tenant, hub["code"])

    response = _put_boxes(client, tenant.headers, hub["code"], [SMALL])

    assert response.status_code == 200, response.text
    assert response.json()["id"] == own["id"]
    assert client.get(f"/v1/locations/{hub['id']}", headers=tenant.headers).json()["boxes"] == []


# --- bins -----------------------------------------------------------------------------------


def test_bins_are_set_per_sku_and_listed_in_sku_order(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    for sku in ("TEE", "MUG", "CAP"):
        create_product(client, tenant, sku)

    response = _put_bins(client, tenant, "WH-1", ("TEE", " A-01-3 "), ("MUG", "B-2"))

    assert response.status_code == 200, response.text
    expected = [{"sku": "MUG", "bin": "B-2"}, {"sku": "TEE", "bin": "A-01-3"}]
    assert response.json() == {"items": expected, "next_cursor": None}
    assert _bins(client, tenant, "WH-1") == expected


def test_putting_bins_changes_the_listed_skus_and_keeps_the_others(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    for sku in ("TEE", "MUG", "CAP"):
        create_product(client, tenant, sku)
    _put_bins(client, tenant, "WH-1", ("TEE", "A-1"), ("MUG", "B-2"))

    response = _put_bins(client, tenant, "WH-1", ("TEE", "C-9"), ("CAP", "A-2"))

    expected = [
        {"sku": "CAP", "bin": "A-2"},
        {"sku": "MUG", "bin": "B-2"},
        {"sku": "TEE", "bin": "C-9"},
    ]
    assert response.status_code == 200, response.text
    assert _bins(client, tenant, "WH-1") == expected
    assert _put_bins(client, tenant, "WH-1").json() == {"items": expected, "next_cursor": None}


def test_bins_are_per_location(client: TestClient, tenant: ApiTenant) -> None:
    create_location(client, tenant, "WH-1")
    create_location(client, tenant, "WH-2")
    create_product(client, tenant, "TEE")

    _put_bins(client, tenant, "WH-1", ("TEE", "A-1"))

    assert _bins(client, tenant, "WH-1") == [{"sku": "TEE", "bin": "A-1"}]
    assert _bins(client, tenant, "WH-2") == []


@pytest.mark.parametrize(
    ("bins", "pointers"),
    [
        pytest.param([("TEE", "A-1"), ("NOPE", "A-2")], ["#/bins/1/sku"], id="unknown-sku"),
        pytest.param([("E-BOOK", "A-1")], ["#/bins/0/sku"], id="digital"),
        pytest.param([("KIT", "A-1")], ["#/bins/0/sku"], id="bundle"),
        pytest.param([("TEE", "A-1"), ("TEE", "A-2")], ["#/bins/1/sku"], id="sku-twice"),
        pytest.param([("TEE", "   ")], ["#/bins/0/bin"], id="blank-bin"),
        pytest.param([("TEE", "B" * 65)], ["#/bins/0/bin"], id="65-characters"),
        pytest.param([("TEE", "A-1\x00")], ["#/bins/0/bin"], id="nul"),
    ],
)
def test_bad_bins_are_refused_and_nothing_changes(
    client: TestClient, tenant: ApiTenant, bins: list[tuple[str, str]], pointers: list[str]
) -> None:
    create_location(client, tenant, "WH-1")
    create_product(client, tenant, "TEE")
    create_product(client, tenant, "E-BOOK", kind="digital")
    create_product(client, tenant, "KIT", kind="bundle", components=[{"sku": "TEE", "quantity": 2}])
    _put_bins(client, tenant, "WH-1", ("TEE", "OLD"))

    response = _put_bins(client, tenant, "WH-1", *bins)

    _refused(response, *pointers)
    assert _bins(client, tenant, "WH-1") == [{"sku": "TEE", "bin": "OLD"}]


def test_a_sku_only_another_tenant_sells_is_an_unknown_sku(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    create_product(client, other_tenant, "THEIRS")

    response = _put_bins(client, tenant, "WH-1", ("THEIRS", "A-1"))

    _refused(response, "#/bins/0/sku")


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("whose", ["another-tenants", "unknown"])
def test_bins_at_another_tenants_or_an_unknown_location_answer_404(
    client: TestClient, tenant: ApiTenant, other_tenant: ApiTenant, method: str, whose: str
) -> None:
    create_location(client, other_tenant, "THEIRS-ONLY")
    create_product(client, other_tenant, "TEE")
    create_product(client, tenant, "TEE")
    _put_bins(client, other_tenant, "THEIRS-ONLY", ("TEE", "A-1"))
    code = "THEIRS-ONLY" if whose == "another-tenants" else "NOWHERE"

    response = client.request(
        method,
        f"/v1/locations/{code}/bins",
        headers=tenant.headers,
        json={"bins": [{"sku": "TEE", "bin": "X"}]} if method == "PUT" else None,
    )

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == f"No location {code!r}"
    assert _bins(client, other_tenant, "THEIRS-ONLY") == [{"sku": "TEE", "bin": "A-1"}]


def test_tenants_sharing_an_operator_location_each_see_only_their_own_bins(
    client: TestClient,
    tenant: ApiTenant,
    other_tenant: ApiTenant,
    operator_headers: dict[str, str],
) -> None:
    hub = _operator_location(client, operator_headers)
    for each, bin_ in ((tenant, "A-1"), (other_tenant, "Z-9")):
        _grant(client, operator_headers, hub, each)
        create_product(client, each, "SHARED")
        assert _put_bins(client, each, hub["code"], ("SHARED", bin_)).status_code == 200

    assert _bins(client, tenant, hub["code"]) == [{"sku": "SHARED", "bin": "A-1"}]
    assert _bins(client, other_tenant, hub["code"]) == [{"sku": "SHARED", "bin": "Z-9"}]


def test_an_operator_key_names_the_tenant_whose_bins_it_sets(
    client: TestClient, tenant: ApiTenant, operator_headers: dict[str, str]
) -> None:
    hub = _operator_location(client, operator_headers)
    _grant(client, operator_headers, hub, tenant)
    create_product(client, tenant, "TEE")
    body = {"bins": [{"sku": "TEE", "bin": "A-1"}]}
    path = f"/v1/locations/{hub['code']}/bins"

    bare = client.put(path, headers=operator_headers, json=body)
    acting = client.put(path, headers={**operator_headers, "OMS-Tenant": str(tenant.id)}, json=body)

    assert_problem(bare, 403, "forbidden")
    assert acting.status_code == 200, acting.text
    assert _bins(client, tenant, hub["code"]) == [{"sku": "TEE", "bin": "A-1"}]


# --- both databases -------------------------------------------------------------------------


def test_both_databases_store_the_fulfilment_fields(
    client: TestClient, api_engine: Engine, api_uow: SqlUnitOfWorkFactory
) -> None:
    tenant = new_tenant(api_uow)
    operator_headers = new_operator_headers(api_uow)
    physical = create_product(
        client,
        tenant,
        "TEE",
        barcode="036000291452",
        length_mm=300,
        width_mm=200,
        height_mm=20,
    )
    digital = create_product(client, tenant, "E-BOOK", kind="digital", download_url=DOWNLOAD)
    own = create_location(client, tenant, "WH-1")
    hub = _operator_location(client, operator_headers)
    _grant(client, operator_headers, hub, tenant)
    boxes = _put_boxes(client, tenant.headers, "WH-1", [SMALL, LARGE])
    hub_boxes = _put_boxes(client, operator_headers, hub["code"], [LARGE])
    bins = _put_bins(client, tenant, hub["code"], ("TEE", "A-01-3"))

    assert (boxes.status_code, hub_boxes.status_code, bins.status_code) == (200, 200, 200)
    for product in (physical, digital):
        read = client.get(f"/v1/products/{product['id']}", headers=tenant.headers)
        assert read.json() == product
    assert client.get(f"/v1/locations/{own['id']}", headers=tenant.headers).json()["boxes"] == [
        SMALL,
        LARGE,
    ]
    assert _bins(client, tenant, hub["code"]) == [{"sku": "TEE", "bin": "A-01-3"}]
    with api_engine.connect() as conn:
        pc, lc, bc = products.c, locations.c, product_bins.c
        stored = conn.execute(
            select(pc.sku, pc.barcode, pc.length_mm, pc.width_mm, pc.height_mm, pc.download_url)
            .where(pc.tenant_id == tenant.id)
            .order_by(pc.sku)
        ).all()
        stored_boxes = conn.execute(select(lc.boxes).where(lc.id == UUID(hub["id"]))).scalar_one()
        stored_bins = conn.execute(
            select(bc.sku, bc.location_id, bc.bin).where(bc.tenant_id == tenant.id)
        ).all()
    assert [tuple(row) for row in stored] == [
        ("E-BOOK", None, None, None, None, DOWNLOAD),
        ("TEE", "036000291452", 300, 200, 20, None),
    ]
    assert stored_boxes == [LARGE]
    assert [(row.sku, str(row.location_id), row.bin) for row in stored_bins] == [
        ("TEE", hub["id"], "A-01-3")
    ]
