"""Rate cards from files, and the what-if routing simulation, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from oms.cli import app
from tests.databases import migrated_sqlite_file
from tests.integration.test_routing import RATES

runner = CliRunner()

CSV_RATES = (
    "carrier,service,name,currency,zone,max_km,country,region,transit_days,up_to_grams,"
    "price,per_kg_over,fuel_surcharge_pct,dim_divisor\n"
    "swift,express,Swift Express,EUR,all,inf,,,1,5000,9.00,1.00,0,5000\n"
)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> dict[str, str]:
    monkeypatch.setenv(
        "OMS_DATABASE_URL", migrated_sqlite_file(sqlite_template, tmp_path / "sim.db")
    )
    created: dict[str, str] = json.loads(
        runner.invoke(app, ["tenant", "create", "--name", "S", "--json"]).stdout
    )
    return created


def test_rate_cards_import_from_yaml_and_csv_and_replace_on_reimport(
    shop: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "rates.yaml").write_text(RATES)
    (tmp_path / "rates.csv").write_text(CSV_RATES)
    first = runner.invoke(app, ["carriers", "import", str(tmp_path / "rates.yaml")])
    assert first.exit_code == 0, first.output
    assert "1 new, 0 replaced" in first.stdout
    again = runner.invoke(app, ["carriers", "import", str(tmp_path / "rates.yaml")])
    assert "0 new, 1 replaced" in again.stdout
    csv_run = runner.invoke(app, ["carriers", "import", str(tmp_path / "rates.csv")])
    assert "1 new" in csv_run.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("- carrier: x\n", "code"), ("not: [valid", "line")],
)
def test_a_bad_rate_card_file_is_one_line_and_a_non_zero_exit(
    shop: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    result = runner.invoke(app, ["carriers", "import", str(path)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("oms: ")
    assert message in result.stderr


def test_simulation_compares_profiles_without_changing_anything(
    shop: dict[str, str], tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, text

    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.domain.addresses import Address
    from oms.domain.tenancy import ApiKeyScope, Principal
    from oms.services import catalogue
    from oms.services.carriers import import_rate_cards
    from tests.builders import add_product, set_stock

    url = f"sqlite:///{tmp_path / 'sim.db'}"
    engine = create_engine(url)
    uow = SqlUnitOfWorkFactory(engine)
    tenant_id = UUID(shop["tenant_id"])
    import_rate_cards(uow_factory=uow, principal=None, text=RATES, fmt="yaml")
    owner = Principal(key_id=tenant_id, scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
    for code, lat, lon in (("NEAR", 50.88, 7.06), ("FAR", 48.14, 11.58)):
        catalogue.create_location(
            uow_factory=uow,
            principal=owner,
            command=catalogue.NewLocation(
                code=code, name=code, latitude=lat, longitude=lon, address=Address(country="DE")
            ),
        )
    add_product(uow, tenant_id, "X")
    for code in ("NEAR", "FAR"):
        set_stock(uow, tenant_id, "X", code, 10)
    (tmp_path / "profile.yaml").write_text("excluded_locations: [NEAR]\n")
    (tmp_path / "orders.jsonl").write_text(
        "\n".join(
            json.dumps(
                {
                    "destination": {
                        "country": "DE",
                        "city": "Koeln",
                        "latitude": 50.94,
                        "longitude": 6.96,
                    },
                    "lines": [{"sku": "X", "quantity": 1}],
                }
            )
            for _ in range(3)
        )
    )
    with engine.connect() as conn:
        reserved_before = conn.execute(text("SELECT sum(reserved) FROM inventory_levels")).scalar()

    result = runner.invoke(
        app,
        [
            "routing",
            "simulate",
            "--tenant",
            shop["tenant_id"],
            "--profile",
            str(tmp_path / "profile.yaml"),
            "--orders",
            str(tmp_path / "orders.jsonl"),
        ],
    )

    assert result.exit_code == 0, result.output
    rows = {line[:22].strip(): line[22:].split() for line in result.stdout.splitlines()}
    assert rows["orders"] == ["3", "3"]
    assert rows["shipping cost"] == ["12.00", "42.00"]
    assert rows["NEAR"] == ["3", "0"]
    assert rows["FAR"] == ["0", "3"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(reserved) FROM inventory_levels")).scalar() == (
            reserved_before
        )
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 0
