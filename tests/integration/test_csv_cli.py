"""``oms import`` and ``oms export``: the error report beside the file, exit codes, and an
export that imports back changing nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oms.adapters.db.statistics import StatisticsKeeper
from oms.cli import app
from oms.services import imports
from tests.databases import migrated_sqlite_file

runner = CliRunner()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> str:
    """A fresh SQLite deployment with one tenant and a warehouse; the tenant's id."""
    monkeypatch.setenv(
        "OMS_DATABASE_URL", migrated_sqlite_file(sqlite_template, tmp_path / "cli.db")
    )
    created = runner.invoke(app, ["tenant", "create", "--name", "Shop", "--json"])
    tenant: str = json.loads(created.stdout)["tenant_id"]
    made = runner.invoke(
        app, ["location", "create", "--tenant", tenant, "--code", "WH-1", "--name", "Main"]
    )
    assert made.exit_code == 0, made.output
    return tenant


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_reports_refused_rows_beside_the_file_and_exits_1(
    shop: str, tmp_path: Path
) -> None:
    products = _write(tmp_path / "products.csv", "sku,name,price,currency\nA,A,5.00,EUR\n")
    assert (
        runner.invoke(app, ["import", "products", str(products), "--tenant", shop]).exit_code == 0
    )
    stock = _write(tmp_path / "stock.csv", "sku,location,on_hand\nA,WH-1,12\nA,WH-9,1\nB,WH-1,1\n")
    result = runner.invoke(app, ["import", "inventory", str(stock), "--tenant", shop])
    assert result.exit_code == 1
    assert "1 updated" in result.stdout
    assert "2 refused" in result.stdout
    report = tmp_path / "stock.csv.errors.csv"
    with report.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["column"]) for r in rows] == [("3", "location"), ("4", "sku")]

    fixed = _write(stock, "sku,location,on_hand\nA,WH-1,12\n")
    again = runner.invoke(app, ["import", "inventory", str(fixed), "--tenant", shop])
    assert again.exit_code == 0, again.output
    assert "1 unchanged" in again.stdout
    assert not report.exists()  # the last run's report: there was nothing wrong


def test_an_inventory_export_imports_back_changing_nothing(shop: str, tmp_path: Path) -> None:
    products = _write(tmp_path / "p.csv", "sku,name,price,currency\nA,A,5.00,EUR\nB,B,1,EUR\n")
    runner.invoke(app, ["import", "products", str(products), "--tenant", shop])
    stock = _write(tmp_path / "s.csv", "sku,location,on_hand,safety_stock\nA,WH-1,3,1\nB,WH-1,4,\n")
    assert runner.invoke(app, ["import", "inventory", str(stock), "--tenant", shop]).exit_code == 0
    out = tmp_path / "export.csv"
    exported = runner.invoke(
        app,
        ["export", "inventory", "--tenant", shop, "--since", "2000-01-01", "--output", str(out)],
    )
    assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["sku"], r["location"], r["on_hand"], r["safety_stock"]) for r in rows] == [
        ("A", "WH-1", "3", "1"),
        ("B", "WH-1", "4", "0"),
    ]
    back = runner.invoke(app, ["import", "inventory", str(out), "--tenant", shop])
    assert back.exit_code == 0, back.output
    assert "2 unchanged" in back.stdout


def test_an_orders_export_has_the_import_columns_and_imports_back_once(
    shop: str, tmp_path: Path
) -> None:
    products = _write(tmp_path / "p.csv", "sku,name,price,currency\nA,A,5.00,EUR\n")
    runner.invoke(app, ["import", "products", str(products), "--tenant", shop])
    orders = _write(
        tmp_path / "o.csv",
        "order_id,currency,sku,quantity,email,ship_name,ship_line1,ship_city,"
        "ship_postal_code,ship_country\n"
        "7,EUR,A,2,a@example.com,Ada,Heidestrasse 17,Koeln,51147,DE\n",
    )
    placed = runner.invoke(app, ["import", "orders", str(orders), "--tenant", shop])
    assert placed.exit_code == 0, placed.output
    assert "1 created" in placed.stdout
    exported = runner.invoke(app, ["export", "orders", "--tenant", shop, "--since", "2000-01-01"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(exported.stdout.splitlines()))
    assert [(r["order_id"], r["channel"], r["sku"], r["quantity"]) for r in rows] == [
        ("7", "csv", "A", "2")
    ]
    out = _write(tmp_path / "back.csv", exported.stdout)
    back = runner.invoke(app, ["import", "orders", str(out), "--tenant", shop])
    assert "1 unchanged" in back.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "inventory", "missing.csv"], "cannot read"),
        (["export", "orders", "--since", "yesterday"], "is not a date"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    shop: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*args, "--tenant", shop])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_without_the_required_columns_is_refused_in_one_line(
    shop: str, tmp_path: Path
) -> None:
    bad = _write(tmp_path / "bad.csv", "sku,qty\nA,1\n")
    result = runner.invoke(app, ["import", "inventory", str(bad), "--tenant", shop])
    assert result.exit_code == 1
    assert "row:1/location" in result.stderr


def test_an_import_keeps_planner_statistics_while_it_runs(
    shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As each API worker does (oms.adapters.db.statistics): a first import into a new
    PostgreSQL database fills tables whose plans were made while they were empty."""
    calls: list[str] = []
    monkeypatch.setattr(StatisticsKeeper, "start", lambda _: calls.append("start"))
    monkeypatch.setattr(StatisticsKeeper, "stop", lambda _: calls.append("stop"))
    import_rows = imports.import_rows

    def importing(**kwargs: object) -> imports.ImportSummary:
        calls.append("import")
        return import_rows(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "import_rows", importing)
    products = _write(tmp_path / "products.csv", "sku,name,price,currency\nA,A,5.00,EUR\n")
    result = runner.invoke(app, ["import", "products", str(products), "--tenant", shop])
    assert result.exit_code == 0, result.output
    assert calls == ["start", "import", "stop"]
