"""Password hashes with argon2id (``oms.services.users.PasswordHasher``).

The default cost is argon2-cffi's (RFC 9106's low-memory profile: 64 MiB, 3 passes); tests
build a cheap one, since they check the rules, not the hash's strength.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Argon2Hasher"]


class Argon2Hasher:
    """argon2id hashes in the PHC string format (``$argon2id$v=19$m=...``)."""

    def __init__(self, *, cheap: bool = False) -> None:
        self._argon = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            if cheap
            else PasswordHasher()
        )

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
