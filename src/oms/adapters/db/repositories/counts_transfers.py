"""Cycle counts and transfers between locations in SQL: a part of the inbound repository
(``SqlInboundRepository`` takes these methods from ``SqlCountsAndTransfers``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update

from oms.adapters.db.tables import (
    count_lines,
    count_sheets,
    locations,
    transfer_lines,
    transfers,
)
from oms.domain.counts import (
    CountLine,
    CountSheet,
    CountStatus,
    Transfer,
    TransferLine,
    TransferStatus,
)

__all__ = ["SqlCountsAndTransfers"]


class SqlCountsAndTransfers:
    _conn: Connection

    # Cycle counts

    def add_count_sheet(self, sheet: CountSheet) -> None:
        self._conn.execute(
            insert(count_sheets).values(
                tenant_id=sheet.tenant_id,
                id=sheet.id,
                location_id=sheet.location_id,
                blind=sheet.blind,
                status=sheet.status.value,
                created_by=sheet.created_by,
                created_at=sheet.created_at,
            )
        )
        self._conn.execute(
            insert(count_lines),
            [
                {
                    "tenant_id": sheet.tenant_id,
                    "sheet_id": sheet.id,
                    "sku": line.sku,
                    "bin": line.bin,
                    "counted": line.counted,
                }
                for line in sheet.lines
            ],
        )

    def count_sheet(
        self, tenant_id: UUID, sheet_id: UUID, *, for_update: bool = False
    ) -> CountSheet | None:
        cs = count_sheets.c
        query = (
            select(count_sheets, locations.c.code)
            .join(locations, locations.c.id == cs.location_id)
            .where(cs.tenant_id == tenant_id, cs.id == sheet_id)
        )
        if for_update:
            self._conn.execute(
                select(cs.id).where(cs.tenant_id == tenant_id, cs.id == sheet_id).with_for_update()
            )
        row = self._conn.execute(query).first()
        if row is None:
            return None
        cl = count_lines.c
        lines = [
            CountLine(sku=line.sku, bin=line.bin, counted=line.counted)
            for line in self._conn.execute(
                select(cl.sku, cl.bin, cl.counted)
                .where(cl.tenant_id == tenant_id, cl.sheet_id == sheet_id)
                .order_by(cl.sku)
            )
        ]
        return _count_sheet(row, lines)

    def save_count_sheet(self, sheet: CountSheet) -> None:
        cs, cl = count_sheets.c, count_lines.c
        self._conn.execute(
            update(count_sheets)
            .where(cs.tenant_id == sheet.tenant_id, cs.id == sheet.id)
            .values(
                status=sheet.status.value,
                approved_at=sheet.approved_at,
                approved_by=sheet.approved_by,
                reason=sheet.reason,
            )
        )
        if sheet.lines:  # one statement for every line (executemany), not one per line
            self._conn.execute(
                update(count_lines)
                .where(
                    cl.tenant_id == sheet.tenant_id,
                    cl.sheet_id == sheet.id,
                    cl.sku == bindparam("line_sku"),
                )
                .values(counted=bindparam("line_counted")),
                [{"line_sku": ln.sku, "line_counted": ln.counted} for ln in sheet.lines],
            )

    # Transfers

    def add_transfer(self, transfer: Transfer, *, actor: str) -> None:
        self._conn.execute(
            insert(transfers).values(
                tenant_id=transfer.tenant_id,
                id=transfer.id,
                from_location_id=transfer.from_location_id,
                to_location_id=transfer.to_location_id,
                status=transfer.status.value,
                created_by=actor,
                created_at=transfer.created_at,
                shipped_at=transfer.shipped_at,
            )
        )
        self._conn.execute(
            insert(transfer_lines),
            [
                {
                    "tenant_id": transfer.tenant_id,
                    "transfer_id": transfer.id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "received": line.received,
                }
                for line in transfer.lines
            ],
        )

    def transfer(
        self, tenant_id: UUID, transfer_id: UUID, *, for_update: bool = False
    ) -> Transfer | None:
        tc, tl = transfers.c, transfer_lines.c
        if for_update:
            self._conn.execute(
                select(tc.id)
                .where(tc.tenant_id == tenant_id, tc.id == transfer_id)
                .with_for_update()
            )
        source, target = locations.alias("source"), locations.alias("target")
        row = self._conn.execute(
            select(transfers, source.c.code.label("from_code"), target.c.code.label("to_code"))
            .join(source, source.c.id == tc.from_location_id)
            .join(target, target.c.id == tc.to_location_id)
            .where(tc.tenant_id == tenant_id, tc.id == transfer_id)
        ).first()
        if row is None:
            return None
        lines = [
            TransferLine(sku=line.sku, quantity=line.quantity, received=line.received)
            for line in self._conn.execute(
                select(tl.sku, tl.quantity, tl.received)
                .where(tl.tenant_id == tenant_id, tl.transfer_id == transfer_id)
                .order_by(tl.sku)
            )
        ]
        return _transfer(row, lines)

    def save_transfer(self, transfer: Transfer) -> None:
        tc, tl = transfers.c, transfer_lines.c
        self._conn.execute(
            update(transfers)
            .where(tc.tenant_id == transfer.tenant_id, tc.id == transfer.id)
            .values(status=transfer.status.value, shipped_at=transfer.shipped_at)
        )
        for line in transfer.lines:
            self._conn.execute(
                update(transfer_lines)
                .where(
                    tl.tenant_id == transfer.tenant_id,
                    tl.transfer_id == transfer.id,
                    tl.sku == line.sku,
                )
                .values(received=line.received)
            )

    def in_transit(self, tenant_id: UUID, sku: str) -> list[tuple[str, str, int, UUID]]:
        """Units of ``sku`` shipped and not yet received: (from, to, units, transfer id)."""
        tc, tl = transfers.c, transfer_lines.c
        source, target = locations.alias("source"), locations.alias("target")
        rows = self._conn.execute(
            select(source.c.code, target.c.code, tl.quantity - tl.received, tc.id)
            .join(transfers, (tc.tenant_id == tl.tenant_id) & (tc.id == tl.transfer_id))
            .join(source, source.c.id == tc.from_location_id)
            .join(target, target.c.id == tc.to_location_id)
            .where(
                tl.tenant_id == tenant_id,
                tl.sku == sku,
                tc.status == TransferStatus.IN_TRANSIT.value,
                tl.quantity > tl.received,
            )
            .order_by(tc.id)
        )
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    # Lists for the portal: newest first, a page at a time (ids are time-ordered)

    def transfers(
        self, tenant_id: UUID | None, *, before_id: UUID | None = None, limit: int
    ) -> list[Transfer]:
        """A page of transfers, newest first: one tenant's, or (None) every tenant's; those
        older than ``before_id`` when given. Two statements, however long the page."""
        tc, tl = transfers.c, transfer_lines.c
        source, target = locations.alias("source"), locations.alias("target")
        query = (
            select(transfers, source.c.code.label("from_code"), target.c.code.label("to_code"))
            .join(source, source.c.id == tc.from_location_id)
            .join(target, target.c.id == tc.to_location_id)
        )
        if tenant_id is not None:
            query = query.where(tc.tenant_id == tenant_id)
        if before_id is not None:
            query = query.where(tc.id < before_id)
        rows = self._conn.execute(query.order_by(tc.id.desc()).limit(limit)).all()
        lines: dict[UUID, list[TransferLine]] = {row.id: [] for row in rows}
        if rows:
            for line in self._conn.execute(
                select(tl.transfer_id, tl.sku, tl.quantity, tl.received)
                .where(
                    tuple_(tl.tenant_id, tl.transfer_id).in_([(r.tenant_id, r.id) for r in rows])
                )
                .order_by(tl.transfer_id, tl.sku)
            ):
                lines[line.transfer_id].append(
                    TransferLine(sku=line.sku, quantity=line.quantity, received=line.received)
                )
        return [_transfer(row, lines[row.id]) for row in rows]

    def count_sheets(
        self, tenant_id: UUID | None, *, before_id: UUID | None = None, limit: int
    ) -> list[CountSheet]:
        """A page of count sheets, newest first: one tenant's, or (None) every tenant's;
        those older than ``before_id`` when given. Two statements, however long the page."""
        cs, cl = count_sheets.c, count_lines.c
        query = select(count_sheets, locations.c.code).join(
            locations, locations.c.id == cs.location_id
        )
        if tenant_id is not None:
            query = query.where(cs.tenant_id == tenant_id)
        if before_id is not None:
            query = query.where(cs.id < before_id)
        rows = self._conn.execute(query.order_by(cs.id.desc()).limit(limit)).all()
        lines: dict[UUID, list[CountLine]] = {row.id: [] for row in rows}
        if rows:
            for line in self._conn.execute(
                select(cl.sheet_id, cl.sku, cl.bin, cl.counted)
                .where(tuple_(cl.tenant_id, cl.sheet_id).in_([(r.tenant_id, r.id) for r in rows]))
                .order_by(cl.sheet_id, cl.sku)
            ):
                lines[line.sheet_id].append(
                    CountLine(sku=line.sku, bin=line.bin, counted=line.counted)
                )
        return [_count_sheet(row, lines[row.id]) for row in rows]


def _transfer(row: Any, lines: list[TransferLine]) -> Transfer:
    return Transfer(
        id=row.id,
        tenant_id=row.tenant_id,
        from_location_id=row.from_location_id,
        from_code=row.from_code,
        to_location_id=row.to_location_id,
        to_code=row.to_code,
        lines=lines,
        created_at=row.created_at,
        status=TransferStatus(row.status),
        shipped_at=row.shipped_at,
    )


def _count_sheet(row: Any, lines: list[CountLine]) -> CountSheet:
    return CountSheet(
        id=row.id,
        tenant_id=row.tenant_id,
        location_id=row.location_id,
        location_code=row.code,
        blind=row.blind,
        lines=lines,
        created_at=row.created_at,
        created_by=row.created_by,
        status=CountStatus(row.status),
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        reason=row.reason,
    )
