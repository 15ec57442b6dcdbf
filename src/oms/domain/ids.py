"""Identifiers: time-ordered UUIDs (version 7, RFC 9562).

Ids made later sort later, so new rows land at the end of their primary-key index and a
list ordered by id is in order of creation. One place makes them, so every row gets the
same kind of id.
"""

from __future__ import annotations

from uuid import UUID, SafeUUID

import uuid_utils

__all__ = ["new_id"]

# Read once: in Python 3.11 reading an enum member from its class is a Python-level call.
_SAFETY_UNKNOWN = SafeUUID.unknown


def new_id() -> UUID:
    """A new version-7 UUID (a standard ``uuid.UUID``), increasing within this process."""
    # What uuid_utils.compat.uuid7 does, in one Python call instead of four (every row of
    # every order gets an id): the standard UUID built around uuid_utils' 128-bit value.
    made = object.__new__(UUID)
    object.__setattr__(made, "int", uuid_utils.uuid7().int)
    object.__setattr__(made, "is_safe", _SAFETY_UNKNOWN)
    return made
