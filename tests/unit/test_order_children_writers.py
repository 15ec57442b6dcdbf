"""Only the order repository writes an order's children (lines, allocations, payments,
holds, timeline), and it writes the order's row with them: the locked order read in one
statement (``order_load``) tells by the row's version that a transaction it waited for
changed them. A writer elsewhere would have to keep that promise itself."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "oms"
_CHILDREN = "order_lines|allocations|payments|order_events|order_holds"
_WRITE = re.compile(
    rf"\b(?:insert|update|delete)\(\s*(?:{_CHILDREN})\b"
    rf"|\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:{_CHILDREN})\b",
    re.IGNORECASE,
)
# The repository (``orders.py``) and the two statements it runs on PostgreSQL.
_WRITERS = {"orders.py", "order_save.py", "order_insert.py"}
_REPOSITORIES = SRC / "adapters" / "db" / "repositories"


def test_only_the_order_repository_writes_an_orders_children() -> None:
    found = sorted(
        f"{path.relative_to(SRC)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        and not (path.parent == _REPOSITORIES and path.name in _WRITERS)
        for text in [path.read_text(encoding="utf-8")]
        for match in _WRITE.finditer(text)
    )
    assert found == []


def test_the_writers_rule_finds_a_write() -> None:
    assert _WRITE.search("conn.execute(update(allocations).values(released=1))")
    assert _WRITE.search("INSERT INTO payments (tenant_id) VALUES (1)")
    assert not _WRITE.search("select(payments).where(payments.c.id == 1)")
