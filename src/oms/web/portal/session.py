"""The portal's session: one signed cookie (itsdangerous) holding who signed in, the tenant
an operator picked, and the session's CSRF token.

The cookie is ``HttpOnly`` and ``SameSite=Lax``, ``Secure`` when the public URL is https,
scoped to ``/app`` and good for ``MAX_AGE``. Its signature (``OMS_SECRET_KEY``) stops anyone
from writing one; the user is read again on every request, so a disabled user's session
ends at once. A visitor who has not signed in gets a session too, with a CSRF token only,
so the login form is protected like every other form (a POST whose ``csrf_token`` field
is not the session's is refused with 403).

Signing in makes a new token (a token seen before signing in is worth nothing after);
signing out clears the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from uuid import UUID

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["COOKIE", "MAX_AGE", "Session", "SessionCodec"]

COOKIE = "oms_portal"
MAX_AGE = 12 * 3600
ALL_TENANTS = "all"


@dataclass(frozen=True)
class Session:
    """``tenant``: the tenant id an operator picked, ``ALL_TENANTS``, or None (not yet)."""

    csrf: str
    user_id: UUID | None = None
    tenant: str | None = None

    @staticmethod
    def fresh() -> Session:
        return Session(csrf=secrets.token_urlsafe(32))

    def signed_in(self, user_id: UUID) -> Session:
        """The session of ``user_id``, with a new CSRF token."""
        return Session(csrf=secrets.token_urlsafe(32), user_id=user_id)

    def picking(self, tenant: str | None) -> Session:
        return replace(self, tenant=tenant)

    def accepts(self, token: str | None) -> bool:
        """Whether a form's ``csrf_token`` is this session's."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), (token or "").encode())


class SessionCodec:
    """Turns a session into the cookie's value and back."""

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="oms.portal.session")

    def dump(self, session: Session) -> str:
        return self._signer.dumps(
            {
                "c": session.csrf,
                "u": None if session.user_id is None else str(session.user_id),
                "t": session.tenant,
            }
        )

    def load(self, value: str | None) -> Session | None:
        """The session of a cookie; None when it is missing, forged, expired or malformed."""
        if not value:
            return None
        try:
            data = self._signer.loads(value, max_age=MAX_AGE)
            user = data.get("u")
            return Session(
                csrf=str(data["c"]),
                user_id=None if user is None else UUID(user),
                tenant=data.get("t"),
            )
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return None
