"""Email over SMTP (``OMS_SMTP_URL``), with the standard library's ``smtplib``.

``smtp://[user:password@]host[:port][?starttls=1&timeout=10]`` talks plain SMTP (port 25
unless given), upgrading with STARTTLS when asked; ``smtps://`` opens TLS at once (port
465). With a user, it logs in after the greeting. Each thread keeps one connection and
sends message after message over it; a connection the server dropped is opened again once.

The server's answer becomes a ``MailReceipt`` (never an exception): accepted; refused for
good (5xx: no such mailbox, message refused); or refused for now (4xx, a connection
refused, dropped or timed out, and a failed login, which is the operator's to fix, not the
message's).
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from oms.services.common import utcnow
from oms.services.mailer import Mailer, MailReceipt, OutgoingEmail

__all__ = ["SmtpMailer", "SmtpServer", "mime_message"]

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach the mail server, read from ``OMS_SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Read ``smtp://`` or ``smtps://`` URLs; ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("OMS_SMTP_URL must look like smtp://host:port or smtps://host:port")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=query.get("starttls", "").lower() in _TRUE,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", 10.0)),
        )


def mime_message(email: OutgoingEmail) -> EmailMessage:
    """``email`` as a multipart/alternative message: plain text first, then HTML."""
    message = EmailMessage()
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(utcnow())
    message["From"] = Address(display_name=email.sender_name, addr_spec=email.sender_address)
    message["To"] = email.to
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    # Transactional mail: out-of-office robots must not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-OMS-Template"] = email.template.value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpMailer(Mailer):
    """Sends through one SMTP server; one connection per thread, kept between messages."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._local = threading.local()

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if server.implicit_tls:
            conn = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=context
            )
        else:
            conn = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            conn.ehlo()
            if server.starttls and not server.implicit_tls:
                conn.starttls(context=context)
                conn.ehlo()
            if server.user:
                conn.login(server.user, server.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def _drop(self) -> None:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def _deliver(self, message: EmailMessage, to: str) -> None:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                conn.send_message(message, to_addrs=[to])
                return
            except smtplib.SMTPServerDisconnected:
                # The server closed an idle connection: open a new one, once.
                self._drop()
        self._local.conn = self._connect()
        self._local.conn.send_message(message, to_addrs=[to])

    def send(self, email: OutgoingEmail) -> MailReceipt:
        try:
            self._deliver(mime_message(email), email.to)
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = next(iter(refused.recipients.values()))
            self._drop()
            return _refusal(code, text)
        except smtplib.SMTPAuthenticationError as error:
            self._drop()
            return MailReceipt(False, error.smtp_code, f"login refused: {_text(error.smtp_error)}")
        except smtplib.SMTPConnectError as error:
            self._drop()
            return MailReceipt(False, error.smtp_code, f"connect: {_text(error.smtp_error)}")
        except smtplib.SMTPResponseException as error:
            self._drop()
            return _refusal(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return MailReceipt(False, None, f"{type(error).__name__}: {error}"[:500])
        return MailReceipt(True, 250, "accepted")

    def close(self) -> None:
        """Close this thread's connection, if open."""
        self._drop()


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else raw)[:500]


def _refusal(code: int, text: bytes | str) -> MailReceipt:
    return MailReceipt(False, code, _text(text), permanent=500 <= code < 600)
