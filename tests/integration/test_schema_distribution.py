"""The schema stays distributable by tenant (Citus-style): a test that walks the tables.

A distributed table is split into shards by ``tenant_id``; a key the database enforces must
then hold inside one shard, so every primary, unique and foreign key of a tenant-owned table
leads with ``tenant_id``, and a foreign key between two tenant-owned tables joins them on it
(they are colocated). A few small tables are shared by every tenant instead (reference
tables, a copy on every node): they are named below with the reason, may be referenced by
any table, and reference only each other. docs/operations.md says how the schema distributes.

The rules are checked on the SQLAlchemy tables and on the keys the migrations really built,
on both engines, so neither can drift from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Engine,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    column,
    insert,
    inspect,
    select,
    table,
)

from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import alembic_config, upgrade
from oms.adapters.db.tables import metadata
from oms.adapters.db.types import Amount, UtcDateTime
from oms.config import Settings
from tests.databases import scratch_database_url

# Shared by every tenant, not distributed: each with the reason it cannot be split by tenant.
REFERENCE_TABLES = {
    "tenants": "the tenants themselves; every tenant-owned table refers to it",
    "api_keys": "a request's key is looked up by its hash before its tenant is known, and "
    "operator keys have no tenant",
    "users": "a person signs in by email before any tenant is known, and operator users "
    "have no tenant",
    "locations": "the operator's warehouses serve every tenant granted them (a tenant's own "
    "stores live here too, so one id space answers every stock level and fulfilment order)",
    "carrier_services": "the operator's carrier services and rate cards, priced for every "
    "tenant's orders",
    "carrier_counters": "one tracking serial per carrier, whichever tenant ships",
    "tracking_numbers": "a carrier names a parcel by its tracking number only: the lookup "
    "that finds the tenant before anything tenant-owned is read",
    "return_tracking_numbers": "the same lookup for return labels' parcels",
}
# Alembic's own bookkeeping, not part of the schema.
NOT_SCHEMA = {"alembic_version"}
TENANT = "tenant_id"


@dataclass
class Keys:
    """A table's keys as column lists: what both the metadata and the inspector can tell."""

    columns: dict[str, bool] = field(default_factory=dict)  # name -> nullable
    primary: list[str] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)  # constraints and unique indexes
    foreign: list[tuple[list[str], str, list[str]]] = field(default_factory=list)


def _from_metadata(table: Table) -> Keys:
    keys = Keys(
        columns={c.name: bool(c.nullable) for c in table.columns},
        primary=[c.name for c in table.primary_key.columns],
    )
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.unique.append([c.name for c in constraint.columns])
        elif isinstance(constraint, ForeignKeyConstraint):
            keys.foreign.append(
                (
                    [c.name for c in constraint.columns],
                    constraint.referred_table.name,
                    [e.column.name for e in constraint.elements],
                )
            )
    keys.unique += [[c.name] for c in table.columns if c.unique]
    for index in table.indexes:
        if isinstance(index, Index) and index.unique:
            keys.unique.append([str(getattr(e, "name", e)) for e in index.expressions])
    return keys


def _from_database(engine: Engine) -> dict[str, Keys]:
    inspector = inspect(engine)
    found: dict[str, Keys] = {}
    for name in inspector.get_table_names():
        if name in NOT_SCHEMA:
            continue
        keys = Keys(
            columns={c["name"]: bool(c["nullable"]) for c in inspector.get_columns(name)},
            primary=list(inspector.get_pk_constraint(name)["constrained_columns"]),
        )
        keys.unique += [list(u["column_names"]) for u in inspector.get_unique_constraints(name)]
        keys.unique += [
            [str(c) for c in i["column_names"]] for i in inspector.get_indexes(name) if i["unique"]
        ]
        keys.foreign += [
            (list(f["constrained_columns"]), f["referred_table"], list(f["referred_columns"]))
            for f in inspector.get_foreign_keys(name)
        ]
        found[name] = keys
    return found


def _breaches(schema: dict[str, Keys]) -> list[str]:
    """Every key that would not hold, or not join, once tenant tables are split by tenant."""
    found: list[str] = []
    for name, keys in sorted(schema.items()):
        if name in REFERENCE_TABLES:
            found += [
                f"{name}: reference table refers to tenant-owned {target}{referred}"
                for _, target, referred in keys.foreign
                if target not in REFERENCE_TABLES
            ]
            continue
        if keys.columns.get(TENANT) is not False:
            found.append(f"{name}: tenant-owned without a NOT NULL {TENANT}")
        if keys.primary[:1] != [TENANT]:
            found.append(f"{name}: primary key {keys.primary} does not lead with {TENANT}")
        found += [
            f"{name}: unique key {columns} does not lead with {TENANT}"
            for columns in keys.unique
            if columns[:1] != [TENANT]
        ]
        found += [
            f"{name}: foreign key {local} -> {target}{referred} does not join on {TENANT}"
            for local, target, referred in keys.foreign
            if target not in REFERENCE_TABLES
            and (local[:1] != [TENANT] or referred[:1] != [TENANT])
        ]
    return found


def test_every_tenant_owned_table_keys_lead_with_tenant_id() -> None:
    schema = {table.name: _from_metadata(table) for table in metadata.sorted_tables}

    assert _breaches(schema) == []
    assert set(REFERENCE_TABLES) <= set(schema), "a reference table named here no longer exists"


def test_the_migrated_database_keys_lead_with_tenant_id(engine: Engine) -> None:
    schema = _from_database(engine)

    assert _breaches(schema) == []
    assert set(schema) == {table.name for table in metadata.sorted_tables}


@pytest.mark.parametrize(
    ("keys", "breach"),
    [
        (Keys(columns={"id": False}, primary=["id"]), "without a NOT NULL tenant_id"),
        (
            Keys(columns={TENANT: False, "id": False}, primary=["id", TENANT]),
            "primary key ['id', 'tenant_id'] does not lead",
        ),
        (
            Keys(columns={TENANT: False}, primary=[TENANT], unique=[["carrier", TENANT]]),
            "unique key ['carrier', 'tenant_id'] does not lead",
        ),
        (
            Keys(
                columns={TENANT: False, "order_id": False},
                primary=[TENANT],
                foreign=[(["order_id"], "orders", ["id"])],
            ),
            "foreign key ['order_id'] -> orders['id'] does not join",
        ),
    ],
)
def test_a_tenant_owned_key_that_does_not_lead_with_tenant_id_is_named(
    keys: Keys, breach: str
) -> None:
    assert [b for b in _breaches({"t": keys}) if breach in b] != []


def test_a_reference_table_refering_to_a_tenant_owned_one_is_named() -> None:
    keys = Keys(columns={"id": False}, primary=["id"], foreign=[(["o"], "orders", ["id"])])

    assert _breaches({"tenants": keys}) == [
        "tenants: reference table refers to tenant-owned orders['id']"
    ]


# --- the migration that brought shipments and tracking events in line ----------------------

TRACKING_KEYS = "0008"
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
# The tables as they stood before it: what that revision's rows need.
_tenants = table(
    "tenants", column("id", Uuid), column("name", String), column("created_at", UtcDateTime())
)
_orders = table(
    "orders",
    *(column(name, Uuid) for name in ("tenant_id", "id")),
    column("number", Integer),
    *(column(name, String) for name in ("channel", "currency", "status")),
    *(column(name, String) for name in ("fulfillment_status", "payment_status")),
    *(column(name, Amount()) for name in ("subtotal", "total")),
    column("allow_backorder", Boolean),
    column("tags", JSON),
    column("version", Integer),
    *(column(name, UtcDateTime()) for name in ("created_at", "updated_at")),
)
_shipments = table(
    "shipments",
    *(column(name, Uuid) for name in ("tenant_id", "id", "order_id", "fulfillment_order_id")),
    *(column(n, String) for n in ("carrier", "service", "tracking_number", "tracking_url")),
    column("cost", Amount()),
    *(column(name, String) for name in ("currency", "status", "created_by")),
    *(column(name, JSON) for name in ("contents", "package_ids")),
    *(column(name, UtcDateTime()) for name in ("created_at", "updated_at")),
)
_events = table(
    "tracking_events",
    *(column(name, String) for name in ("carrier", "event_id", "status")),
    *(column(name, Uuid) for name in ("tenant_id", "shipment_id")),
    *(column(name, UtcDateTime()) for name in ("occurred_at", "received_at")),
)
_lookup = table(
    "tracking_numbers",
    *(column(name, String) for name in ("carrier", "tracking_number")),
    *(column(name, Uuid) for name in ("tenant_id", "shipment_id")),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in scratch_database_url(request, request.param, "tracking_keys"):
        engine = build_engine(Settings(database_url=url))
        yield engine
        engine.dispose()


def _shipped_before(engine: Engine, number: str, events: int) -> tuple[UUID, UUID]:
    """A tenant with one order, shipped as ``number``, and ``events`` carrier events."""
    tenant_id, order_id, shipment_id = uuid4(), uuid4(), uuid4()
    times = {"created_at": AT, "updated_at": AT}
    with engine.begin() as conn:
        conn.execute(insert(_tenants).values(id=tenant_id, name=number, created_at=AT))
        conn.execute(
            insert(_orders).values(
                tenant_id=tenant_id,
                id=order_id,
                number=1001,
                channel="api",
                currency="EUR",
                status="open",
                fulfillment_status="fulfilled",
                payment_status="paid",
                subtotal=Decimal("10.00"),
                total=Decimal("10.00"),
                allow_backorder=False,
                tags=[],
                version=1,
                **times,
            )
        )
        conn.execute(
            insert(_shipments).values(
                tenant_id=tenant_id,
                id=shipment_id,
                order_id=order_id,
                fulfillment_order_id=uuid4(),
                carrier="DHL",
                service="PAKET",
                tracking_number=number,
                tracking_url=f"https://oms.test/track/{number}",
                cost=Decimal("4.95"),
                currency="EUR",
                status="in_transit",
                created_by="test",
                contents=[],
                package_ids=[],
                **times,
            )
        )
        for n in range(events):
            conn.execute(
                insert(_events).values(
                    carrier="DHL",
                    event_id=f"{number}-{n}",
                    status="in_transit",
                    tenant_id=tenant_id,
                    shipment_id=shipment_id,
                    occurred_at=AT,
                    received_at=AT,
                )
            )
    return tenant_id, shipment_id


def _rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "shipments": sorted(conn.execute(select(_shipments)).all()),
            "events": sorted(conn.execute(select(_events)).all()),
        }


def test_the_migration_to_tenant_led_tracking_keys_keeps_every_row_and_fills_the_lookup(
    empty_engine: Engine,
) -> None:
    config = alembic_config()
    before = ScriptDirectory.from_config(config).get_revision(TRACKING_KEYS).down_revision
    assert isinstance(before, str)
    upgrade(empty_engine, before)
    first = _shipped_before(empty_engine, "DHL00000001", events=2)
    second = _shipped_before(empty_engine, "DHL00000002", events=1)
    kept = _rows(empty_engine)

    upgrade(empty_engine, TRACKING_KEYS)

    assert _rows(empty_engine) == kept
    with empty_engine.connect() as conn:
        lookup = sorted(conn.execute(select(_lookup)).all())
    assert lookup == [("DHL", "DHL00000001", *first), ("DHL", "DHL00000002", *second)]
    assert inspect(empty_engine).get_pk_constraint("tracking_events")["constrained_columns"] == [
        "tenant_id",
        "carrier",
        "event_id",
    ]

    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, before)

    assert _rows(empty_engine) == kept
    assert "tracking_numbers" not in inspect(empty_engine).get_table_names()
