"""The portal's inbound screens over HTTP, on SQLite and PostgreSQL: operator staff receives
an ASN by scans on the receiving screen (each scan's result in words, a scan sent twice
counted once, an unknown SKU refused with 422) and closes it with the variance table; a
merchant's users see their own shipments only and may not receive into the operator's
warehouse; purchase orders are sent and received, transfers shipped and received, a blind
count sheet counted and approved; the month's billing statements with their CSV and PDF,
a merchant's own only. Forms without the CSRF token are refused."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.domain.users import Role, User
from tests.api.inbound_support import draft_purchase_order, granted_warehouse, new_supplier
from tests.api.portal_pages import read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import (
    ApiTenant,
    TestClient,
    create_location,
    create_product,
    new_operator_headers,
    new_tenant,
    set_on_hand,
    stock_of,
)

PRICES = {
    "currency": "EUR",
    "storage": [{"location": "*", "basis": "unit_day", "rate": "0.02"}],
    "receiving_per_receipt": "10",
    "receiving_per_unit": "0.05",
}


@pytest.fixture
def operator(api_uow: SqlUnitOfWorkFactory) -> dict[str, str]:
    return new_operator_headers(api_uow)


@pytest.fixture
def merchant(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    shop = new_tenant(api_uow, f"Inbound Shop {new_id().hex[-6:]}")
    for sku in ("ALPHA", "BRAVO"):
        create_product(client, shop, sku)
    return shop


@pytest.fixture
def warehouse(client: TestClient, operator: dict[str, str], merchant: ApiTenant) -> str:
    """An operator warehouse granted to the merchant."""
    return granted_warehouse(client, operator, merchant)


@pytest.fixture
def staff(api_uow: SqlUnitOfWorkFactory) -> User:
    return new_user(api_uow, Role.OPERATOR_STAFF)


def _announce(client: TestClient, merchant: ApiTenant, warehouse: str) -> dict[str, Any]:
    made = client.post(
        "/v1/inbound-shipments",
        headers=merchant.headers,
        json={
            "location": warehouse,
            "reference": f"ASN-{new_id().hex[-6:]}",
            "lines": [
                {"sku": "ALPHA", "expected_quantity": 2},
                {"sku": "BRAVO", "expected_quantity": 3},
            ],
        },
    )
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def _headline(html: str) -> str:
    found = re.search(
        r'<p class="scan-headline">([^<]*)</p>\s*<p class="scan-detail">([^<]*)', html
    )
    assert found is not None, "no scan result on the screen"
    return f"{found.group(1)} | {found.group(2)}"


def _scan(client: TestClient, url: str, page: str, sku: str, **fields: str) -> Any:
    key = re.search(r'name="scan_key" value="([^"]+)"', page)
    assert key is not None
    return client.post(
        f"{url}/scan",
        data={"csrf_token": csrf_of(page), "scan_key": key.group(1), "sku": sku, **fields},
    )


def _lines(client: TestClient, merchant: ApiTenant, shipment_id: str) -> dict[str, tuple]:
    got = client.get(f"/v1/inbound-shipments/{shipment_id}", headers=merchant.headers).json()
    return {ln["sku"]: (ln["received"], ln["damaged"]) for ln in got["lines"]}


def test_staff_receives_an_asn_by_scans_and_closes_it_with_the_variance(
    client: TestClient, merchant: ApiTenant, warehouse: str, staff: User
) -> None:
    asn = _announce(client, merchant, warehouse)
    assert sign_in(client, staff) == 303
    listed = client.get("/app/inbound/shipments")
    assert listed.status_code == 200
    url = f"/app/inbound/{merchant.id}/shipments/{asn['id']}"
    assert f'href="{url}"' in listed.text
    screen = client.get(url)
    assert screen.status_code == 200
    assert re.search(r'<input id="scan" name="sku"[^>]*autofocus', screen.text)

    first = _scan(client, url, screen.text, "ALPHA", quantity="3")
    again = _scan(client, url, screen.text, "ALPHA", quantity="3")  # the same form twice
    unknown = _scan(client, url, first.text, "NOPE")
    damaged = _scan(client, url, first.text, "BRAVO", condition="damaged", reason="crushed")
    no_token = client.post(f"{url}/scan", data={"sku": "ALPHA"})

    assert first.status_code == 200
    assert _headline(first.text) == "+3 ALPHA (good) | 3 of 2 received, over by 1"
    assert _headline(again.text).startswith("Already counted")
    assert unknown.status_code == 422
    assert _headline(unknown.text).startswith("Refused: NOPE")
    assert _headline(damaged.text) == "+1 BRAVO (damaged) | 1 of 3 received, 1 damaged"
    assert no_token.status_code == 403
    assert _lines(client, merchant, asn["id"]) == {"ALPHA": (3, 0), "BRAVO": (1, 1)}
    closed = client.post(
        f"{url}/close", data={"csrf_token": csrf_of(damaged.text)}, follow_redirects=False
    )
    assert closed.status_code == 303
    page = client.get(closed.headers["location"])
    assert read(page.text).tables["variance-table"][1:] == [
        ["ALPHA", "2", "3", "0", "+1", "over"],
        ["BRAVO", "3", "1", "1", "-2", "short"],
    ]
    assert 'id="scan"' not in page.text
    assert stock_of(client, merchant, "ALPHA")["on_hand"] == 3


def test_a_merchant_sees_its_own_shipments_and_may_not_receive_at_the_operator(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    merchant: ApiTenant,
    warehouse: str,
) -> None:
    asn = _announce(client, merchant, warehouse)
    url = f"/app/inbound/{merchant.id}/shipments/{asn['id']}"
    other = new_tenant(api_uow, "Someone else")
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, other.id)) == 303
    assert asn["reference"] not in client.get("/app/inbound/shipments").text
    assert client.get(url).status_code == 404

    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303
    assert asn["reference"] in client.get("/app/inbound/shipments").text
    screen = client.get(url)
    refused = _scan(client, url, screen.text, "ALPHA")

    assert refused.status_code == 403
    assert "operator" in _headline(refused.text)
    assert _lines(client, merchant, asn["id"]) == {"ALPHA": (0, 0), "BRAVO": (0, 0)}


def test_a_purchase_order_is_sent_and_received_from_its_page(
    client: TestClient, merchant: ApiTenant, warehouse: str, staff: User
) -> None:
    supplier = new_supplier(client, merchant)
    po = draft_purchase_order(client, merchant, supplier["id"], warehouse)
    assert sign_in(client, staff) == 303
    url = f"/app/inbound/{merchant.id}/purchase-orders/{po['id']}"
    assert f'href="{url}"' in client.get("/app/inbound/purchase-orders").text
    page = client.get(url)

    sent = client.post(
        f"{url}/send", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    page = client.get(sent.headers["location"])
    received = client.post(
        f"{url}/receive",
        data={"csrf_token": csrf_of(page.text), "qty-ALPHA": "4"},
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert received.status_code == 303
    after = client.get(f"/v1/purchase-orders/{po['id']}", headers=merchant.headers).json()
    assert (after["status"], after["lines"][0]["received"]) == ("partially_received", 4)
    assert stock_of(client, merchant, "ALPHA")["on_hand"] == 4


def test_a_transfer_ships_and_arrives_and_a_blind_count_is_approved(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, merchant: ApiTenant
) -> None:
    create_location(client, merchant, "SHOP-A")
    create_location(client, merchant, "SHOP-B")
    set_on_hand(client, merchant, "BRAVO", "SHOP-A", 10)
    moved = client.post(
        "/v1/transfers",
        headers=merchant.headers,
        json={"from": "SHOP-A", "to": "SHOP-B", "lines": [{"sku": "BRAVO", "quantity": 4}]},
    ).json()
    sheet = client.post(
        "/v1/cycle-counts", headers=merchant.headers, json={"location": "SHOP-A", "skus": ["BRAVO"]}
    ).json()
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303
    t_url = f"/app/inbound/{merchant.id}/transfers/{moved['id']}"
    c_url = f"/app/inbound/{merchant.id}/counts/{sheet['id']}"
    assert f'href="{t_url}"' in client.get("/app/inbound/transfers").text
    assert f'href="{c_url}"' in client.get("/app/inbound/counts").text
    page = client.get(t_url)

    shipped = client.post(
        f"{t_url}/ship", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    arrived = client.post(
        f"{t_url}/receive", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    blind = client.get(c_url)
    counted = client.post(
        f"{c_url}/count",
        data={"csrf_token": csrf_of(blind.text), "counted-BRAVO": "5"},
        follow_redirects=False,
    )
    reviewed = client.get(c_url)
    approved = client.post(
        f"{c_url}/approve",
        data={"csrf_token": csrf_of(blind.text), "reason": "weekly"},
        follow_redirects=False,
    )

    assert (shipped.status_code, arrived.status_code) == (303, 303)
    now = client.get(f"/v1/transfers/{moved['id']}", headers=merchant.headers).json()
    assert now["status"] == "received"
    (_, blind_row) = read(blind.text).tables["count-lines"]
    assert blind_row[0] == "BRAVO"
    assert (blind_row[2], blind_row[4]) == ("—", "—")  # on hand hidden until counted
    assert counted.status_code == 303
    (_, row) = read(reviewed.text).tables["count-lines"]
    assert [row[0], row[2], row[4]] == ["BRAVO", "6", "-1"]
    assert approved.status_code == 303
    stock = {r["location"]: r["on_hand"] for r in stock_of(client, merchant, "BRAVO")["locations"]}
    assert stock == {"SHOP-A": 5, "SHOP-B": 4}


def test_billing_statements_per_month_with_csv_and_pdf_a_merchant_sees_its_own(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator: dict[str, str],
    merchant: ApiTenant,
    staff: User,
) -> None:
    priced = client.put(
        "/v1/billing/price-list", headers={**operator, "OMS-Tenant": str(merchant.id)}, json=PRICES
    )
    assert priced.status_code == 200, priced.text
    assert sign_in(client, staff) == 303
    listed = client.get("/app/inbound/billing?period=2026-11")
    csv_url = f"/app/inbound/billing/{merchant.id}/2026-11.csv"
    pdf_url = f"/app/inbound/billing/{merchant.id}/2026-11.pdf"
    csv_file = client.get(csv_url)
    pdf_file = client.get(pdf_url)

    assert listed.status_code == 200
    assert csv_url in listed.text
    assert pdf_url in listed.text
    api_csv = client.get(
        f"/v1/billing/statements/{merchant.id}/csv?period=2026-11", headers=operator
    )
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert csv_file.text == api_csv.text
    assert pdf_file.headers["content-type"] == "application/pdf"
    assert "2026-11" in PdfReader(BytesIO(pdf_file.content)).pages[0].extract_text()

    other = new_tenant(api_uow, "Not billed here")
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, other.id)) == 303
    assert csv_url not in client.get("/app/inbound/billing?period=2026-11").text
    assert client.get(csv_url).status_code == 404
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, merchant.id)) == 303
    assert client.get(csv_url).text == api_csv.text


def test_scanning_a_carton_code_receives_its_contents_and_the_close_shows_each_carton(
    client: TestClient, merchant: ApiTenant, warehouse: str, staff: User
) -> None:
    made = client.post(
        "/v1/inbound-shipments",
        headers=merchant.headers,
        json={
            "location": warehouse,
            "reference": f"ASN-{new_id().hex[-6:]}",
            "cartons": [
                {"code": "CTN-1", "lines": [{"sku": "ALPHA", "expected_quantity": 2}]},
                {"code": "CTN-2", "lines": [{"sku": "BRAVO", "expected_quantity": 5}]},
            ],
        },
    ).json()
    assert sign_in(client, staff) == 303
    url = f"/app/inbound/{merchant.id}/shipments/{made['id']}"
    screen = client.get(url)

    carton = _scan(client, url, screen.text, "CTN-1")
    twice = _scan(client, url, carton.text, "CTN-1")
    closed = client.post(
        f"{url}/close", data={"csrf_token": csrf_of(twice.text)}, follow_redirects=False
    )
    page = client.get(closed.headers["location"])

    assert _headline(carton.text) == "Carton CTN-1: +2 units | 1 SKUs received"
    assert _headline(twice.text).startswith("Carton CTN-1: already counted")
    assert read(page.text).tables["carton-table"][1:] == [
        ["CTN-1", "2", "2", "+0", "exact"],
        ["CTN-2", "5", "0", "-5", "short"],
    ]
    assert stock_of(client, merchant, "ALPHA")["on_hand"] == 2


def _links(html: str, kind: str) -> list[str]:
    return re.findall(rf'href="(/app/inbound/[0-9a-f-]+/{kind}/[0-9a-f-]+)"', html)


def _every_page(client: TestClient, url: str, kind: str) -> list[list[str]]:
    """The links of ``kind`` on each page, following the next-page link to the end."""
    pages: list[list[str]] = []
    while url and len(pages) < 10:
        html = client.get(url).text
        pages.append(_links(html, kind))
        more = re.search(r'<a href="(/app/inbound/[a-z-]+\?(?:after|before)=[0-9a-f-]+)"', html)
        url = more.group(1) if more else ""
    return pages


def test_the_inbound_lists_come_a_page_at_a_time_without_gaps_or_repeats(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    merchant: ApiTenant,
    warehouse: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("oms.web.portal.inbound_pages.LIST_SIZE", 2)
    create_location(client, merchant, "SHOP-A")
    create_location(client, merchant, "SHOP-B")
    set_on_hand(client, merchant, "BRAVO", "SHOP-A", 50)
    supplier = new_supplier(client, merchant)
    made: dict[str, list[str]] = {"shipments": [], "purchase-orders": [], "transfers": []}
    made["counts"] = []
    for _ in range(5):
        made["shipments"].append(_announce(client, merchant, warehouse)["id"])
        po = draft_purchase_order(client, merchant, supplier["id"], warehouse)
        made["purchase-orders"].append(po["id"])
        moved = client.post(
            "/v1/transfers",
            headers=merchant.headers,
            json={"from": "SHOP-A", "to": "SHOP-B", "lines": [{"sku": "BRAVO", "quantity": 1}]},
        )
        made["transfers"].append(moved.json()["id"])
        sheet = client.post(
            "/v1/cycle-counts",
            headers=merchant.headers,
            json={"location": "SHOP-A", "skus": ["BRAVO"]},
        )
        made["counts"].append(sheet.json()["id"])
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303

    for kind, ids in made.items():
        pages = _every_page(client, f"/app/inbound/{kind}", kind)
        shown = [link.rsplit("/", 1)[1] for page in pages for link in page]
        # Shipments and purchase orders oldest first; transfers and counts newest first.
        expected = ids if kind in ("shipments", "purchase-orders") else ids[::-1]
        assert shown == expected, kind
        assert [len(page) for page in pages] == [2, 2, 1], kind


def test_the_operator_sees_every_merchants_newest_transfers_and_counts_first(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, staff: User
) -> None:
    shops = [new_tenant(api_uow, f"Lists {n} {new_id().hex[-6:]}") for n in (1, 2)]
    made: dict[str, list[str]] = {"transfers": [], "counts": []}
    for shop in shops:
        create_product(client, shop, "BRAVO")
        create_location(client, shop, "SHOP-A")
        create_location(client, shop, "SHOP-B")
        set_on_hand(client, shop, "BRAVO", "SHOP-A", 5)
        moved = client.post(
            "/v1/transfers",
            headers=shop.headers,
            json={"from": "SHOP-A", "to": "SHOP-B", "lines": [{"sku": "BRAVO", "quantity": 1}]},
        )
        made["transfers"].append(f"/app/inbound/{shop.id}/transfers/{moved.json()['id']}")
        sheet = client.post(
            "/v1/cycle-counts", headers=shop.headers, json={"location": "SHOP-A", "skus": ["BRAVO"]}
        )
        made["counts"].append(f"/app/inbound/{shop.id}/counts/{sheet.json()['id']}")
    assert sign_in(client, staff) == 303

    for kind, links in made.items():
        first = _links(client.get(f"/app/inbound/{kind}").text, kind)
        assert first[:2] == links[::-1], kind
