"""How the engine sets up its PostgreSQL connections."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

pytestmark = pytest.mark.postgres


def test_postgres_connections_plan_each_statement_for_its_values(postgres_engine: Engine) -> None:
    # A generic plan made while a tenant had few rows kept scanning the whole tenant later.
    with postgres_engine.connect() as conn:
        mode = conn.scalar(text("SHOW plan_cache_mode"))

    assert mode == "force_custom_plan"
