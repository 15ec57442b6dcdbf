"""The ``oms`` command line: tenants, keys, demo, and ``oms check`` finding broken books."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from oms.cli import app
from oms.domain.holds import HoldReason
from tests.databases import migrated_sqlite_file

runner = CliRunner()


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> str:
    url = migrated_sqlite_file(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    return url


def test_tenant_create_prints_the_tenant_and_a_working_key_as_json(fresh_sqlite: str) -> None:
    result = runner.invoke(app, ["tenant", "create", "--name", "Acme", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"tenant_id", "slug", "api_key"}
    assert created["slug"] == "acme"

    more = runner.invoke(app, ["apikey", "create", "--tenant", created["tenant_id"], "--json"])
    assert more.exit_code == 0, more.output
    assert json.loads(more.stdout)["api_key"] != created["api_key"]


def test_a_revoked_key_no_longer_authenticates(fresh_sqlite: str) -> None:
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.services.tenants import authenticate

    created = json.loads(runner.invoke(app, ["tenant", "create", "--name", "A", "--json"]).stdout)
    extra = json.loads(
        runner.invoke(app, ["apikey", "create", "--tenant", created["tenant_id"], "--json"]).stdout
    )
    assert runner.invoke(app, ["apikey", "revoke", extra["key_id"]]).exit_code == 0
    again = runner.invoke(app, ["apikey", "revoke", extra["key_id"]])
    assert again.exit_code == 1
    assert "No active API key" in again.stderr

    uow = SqlUnitOfWorkFactory(create_engine(fresh_sqlite))
    assert authenticate(uow_factory=uow, secret=extra["api_key"]) is None
    assert authenticate(uow_factory=uow, secret=created["api_key"]) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apikey", "create"], "give either --tenant ID or --operator"),
        (["apikey", "create", "--tenant", "nope"], "is not a tenant id"),
        (
            ["apikey", "create", "--tenant", "01a21a9b-9741-7d95-9412-31eaa193dbab"],
            "No tenant",
        ),
        (["tenant", "create", "--name", "  "], "needs a name"),
        (["tenant", "create", "--name", "n" * 201], "at most 200 characters"),
        (["apikey", "create", "--operator", "--name", "n" * 201], "at most 200 characters"),
    ],
)
def test_bad_cli_input_gets_one_line_and_a_non_zero_exit(
    fresh_sqlite: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_database_url_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", "mysql://nobody")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "OMS_DATABASE_URL must start with" in result.stderr


# A week of clocks, each day at another hour: the demo's story (orders delivered, today's
# wave, a pickup at the counter) holds whatever day and hour it is run.
A_WEEK_OF_CLOCKS = {
    "Monday 00:30": "2025-03-03T00:30:00Z",
    "Tuesday 06:00": "2025-03-04T06:00:00Z",
    "Wednesday 09:15": "2025-03-05T09:15:00Z",
    "Thursday 12:00": "2025-03-06T12:00:00+00:00",
    "Friday 17:45": "2025-03-07T17:45:00Z",
    "Saturday 21:00": "2025-03-08T21:00:00Z",
    "Sunday 23:59": "2025-03-09T23:59:59Z",
}


@pytest.mark.parametrize("now", A_WEEK_OF_CLOCKS.values(), ids=A_WEEK_OF_CLOCKS.keys())
def test_demo_seeds_orders_and_check_then_passes(fresh_sqlite: str, now: str) -> None:
    result = runner.invoke(app, ["demo", "--no-serve", "--at", now])
    assert result.exit_code == 0, result.output
    assert "demo API key" in result.stdout
    assert "/status/demo-outfitters" in result.stdout
    assert "portal: http://127.0.0.1:8000/app  operator-admin: operator@demo.oms" in result.stdout
    assert "merchant-admin: merchant@demo.oms / password oms-demo-password" in result.stdout
    engine = create_engine(fresh_sqlite)
    with engine.connect() as conn:
        statuses = set(conn.execute(text("SELECT status FROM orders")).scalars())
        backordered = conn.execute(text("SELECT sum(backordered) FROM order_lines")).scalar()
        held_for = set(
            conn.execute(text("SELECT reason FROM order_holds WHERE released_at IS NULL")).scalars()
        )
        payment_states = set(conn.execute(text("SELECT payment_status FROM orders")).scalars())
        work = set(
            conn.execute(text("SELECT kind || ':' || status FROM fulfillment_orders")).scalars()
        )
        shipments = set(conn.execute(text("SELECT status FROM shipments")).scalars())
    assert statuses == {"open", "on_hold", "cancelled", "closed"}
    # The warehouse floor: delivered, picked, packed, waiting, and a pickup at the counter.
    assert {"ship:closed", "ship:in_progress", "ship:packed", "ship:open"} <= work
    assert "pickup:ready_for_pickup" in work
    assert shipments & {"delivered", "exception", "returned_to_sender"}
    # Every reason but no_carrier_service (each demo order ships with a priced parcel; that
    # hold is shown in tests/api/test_routing_after_edits.py) and unknown_sku (only a store's
    # order names a SKU the catalogue lacks: tests/api/test_channels.py), awaiting_return
    # and parcel_claim (the demo's tenants keep the default return policy, under which
    # exchanges ship at once and no claim opens by itself: tests/integration/
    # test_returns_tracking.py and test_parcel_claims.py).
    assert held_for == {reason.value for reason in HoldReason} - {
        "no_carrier_service",
        "unknown_sku",
        "awaiting_return",
        "parcel_claim",
    }
    assert {"paid", "authorized", "pending"} <= payment_states
    assert backordered is not None
    assert backordered > 0

    again = runner.invoke(app, ["demo", "--no-serve", "--at", now])
    assert again.exit_code == 0
    assert "/status/demo-outfitters" in again.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2

    check = runner.invoke(app, ["check"])
    assert check.exit_code == 0, check.output


@pytest.mark.parametrize(
    ("corruption", "field"),
    [
        ("UPDATE inventory_levels SET on_hand = on_hand + 1 WHERE sku = 'TEE-BLK-M'", "on_hand"),
        (
            "UPDATE inventory_levels SET reserved = reserved - 1 "
            "WHERE sku = 'TEE-BLK-M' AND reserved > 0",
            "reserved",
        ),
        ("DELETE FROM inventory_movements WHERE sku = 'CAP-NAVY'", "on_hand"),
    ],
)
def test_check_names_the_rows_whose_books_do_not_balance(
    fresh_sqlite: str, corruption: str, field: str
) -> None:
    assert runner.invoke(app, ["demo", "--no-serve", "--at", "2025-03-06T12:00:00Z"]).exit_code == 0
    engine = create_engine(fresh_sqlite)
    with engine.begin() as conn:
        assert conn.execute(text(corruption)).rowcount >= 1

    result = runner.invoke(app, ["check"])

    assert result.exit_code == 1
    assert f"{field} is" in result.stderr
    assert "invariant violation" in result.stderr


@pytest.mark.postgres
def test_check_passes_on_the_shared_postgres_database_after_the_races(
    postgres_engine: object, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "corruption",
    [
        # A balance with no entry behind it.
        "INSERT INTO store_credit_balances (tenant_id, customer_id, currency, balance_e4,"
        " updated_at) SELECT tenant_id, id, 'EUR', 50000, created_at FROM customers LIMIT 1",
        # An entry the balance never counted.
        "INSERT INTO store_credit_entries (tenant_id, id, customer_id, currency, amount,"
        " created_at, created_by) SELECT tenant_id, id, id, 'EUR', '5.00', created_at, 'x'"
        " FROM customers LIMIT 1",
    ],
)
def test_check_names_the_store_credit_balances_that_drift_from_their_ledger(
    fresh_sqlite: str, corruption: str
) -> None:
    assert runner.invoke(app, ["demo", "--no-serve", "--at", "2025-03-06T12:00:00Z"]).exit_code == 0
    assert runner.invoke(app, ["check"]).exit_code == 0
    engine = create_engine(fresh_sqlite)
    with engine.begin() as conn:
        assert conn.execute(text(corruption)).rowcount == 1

    result = runner.invoke(app, ["check"])

    assert result.exit_code == 1
    assert "store credit EUR: balance is" in result.stderr
    assert "(the sum of its entries)" in result.stderr
    assert "1 invariant violation(s)" in result.stderr
