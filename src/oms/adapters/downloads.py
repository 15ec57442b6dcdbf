"""Signed, expiring download links for digital goods (itsdangerous), the
``oms.services.downloads.DownloadLinks`` port.

A link names the tenant, order and line and carries its expiry; it is signed with the
deployment's secret key, so it cannot be forged or stretched. Nothing is stored: the same
order line always gets the same link, and revoking every link means changing the key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer

from oms.services.downloads import DownloadGrant

__all__ = ["DownloadSigner"]


class DownloadSigner:
    """The ``oms.services.downloads.DownloadLinks`` port, signing with ``secret_key``."""

    def __init__(self, secret_key: str, base_url: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="oms-download-link")
        self._base_url = base_url.rstrip("/")

    def link(self, grant: DownloadGrant) -> str:
        """The public URL of the link."""
        token = self._serializer.dumps(
            [
                str(grant.tenant_id),
                str(grant.order_id),
                grant.line_no,
                int(grant.expires_at.timestamp()),
            ]
        )
        return f"{self._base_url}/downloads/{token}"

    def read(self, token: str) -> DownloadGrant | None:
        """The grant of a genuine token, or None for anything forged or malformed."""
        try:
            tenant, order, line_no, expires = self._serializer.loads(token)
            return DownloadGrant(
                tenant_id=UUID(tenant),
                order_id=UUID(order),
                line_no=int(line_no),
                expires_at=datetime.fromtimestamp(int(expires), tz=UTC),
            )
        except (BadSignature, ValueError, TypeError):
            return None
