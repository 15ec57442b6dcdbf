"""``oms import sales-history`` and ``oms forecast run`` on a fresh SQLite database, with the
real statsforecast engine; bad input is one line and a non-zero exit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oms.cli import app
from tests.databases import migrated_sqlite_file

runner = CliRunner()
NOW = datetime(2036, 7, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> str:
    monkeypatch.setenv(
        "OMS_DATABASE_URL", migrated_sqlite_file(sqlite_template, tmp_path / "forecast.db")
    )
    created = json.loads(runner.invoke(app, ["tenant", "create", "--name", "F", "--json"]).stdout)
    tenant: str = created["tenant_id"]
    made = runner.invoke(
        app, ["location", "create", "--tenant", tenant, "--code", "CLI-WH", "--name", "WH"]
    )
    assert made.exit_code == 0, made.output
    return tenant


def test_an_imported_history_is_forecast_by_the_command(shop: str, tmp_path: Path) -> None:
    last = NOW.date() - timedelta(days=1)
    first = last - timedelta(days=90)
    rows = ["date,sku,location,quantity,promo"] + [
        f"{first + timedelta(days=i)},SOCK,CLI-WH,{5 + 3 * (i % 7 == 0)},{i == 40}"
        for i in range(91)
    ]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", "sales-history", str(path), "--tenant", shop])
    assert imported.exit_code == 0, imported.output
    assert f"imported 91 day(s) of 1 SKU(s) from {first} to {last}" in imported.stdout
    ran = runner.invoke(
        app, ["forecast", "run", "--tenant", shop, "--jobs", "1", "--at", NOW.isoformat()]
    )
    assert ran.exit_code == 0, ran.output
    assert "forecast 2 series" in ran.stdout
    everyone = runner.invoke(app, ["forecast", "run", "--jobs", "1", "--at", NOW.isoformat()])
    assert everyone.exit_code == 0, everyone.output
    assert f"tenant {shop}: forecast 2 series" in everyone.stdout


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("date,sku,location,quantity\n2026-01-01,SOCK,NOWHERE,1\n", [], "no such location"),
        ("date,sku,quantity\n", [], "lacks columns"),
        ("date,sku,location,quantity\nyesterday,SOCK,CLI-WH,1\n", [], "/rows/1/date"),
    ],
)
def test_a_bad_history_file_is_one_line_and_a_non_zero_exit(
    shop: str, tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["import", "sales-history", str(path), "--tenant", shop, *args])
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_forecasting_a_sku_without_history_is_one_line(shop: str) -> None:
    result = runner.invoke(
        app, ["forecast", "run", "--tenant", shop, "--sku", "NONE", "--at", NOW.isoformat()]
    )
    assert result.exit_code == 1
    assert "no demand history" in result.stderr
