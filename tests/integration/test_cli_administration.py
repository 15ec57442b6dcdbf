"""Running a deployment from the command line: tenants and their API keys listed (never a
secret), locations created, listed, granted and archived. Errors are one line and a
non-zero exit, like every ``oms`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.cli import app
from oms.config import Settings
from tests.builders import add_product, order_of, place, set_stock
from tests.databases import migrated_sqlite_file

runner = CliRunner()


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> str:
    url = migrated_sqlite_file(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    return url


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(*args: str) -> Any:
    return json.loads(_ok(*args, "--json"))


def _tenant(name: str) -> dict[str, str]:
    created: dict[str, str] = _json("tenant", "create", "--name", name)
    return created


def test_tenant_list_shows_every_tenant_with_its_id_and_name(fresh_sqlite: str) -> None:
    acme, globex = _tenant("Acme"), _tenant("Globex")

    listed = _json("tenant", "list")
    text = _ok("tenant", "list")

    assert [(t["id"], t["name"]) for t in listed] == [
        (acme["tenant_id"], "Acme"),
        (globex["tenant_id"], "Globex"),
    ]
    assert all(t["created_at"] for t in listed)
    assert acme["tenant_id"] in text
    assert "Globex" in text
    assert [t["slug"] for t in listed] == ["acme", "globex"]
    assert "globex" in text


def test_tenant_create_prints_the_slug_made_from_the_name_or_the_one_chosen(
    fresh_sqlite: str,
) -> None:
    made = _tenant("Café Zoë")
    again = _tenant("cafe zoe")
    chosen = _json("tenant", "create", "--name", "Zoë", "--slug", "zoe-berlin")
    text = _ok("tenant", "create", "--name", "Zed")

    assert (made["slug"], again["slug"], chosen["slug"]) == ("cafe-zoe", "cafe-zoe-2", "zoe-berlin")
    assert set(made) == {"tenant_id", "slug", "api_key"}
    assert "slug zed" in text


@pytest.mark.parametrize(
    ("slug", "message"),
    [("Zoe Berlin", "lower-case letters"), ("taken", "taken"), ("", "must not be empty")],
)
def test_tenant_create_refuses_a_bad_or_taken_slug_in_one_line(
    fresh_sqlite: str, slug: str, message: str
) -> None:
    _ok("tenant", "create", "--name", "First", "--slug", "taken")

    result = runner.invoke(app, ["tenant", "create", "--name", "Zoe", "--slug", slug])

    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(_json("tenant", "list")) == 1


def test_apikey_list_shows_prefix_scope_and_created_never_the_secret(fresh_sqlite: str) -> None:
    acme = _tenant("Acme")
    second = _json("apikey", "create", "--tenant", acme["tenant_id"], "--name", "shop")
    operator = _json("apikey", "create", "--operator", "--name", "3pl")
    _ok("apikey", "revoke", second["key_id"])

    everything = _json("apikey", "list")
    acme_only = _json("apikey", "list", "--tenant", acme["tenant_id"])
    text = _ok("apikey", "list")

    secrets = (acme["api_key"], second["api_key"], operator["api_key"])
    assert not any(secret in text or secret in json.dumps(everything) for secret in secrets)
    by_id = {key["key_id"]: key for key in everything}
    assert by_id[second["key_id"]]["scope"] == "tenant"
    assert by_id[second["key_id"]]["revoked_at"] is not None
    assert by_id[operator["key_id"]]["scope"] == "operator"
    assert by_id[operator["key_id"]]["tenant_id"] is None
    assert by_id[operator["key_id"]]["revoked_at"] is None
    assert all(
        secret.startswith(key["prefix"])
        for secret, key in zip(
            (second["api_key"], operator["api_key"]),
            (by_id[second["key_id"]], by_id[operator["key_id"]]),
            strict=True,
        )
    )
    assert all(key["created_at"] for key in everything)
    assert {key["tenant_id"] for key in acme_only} == {acme["tenant_id"]}
    assert len(acme_only) == 2
    assert by_id[second["key_id"]]["prefix"] in text


def test_locations_are_created_listed_granted_and_archived(fresh_sqlite: str) -> None:
    acme = _tenant("Acme")
    tenant = ["--tenant", acme["tenant_id"]]
    own = _json(
        "location",
        "create",
        "--code",
        "STORE-1",
        "--name",
        "Shop",
        "--kind",
        "store",
        "--can-pickup",
        "--latitude",
        "50.94",
        "--longitude",
        "6.96",
        *tenant,
    )
    hub = _json("location", "create", "--code", "HUB", "--name", "3PL hub")
    assert (own["owner"], own["kind"], own["can_pickup"]) == ("tenant", "store", True)
    assert hub["owner"] == "operator"
    assert [loc["code"] for loc in _json("location", "list", *tenant)] == ["STORE-1"]

    _ok("location", "grant", "HUB", *tenant)

    assert [loc["code"] for loc in _json("location", "list", *tenant)] == ["HUB", "STORE-1"]
    assert [loc["code"] for loc in _json("location", "list")] == ["HUB"]
    _ok("location", "archive", own["id"], *tenant)
    listed = {loc["code"]: loc for loc in _json("location", "list", *tenant)}
    assert (listed["STORE-1"]["active"], listed["HUB"]["active"]) == (False, True)
    assert "STORE-1" in _ok("location", "list", *tenant)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["location", "create", "--code", "a b", "--name", "x"], "--code"),
        (["location", "create", "--code", "WH", "--name", "x", "--latitude", "1"], "longitude"),
        (["location", "create", "--code", "WH", "--name", "x", "--tenant", "nope"], "tenant id"),
        (
            ["location", "list", "--tenant", "01a21a9b-9741-7d95-9412-31eaa193dbab"],
            "No tenant",
        ),
        (["location", "archive", "NOWHERE"], "No location"),
        (["location", "grant", "NOWHERE", "--tenant", "x"], "tenant id"),
        (["apikey", "list", "--tenant", "nope"], "tenant id"),
    ],
)
def test_bad_location_and_key_commands_get_one_line_and_a_non_zero_exit(
    fresh_sqlite: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_location_with_reserved_stock_is_not_archived_and_says_why(fresh_sqlite: str) -> None:
    acme = _tenant("Acme")
    tenant_id = UUID(acme["tenant_id"])
    _ok("location", "create", "--code", "WH-1", "--name", "Main", "--tenant", acme["tenant_id"])
    engine = build_engine(Settings(database_url=fresh_sqlite))
    uow = SqlUnitOfWorkFactory(engine)
    add_product(uow, tenant_id, "TEE")
    set_stock(uow, tenant_id, "TEE", "WH-1", 3)
    place(uow, tenant_id, order_of(("TEE", 1)))
    engine.dispose()

    result = runner.invoke(app, ["location", "archive", "WH-1", "--tenant", acme["tenant_id"]])

    assert result.exit_code == 1
    assert "reserved" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
