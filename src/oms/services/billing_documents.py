"""A billing statement as CSV (one row per priced line, then the total) and as PDF (drawn by
the ``DocumentRenderer`` port, like the warehouse's documents)."""

from __future__ import annotations

import csv
import io

from oms.domain.billing import Statement
from oms.domain.money import round_money
from oms.services.document_renderer import DocumentRenderer, StatementDoc, StatementDocLine
from oms.services.documents import RenderedDocument

__all__ = ["CSV_COLUMNS", "statement_csv", "statement_pdf"]

CSV_COLUMNS = (
    "tenant_id",
    "tenant_name",
    "period",
    "code",
    "description",
    "quantity",
    "rate",
    "amount",
    "currency",
)


def _decimal(value: object) -> str:
    return format(value, "f")


def statement_csv(statement: Statement) -> str:
    """RFC 4180 CSV: a header, one row per line, a last row ``total`` with the sum."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = (str(statement.tenant_id), statement.tenant_name, str(statement.period))
    cur = statement.currency
    for line in statement.lines:
        writer.writerow(
            (
                *head,
                line.code,
                line.description,
                _decimal(line.quantity.normalize()),
                _decimal(line.rate.normalize()),
                _decimal(round_money(line.amount, cur)),
                cur,
            )
        )
    writer.writerow((*head, "total", "Total", "", "", _decimal(statement.total), cur))
    return out.getvalue()


def statement_pdf(statement: Statement, *, renderer: DocumentRenderer) -> RenderedDocument:
    """The statement drawn as a document, named ``statement-<period>-<tenant>.pdf``."""
    cur = statement.currency
    notes = [
        f"Labels bought in {c} ({_decimal(amount)}) are not in this statement's currency "
        "and are not billed here."
        for c, amount in sorted(statement.unpriced_label_cost.items())
    ]
    doc = StatementDoc(
        merchant_name=statement.tenant_name,
        merchant_id=str(statement.tenant_id),
        period=str(statement.period),
        currency=cur,
        lines=[
            StatementDocLine(
                description=line.description,
                quantity=_decimal(line.quantity.normalize()),
                rate=_decimal(line.rate.normalize()),
                amount=_decimal(round_money(line.amount, cur)),
            )
            for line in statement.lines
        ],
        total=_decimal(statement.total),
        notes=notes,
    )
    return RenderedDocument(
        content=renderer.statement(doc),
        filename=f"statement-{statement.period}-{statement.tenant_id}.pdf",
    )
