"""Identifiers: time-ordered UUIDs (version 7, RFC 9562).

Ids made later sort later, so new rows land at the end of their primary-key index and a
list ordered by id is in order of creation. One place makes them, so every row gets the
same kind of id.
"""

from __future__ import annotations

from uuid import UUID

from uuid_utils.compat import uuid7

__all__ = ["new_id"]


def new_id() -> UUID:
    """A new version-7 UUID (a standard ``uuid.UUID``), increasing within this process."""
    return uuid7()
