"""A receiving scan's own statements in SQL: a part of the inbound repository
(``SqlInboundRepository`` takes these methods from ``SqlInboundScans``).

On PostgreSQL each step is one statement however many lines the scan has: the shipment is
locked (``FOR KEY SHARE``) and read with its lines in one, the lines it counts are counted
in one (locked first in SKU order, as separate updates would lock them) and its rows are
written in one; each through psycopg (``DriverStatement``). On SQLite (one writer at a
time) the steps run as separate statements. docs/inbound.md#receiving.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select, update

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import inbound_lines, inbound_scans, inbound_shipments
from oms.domain.inbound import InboundLine, InboundShipment, InboundStatus

__all__ = ["SqlInboundScans"]

_sh = inbound_shipments.c
_il = inbound_lines.c

# The shipment (of the tenant, or of any with a null tenant) shared with other scans, with
# its location's code and its lines as a JSON array in SKU order. Under a close's lock the
# statement waits, then answers the row as the close left it (closed).
_SHIPMENT_FOR_SCAN = DriverStatement("""
SELECT s.tenant_id, s.id, s.location_id, l.code, s.reference, s.created_at, s.created_by,
    s.status, s.tracking, s.closed_at,
    (SELECT COALESCE(json_agg(json_build_array(il.sku, il.expected, il.received_good,
            il.received_damaged, il.put_away) ORDER BY il.sku), '[]')
        FROM inbound_lines il
        WHERE il.tenant_id = s.tenant_id AND il.shipment_id = s.id) AS lines
FROM inbound_shipments s JOIN locations l ON l.id = s.location_id
WHERE s.id = %(shipment_id)s AND s.tenant_id = COALESCE(%(tenant_id)s, s.tenant_id)
FOR KEY SHARE OF s
""")

# Each line's count raised, its row locked first in SKU order; the lines counted, as they
# are now. A SKU without a line answers no row.
_COUNT_LINES = DriverStatement("""
WITH wanted AS (
    SELECT w.sku, w.good, w.damaged
    FROM unnest(
        CAST(%(skus)s AS VARCHAR[]), CAST(%(good)s AS INTEGER[]), CAST(%(damaged)s AS INTEGER[])
    ) AS w(sku, good, damaged)
    ORDER BY w.sku
), locked AS (
    SELECT w.sku, w.good, w.damaged
    FROM wanted w CROSS JOIN LATERAL (
        SELECT 1 FROM inbound_lines
        WHERE tenant_id = %(tenant_id)s AND shipment_id = %(shipment_id)s AND sku = w.sku
        FOR UPDATE
    ) il
)
UPDATE inbound_lines il
SET received_good = il.received_good + k.good,
    received_damaged = il.received_damaged + k.damaged
FROM locked k
WHERE il.tenant_id = %(tenant_id)s AND il.shipment_id = %(shipment_id)s AND il.sku = k.sku
RETURNING il.sku, il.expected, il.received_good, il.received_damaged
""")

# A scan id claimed by its row 0; no row when it was claimed before.
_CLAIM_SCAN = DriverStatement("""
INSERT INTO inbound_scans (tenant_id, shipment_id, scan_id, seq, sku, quantity, condition,
    exceptions, actor, created_at, carton)
VALUES (%(tenant_id)s, %(shipment_id)s, %(scan_id)s, 0, '', 0, '', '[]', %(actor)s, %(at)s, NULL)
ON CONFLICT DO NOTHING
RETURNING seq
""")
_SCAN_LINES = DriverStatement("""
INSERT INTO inbound_scans (tenant_id, shipment_id, scan_id, seq, sku, quantity, condition,
    exceptions, actor, created_at, carton)
SELECT %(tenant_id)s, %(shipment_id)s, %(scan_id)s, w.seq, w.sku, w.quantity, w.condition,
    CAST(w.exceptions AS JSON), %(actor)s, %(at)s, w.carton
FROM unnest(
    CAST(%(seqs)s AS INTEGER[]), CAST(%(skus)s AS VARCHAR[]), CAST(%(quantities)s AS INTEGER[]),
    CAST(%(conditions)s AS VARCHAR[]), CAST(%(exceptions)s AS TEXT[]),
    CAST(%(cartons)s AS VARCHAR[])
) AS w(seq, sku, quantity, condition, exceptions, carton)
""")


class SqlInboundScans:
    _conn: Connection

    def shipment(
        self, tenant_id: UUID, shipment_id: UUID, *, for_update: bool = False
    ) -> InboundShipment | None: ...  # SqlInboundRepository's

    def shipment_for_scan(
        self, tenant_id: UUID | None, shipment_id: UUID
    ) -> InboundShipment | None:
        if self._conn.dialect.name == "postgresql":
            row = _SHIPMENT_FOR_SCAN.first(
                self._conn, {"tenant_id": tenant_id, "shipment_id": shipment_id}
            )
            return None if row is None else _shipment(row)
        # FOR KEY SHARE: scans of one shipment do not wait for each other here (their lines
        # are locked one by one), but a close (FOR UPDATE) waits for them and they for it.
        query = select(_sh.tenant_id).where(_sh.id == shipment_id)
        if tenant_id is not None:
            query = query.where(_sh.tenant_id == tenant_id)
        owner: UUID | None = self._conn.scalar(query.with_for_update(key_share=True))
        return None if owner is None else self.shipment(owner, shipment_id)

    def claim_scan(
        self, tenant_id: UUID, shipment_id: UUID, scan_id: str, *, actor: str, at: datetime
    ) -> bool:
        """True the first time ``scan_id`` is seen on the shipment (its first row is written)."""
        key = {"tenant_id": tenant_id, "shipment_id": shipment_id, "scan_id": scan_id}
        if self._conn.dialect.name == "postgresql":
            return bool(_CLAIM_SCAN.tuples(self._conn, {**key, "actor": actor, "at": at}))
        row = {"seq": 0, "sku": "", "quantity": 0, "condition": "", "exceptions": []}
        return insert_if_absent(
            self._conn, inbound_scans, {**key, **row, "actor": actor, "created_at": at}
        )

    def add_scan_lines(
        self,
        tenant_id: UUID,
        shipment_id: UUID,
        scan_id: str,
        rows: Sequence[dict[str, Any]],
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """The lines of a claimed scan, numbered from 1 (row 0 is the claim)."""
        if self._conn.dialect.name == "postgresql":
            _SCAN_LINES.rows(
                self._conn,
                {
                    "tenant_id": tenant_id,
                    "shipment_id": shipment_id,
                    "scan_id": scan_id,
                    "actor": actor,
                    "at": at,
                    "seqs": list(range(1, len(rows) + 1)),
                    "skus": [row["sku"] for row in rows],
                    "quantities": [row["quantity"] for row in rows],
                    "conditions": [row["condition"] for row in rows],
                    "exceptions": [json.dumps(row["exceptions"]) for row in rows],
                    "cartons": [row.get("carton") for row in rows],
                },
            )
            return
        self._conn.execute(
            insert(inbound_scans),
            [
                {
                    "tenant_id": tenant_id,
                    "shipment_id": shipment_id,
                    "scan_id": scan_id,
                    "seq": seq,
                    "actor": actor,
                    "created_at": at,
                    "carton": None,
                    **row,
                }
                for seq, row in enumerate(rows, start=1)
            ],
        )

    def count_lines(
        self, tenant_id: UUID, shipment_id: UUID, counts: Mapping[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int, int]]:
        after: dict[str, tuple[int, int, int]] = {}
        todo = sorted(counts)
        if self._conn.dialect.name == "postgresql" and todo:
            for sku, expected, good, damaged in _COUNT_LINES.tuples(
                self._conn,
                {
                    "tenant_id": tenant_id,
                    "shipment_id": shipment_id,
                    "skus": todo,
                    "good": [counts[sku][0] for sku in todo],
                    "damaged": [counts[sku][1] for sku in todo],
                },
            ):
                after[sku] = (int(expected), int(good), int(damaged))
            todo = [sku for sku in todo if sku not in after]
        for sku in todo:
            good, damaged = counts[sku]
            row = self._conn.execute(
                update(inbound_lines)
                .where(_il.tenant_id == tenant_id, _il.shipment_id == shipment_id, _il.sku == sku)
                .values(
                    received_good=_il.received_good + good,
                    received_damaged=_il.received_damaged + damaged,
                )
                .returning(_il.expected, _il.received_good, _il.received_damaged)
            ).first()
            if row is None:  # not announced: its line is made, once, whoever scans it first
                insert_if_absent(
                    self._conn,
                    inbound_lines,
                    {
                        "tenant_id": tenant_id,
                        "shipment_id": shipment_id,
                        "sku": sku,
                        "expected": 0,
                        "received_good": 0,
                        "received_damaged": 0,
                        "put_away": 0,
                    },
                )
                after.update(self.count_lines(tenant_id, shipment_id, {sku: (good, damaged)}))
                continue
            after[sku] = (int(row[0]), int(row[1]), int(row[2]))
        return after


def _shipment(row: Any) -> InboundShipment:
    return InboundShipment(
        id=row.id,
        tenant_id=row.tenant_id,
        location_id=row.location_id,
        location_code=row.code,
        reference=row.reference,
        lines=[
            InboundLine(
                sku=sku,
                expected=expected,
                received_good=good,
                received_damaged=damaged,
                put_away=put_away,
            )
            for sku, expected, good, damaged, put_away in row.lines
        ],
        created_at=row.created_at,
        created_by=row.created_by,
        status=InboundStatus(row.status),
        tracking=row.tracking,
        closed_at=row.closed_at,
    )
