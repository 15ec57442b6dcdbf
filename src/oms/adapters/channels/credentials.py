"""Channel credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The keys come from ``OMS_SECRET_KEY``: a comma-separated list, the first one encrypts and
every one decrypts (``MultiFernet``), so a key is rotated by putting the new one first;
a connection saved again (any PATCH) is stored under the new one; drop the old key once
none needs it. Each secret is stretched to a Fernet key with HKDF-SHA256, so
any secret of 16 characters or more serves. The development default of ``OMS_SECRET_KEY``
is public (and refused in production by ``oms.config``): credentials stored under it are
readable by anyone with the database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["FernetCipher", "secrets_of"]

_INFO = b"oms channel credentials v1"


def secrets_of(secret_key: str) -> list[str]:
    """The secrets in ``OMS_SECRET_KEY``: comma-separated, blanks dropped, first one first."""
    return [part.strip() for part in secret_key.split(",") if part.strip()]


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class FernetCipher:
    """Encrypts with the first secret; decrypts with any (``MultiFernet``)."""

    def __init__(self, secret_key: str) -> None:
        secrets = secrets_of(secret_key)
        if not secrets:
            raise ValueError("OMS_SECRET_KEY names no secret")
        self._fernet = MultiFernet([_fernet(s) for s in secrets])

    def encrypt(self, credentials: Mapping[str, str]) -> str:
        plain = json.dumps(dict(credentials), sort_keys=True).encode()
        return self._fernet.encrypt(plain).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        found: dict[str, str] = json.loads(self._fernet.decrypt(token.encode()))
        return found

    def rotate(self, token: str) -> str:
        """``token`` encrypted again under the first secret."""
        return self._fernet.rotate(token.encode()).decode()
