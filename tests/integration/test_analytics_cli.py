"""``oms analytics rebuild|refresh`` and the worker's periodic refresh: the rebuild turns a
tenant's rollups on and counts its orders; a bad ``--since`` is one line and exit 1; the
worker runs its periodic jobs when due and survives one that fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from oms.adapters.db.tables import analytics_facts, analytics_state
from oms.cli import app
from oms.worker.runner import Worker
from tests.databases import migrated_sqlite_file

runner = CliRunner()


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> str:
    url = migrated_sqlite_file(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    return url


def test_rebuild_turns_the_rollups_on_and_refresh_keeps_them(fresh_sqlite: str) -> None:
    made = runner.invoke(app, ["tenant", "create", "--name", "Rollup CLI", "--json"])
    tenant_id = json.loads(made.stdout)["tenant_id"]

    rebuilt = runner.invoke(app, ["analytics", "rebuild", "--since", "2020-01-01"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt the rollups of 1 tenant(s)" in rebuilt.stdout
    engine = create_engine(fresh_sqlite)
    with engine.connect() as conn:
        state = conn.execute(select(analytics_state)).one()
        assert state.tenant_id == UUID(tenant_id)
        assert str(state.covered_from) == "2020-01-01"
        assert conn.execute(select(func.count()).select_from(analytics_facts)).scalar() == 0
    engine.dispose()

    refreshed = runner.invoke(app, ["analytics", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stdout.startswith("recounted 0 day(s)")


def test_a_bad_since_is_one_line_and_exit_1(fresh_sqlite: str) -> None:
    result = runner.invoke(app, ["analytics", "rebuild", "--since", "last week"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "oms: --since: not a date (YYYY-MM-DD): last week"


def test_the_worker_runs_periodic_jobs_when_due_and_survives_a_failing_one() -> None:
    calls: list[str] = []

    def fails() -> None:
        calls.append("fails")
        raise RuntimeError("database away")

    worker = Worker(
        uow_factory=Any,  # type: ignore[arg-type]  # not used by run_periodic
        sinks=[],
        render=Any,  # type: ignore[arg-type]
        periodic=[(3600.0, lambda: calls.append("hourly")), (3600.0, fails)],
    )
    worker.run_periodic()
    worker.run_periodic()  # not due again for an hour
    assert calls == ["hourly", "fails"]
