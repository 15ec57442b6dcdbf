"""``oms user create`` and ``oms user list``: portal users made by hand, the password read
from standard input; errors are one line and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from oms.cli import app

runner = CliRunner()
PASSWORD = "a long enough password\n"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('users') / 'users.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OMS_DATABASE_URL", url)
        env.setenv("OMS_ENVIRONMENT", "test")  # a cheap argon2 cost
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        yield url


@pytest.fixture
def fresh_sqlite(database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OMS_DATABASE_URL", database)
    monkeypatch.setenv("OMS_ENVIRONMENT", "test")
    return database


def _tenant() -> str:
    result = runner.invoke(app, ["tenant", "create", "--name", "Acme", "--json"])
    assert result.exit_code == 0, result.output
    tenant_id: str = json.loads(result.stdout)["tenant_id"]
    return tenant_id


def test_users_are_created_from_stdin_and_listed_without_their_hash(fresh_sqlite: str) -> None:
    tenant_id = _tenant()
    made = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "operator-admin",
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    merchant = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "lead@acme.test",
            "--role",
            "merchant-admin",
            "--tenant",
            tenant_id,
            "--password-stdin",
            "--json",
        ],
        input=PASSWORD,
    )
    listed = runner.invoke(app, ["user", "list", "--json"])

    assert made.exit_code == 0, made.output
    assert "ops@example.com" in made.stdout
    assert json.loads(merchant.stdout)["tenant_id"] == tenant_id
    rows = [
        r for r in json.loads(listed.stdout) if r["email"] in ("ops@example.com", "lead@acme.test")
    ]
    assert [(r["email"], r["role"], r["tenant_id"]) for r in rows] == [
        ("ops@example.com", "operator-admin", None),
        ("lead@acme.test", "merchant-admin", tenant_id),
    ]
    assert "argon2" not in listed.stdout
    assert "lead@acme.test" in runner.invoke(app, ["user", "list"]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss", "--password-stdin"], "is not a role"),
        (["--role", "merchant-admin", "--password-stdin"], "--tenant"),
        (["--role", "operator-admin"], "--password-stdin"),
        (["--role", "merchant-viewer", "--tenant", "nope", "--password-stdin"], "not a tenant"),
        (
            [
                "--role",
                "merchant-viewer",
                "--tenant",
                "00000000-0000-0000-0000-000000000001",
                "--password-stdin",
            ],
            "no such tenant",
        ),
    ],
)
def test_a_bad_user_is_refused_in_one_line(
    fresh_sqlite: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["user", "create", "--email", "a@b.test", *args], input=PASSWORD)

    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_email_taken_is_refused(fresh_sqlite: str) -> None:
    args = [
        "user",
        "create",
        "--email",
        "taken@b.test",
        "--role",
        "operator-staff",
        "--password-stdin",
    ]
    assert runner.invoke(app, args, input=PASSWORD).exit_code == 0

    again = runner.invoke(app, args, input=PASSWORD)

    assert again.exit_code == 1
    assert "exists already" in again.stderr
