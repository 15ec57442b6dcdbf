"""Customs on SQLite and PostgreSQL: a shipment leaving its origin country gets a commercial
invoice whose lines and total equal the shipped order lines (computed here from the order),
the CN22/CN23 data a postal service needs, and the order's duties terms; a domestic one
needs no invoice. Uses the billing module's warehouse flow (its own databases, rate cards).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from oms.adapters.db.tables import shipments
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.documents.pdf import PdfRenderer
from oms.config import Settings
from oms.domain.addresses import Address
from oms.domain.customs import DutiesTerms
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.money import round_money
from oms.domain.policies import TenantPolicies
from oms.services import catalogue, inventory
from oms.services.carriers import import_rate_cards
from oms.services.customs import commercial_invoice_document, customs_declaration
from oms.services.policies import update_policies
from oms.services.tenants import create_tenant
from tests.builders import TESTER, tenant_principal
from tests.databases import ENGINES, migrated_database_url
from tests.integration.test_billing import ship_order
from tests.integration.test_fulfilment import _prepared

# Besides the test carriers' distance-band card (domestic by nature): a cheap domestic-only
# postal service, and an international one that serves Germany from anywhere.
POSTAL = """
- carrier: post
  code: domestic
  name: Post Domestic
  currency: EUR
  international: false
  zones:
    distance_bands: [{up_to_km: .inf, zone: home}]
    regions: [{country: DE, zone: home}, {country: NL, zone: home}]
  prices:
    - {zone: home, transit_days: 1, per_kg_over: "0.10",
       breaks: [{up_to_grams: 10000, price: "2.00"}]}
- carrier: post
  code: world
  name: Post World
  currency: EUR
  zones:
    regions: [{country: DE, zone: eu}]
  prices:
    - {zone: eu, transit_days: 1, per_kg_over: "1.00",
       breaks: [{up_to_grams: 10000, price: "9.00"}]}
"""


@pytest.fixture(scope="module", params=ENGINES)
def customs_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in migrated_database_url(request, request.param, "customs"):
        engine = _prepared(Settings(database_url=url, db_max_overflow=20))
        import_rate_cards(
            uow_factory=SqlUnitOfWorkFactory(engine), principal=None, text=POSTAL, fmt="yaml"
        )
        yield engine
        engine.dispose()


@pytest.fixture
def uow_factory(customs_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(customs_engine)


AT = datetime(2031, 6, 2, 11, tzinfo=UTC)
PRICES = {"VASE": Decimal("24.90"), "MUG": Decimal("8.35")}


def _merchant(uow_factory: SqlUnitOfWorkFactory, country: str) -> tuple[UUID, str]:
    """A merchant with VASE and MUG (HS codes, made in PT) at a warehouse in ``country``."""
    tenant, _ = create_tenant(uow_factory=uow_factory, name="Crossing merchant")
    code = f"WH-{country}-{tenant.id.hex[-10:]}"
    catalogue.create_location(
        uow_factory=uow_factory,
        principal=tenant_principal(tenant.id),
        command=catalogue.NewLocation(
            code=code,
            name="Warehouse",
            latitude=50.88,
            longitude=7.06,
            address=Address(country=country, line1="Dock 4", city="Somewhere"),
        ),
    )
    for sku, hs in (("VASE", "6913.90"), ("MUG", "691200")):
        catalogue.create_product(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(
                sku=sku,
                name=sku.title(),
                price=PRICES[sku],
                currency="EUR",
                weight_grams=500,
                hs_code=hs.replace(".", ""),
                origin_country="PT",
                customs_description=f"Ceramic {sku.lower()}",
            ),
        )
    for sku in PRICES:
        inventory.adjust_inventory(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=inventory.Adjustment(sku=sku, location_code=code, delta=50, reason="in"),
            actor=TESTER,
            at=AT,
        )
    return tenant.id, code


def _shipment_of(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> tuple[UUID, str]:
    """The merchant's one shipment: its id and ``carrier/service``."""
    with uow_factory(readonly=True) as uow:
        conn = uow.billing._conn
        s = shipments.c
        row = conn.execute(select(s.id, s.carrier, s.service).where(s.tenant_id == tenant_id)).one()
    return row.id, f"{row.carrier}/{row.service}"


def test_a_shipment_leaving_its_country_gets_an_invoice_equal_to_its_shipped_lines(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    tenant_id, code = _merchant(uow_factory, "NL")  # ships to Cologne, DE
    order = ship_order(
        uow_factory,
        tenant_id,
        code,
        (("VASE", 2), ("MUG", 3)),
        [["VASE", "VASE", "MUG", "MUG", "MUG"]],
        AT,
        duties_terms="DDP",
    )
    shipment_id, service = _shipment_of(uow_factory, tenant_id)
    # The cheaper domestic-only services were not offered across the border.
    assert service == "post/world"

    declared = customs_declaration(
        uow_factory=uow_factory, tenant_id=tenant_id, shipment_id=shipment_id
    )

    assert (declared.origin_country, declared.destination_country) == ("NL", "DE")
    assert declared.crosses_border
    assert declared.duties_terms is DutiesTerms.DDP
    # The shipped lines, from the order itself: price times units shipped, each rounded.
    expected = {
        line.sku: round_money(line.unit_price * line.shipped, "EUR") for line in order.lines
    }
    invoice = declared.invoice
    assert dict(zip([ln.sku for ln in invoice.lines], invoice.line_values, strict=True)) == (
        expected
    )
    assert invoice.total == sum(expected.values()) == Decimal("74.85")
    assert [(ln.hs_code, ln.origin_country) for ln in invoice.lines] == [
        ("691390", "PT"),
        ("691200", "PT"),
    ]
    assert invoice.weight_grams == 5 * 500
    assert declared.postal_form == "CN22"

    pdf = commercial_invoice_document(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        shipment_id=shipment_id,
        renderer=PdfRenderer(),
    )
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Commercial invoice" in text
    assert "74.85 EUR" in text
    assert "DDP" in text
    assert "691390" in text
    assert "Ceramic vase" in text


def test_a_domestic_shipment_needs_no_invoice_and_an_order_takes_the_tenants_duties_terms(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    tenant_id, code = _merchant(uow_factory, "DE")
    update_policies(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        raw={**TenantPolicies().to_dict(), "duties_terms": "DDP"},
    )
    ship_order(uow_factory, tenant_id, code, (("MUG", 1),), [["MUG"]], AT)
    shipment_id, service = _shipment_of(uow_factory, tenant_id)
    assert service == "post/domestic"  # at home, the cheapest service is fine

    declared = customs_declaration(
        uow_factory=uow_factory, tenant_id=tenant_id, shipment_id=shipment_id
    )

    assert not declared.crosses_border
    assert declared.postal_form is None
    assert declared.duties_terms is DutiesTerms.DDP  # the tenant's default
    with pytest.raises(IllegalTransition):
        commercial_invoice_document(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            shipment_id=shipment_id,
            renderer=PdfRenderer(),
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("hs_code", "12345"), ("hs_code", "12AB56"), ("origin_country", "Portugal")],
)
def test_bad_customs_fields_are_refused_naming_them(
    uow_factory: SqlUnitOfWorkFactory, field: str, value: str
) -> None:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="Careless merchant")
    with pytest.raises(InvalidRequest) as refused:
        catalogue.create_product(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(
                sku="X", name="X", price=Decimal(1), currency="EUR", **{field: value}
            ),
        )
    assert [e.pointer for e in refused.value.errors] == [f"#/{field}"]
