"""docs/routing.md documents the carrier-services import format with one example card, as
YAML and as CSV. This reads both from the page, checks they describe the same service,
imports them the two documented ways and prices the parcels the page prices."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.cli import app
from oms.domain.geo import GeoPoint
from oms.domain.rate_import import parse_rate_cards
from oms.domain.shipping import CarrierService, Parcel, quote
from tests.api.support import TestClient, api_settings_for, new_operator_headers

ROUTING_MD = Path(__file__).resolve().parents[2] / "docs" / "routing.md"
NEWARK = GeoPoint(40.73, -74.17)
CHICAGO = GeoPoint(41.88, -87.63)  # about 1,100 km from Newark: "regional"
LOS_ANGELES = GeoPoint(34.05, -118.24)  # about 3,900 km: "national"


def _example(language: str) -> str:
    """The first ``language`` block of the import format's section of docs/routing.md."""
    text = ROUTING_MD.read_text(encoding="utf-8")
    section = text.split("### The import format", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"^```{language}\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert found is not None, f"no {language} example in the import format section"
    return found.group(1)


@pytest.fixture(scope="module")
def service() -> CarrierService:
    (only,) = parse_rate_cards(_example("yaml"), fmt="yaml")
    return only


def test_the_yaml_and_csv_examples_describe_the_same_service(service: CarrierService) -> None:
    assert parse_rate_cards(_example("csv"), fmt="csv") == [service]
    assert (service.carrier, service.code, service.rate_card.currency) == ("acme", "ground", "USD")


@pytest.mark.parametrize(
    ("grams", "to", "region", "expected"),
    [
        pytest.param(1_200, CHICAGO, "IL", ("regional", "12.50", 2), id="regional-1.2kg"),
        pytest.param(6_200, LOS_ANGELES, "CA", ("national", "18.17", 4), id="national-6.2kg"),
        pytest.param(1_200, GeoPoint(61.22, -149.9), "AK", ("remote", "30.45", 6), id="alaska"),
        pytest.param(40_000, CHICAGO, "IL", None, id="over-the-maximum-weight"),
    ],
)
def test_the_example_prices_parcels_as_the_page_says(
    service: CarrierService,
    grams: int,
    to: GeoPoint,
    region: str,
    expected: tuple[str, str, int] | None,
) -> None:
    found = quote(
        service,
        parcel=Parcel(grams),
        origin=NEWARK,
        origin_country="US",
        destination=to,
        destination_country="US",
        destination_region=region,
        ship_on=date(2026, 3, 2),
    )

    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.zone, found.price, found.transit_days) == (
            expected[0],
            Decimal(expected[1]),
            expected[2],
        )


@pytest.fixture
def engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A database of its own: carrier services are deployment-wide."""
    shutil.copyfile(sqlite_template, tmp_path / "rates.db")  # migrated
    made = build_engine(api_settings_for(f"sqlite:///{tmp_path / 'rates.db'}"))
    yield made
    made.dispose()


def test_both_examples_import_through_the_api(engine: Engine) -> None:
    uow = SqlUnitOfWorkFactory(engine)
    operator = new_operator_headers(uow)
    with TestClient(create_app(api_settings_for(str(engine.url)), engine=engine)) as client:
        first = client.post(
            "/v1/carrier-services/import",
            headers=operator,
            json={"format": "yaml", "document": _example("yaml")},
        )
        again = client.post(
            "/v1/carrier-services/import",
            headers=operator,
            json={"format": "csv", "document": _example("csv")},
        )
        listed = client.get("/v1/carrier-services", headers=operator).json()["items"]

    assert first.json() == {"created": 1, "updated": 0}, first.text
    assert again.json() == {"created": 0, "updated": 1}, again.text
    assert [(s["carrier"], s["code"], s["name"]) for s in listed] == [
        ("acme", "ground", "Acme Ground")
    ]
    # What the list shows for a service is an import body of its own.
    (shown,) = parse_rate_cards(listed[0]["rate_card"]["document"], fmt="yaml")
    assert shown == parse_rate_cards(_example("yaml"), fmt="yaml")[0]


@pytest.mark.parametrize("suffix", ["yaml", "csv"])
def test_both_examples_import_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    card = tmp_path / f"rates.{suffix}"
    card.write_text(_example(suffix), encoding="utf-8")

    result = runner.invoke(app, ["carriers", "import", str(card)])

    assert result.exit_code == 0, result.output
    assert "1 new, 0 replaced" in result.stdout
