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

import base64
import binascii
import hashlib
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from urllib.parse import parse_qs, unquote, urlsplit

from oms.services.common import utcnow
from oms.services.mailer import Attachment, Mailer, MailReceipt, OutgoingEmail

__all__ = ["SmtpMailer", "SmtpServer", "message_bytes"]

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


_BOUNDARY = "=_oms_"  # "=_" never occurs in quoted-printable text: no body can contain it


def _one_line(value: str) -> str:
    """A header's text on one line (a line break in it would start a header of its own),
    its words one space apart."""
    return " ".join(value.split())


def _unstructured(name: str, value: str) -> str:
    """``name: value`` folded to RFC 5322's line length, non-ASCII as RFC 2047 words."""
    value = _one_line(value)
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: " + Header(value, charset, header_name=name).encode(linesep="\r\n")


def _mailbox(name: str, address: str) -> str:
    return formataddr((_one_line(name), _one_line(address)), charset="utf-8")


def _quoted_printable(text: str) -> bytes:
    """``text`` as quoted-printable UTF-8 with CRLF line ends (lines of at most 76)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(lines.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _text_part(subtype: str, body: str) -> list[bytes]:
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode(),
        _quoted_printable(body),
        b"\r\n",
    ]


def _file_part(attachment: Attachment) -> list[bytes]:
    """One file, base64 in lines of 76; inline (with its Content-ID) or to download."""
    name = _one_line(attachment.filename).replace("\\", "_").replace('"', "_")
    headers = f'Content-Type: {attachment.content_type}; name="{name}"\r\n'
    if attachment.content_id:
        headers += f"Content-ID: <{_one_line(attachment.content_id)}>\r\n"
        headers += f'Content-Disposition: inline; filename="{name}"\r\n'
    else:
        headers += f'Content-Disposition: attachment; filename="{name}"\r\n'
    headers += "Content-Transfer-Encoding: base64\r\n\r\n"
    encoded = base64.encodebytes(attachment.data).replace(b"\n", b"\r\n")
    return [headers.encode(), encoded]


def _multipart(subtype: str, boundary: str, parts: list[list[bytes]]) -> list[bytes]:
    """A multipart/``subtype`` body part of ``parts`` (each its headers and body)."""
    chunks = [f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'.encode()]
    for part in parts:
        chunks.append(f"--{boundary}\r\n".encode())
        chunks += part
    chunks.append(f"--{boundary}--\r\n".encode())
    return chunks


def message_bytes(email: OutgoingEmail, *, now: datetime) -> bytes:
    """``email`` as the bytes of a multipart/alternative message (plain text first, then
    HTML, both quoted-printable UTF-8), ready for ``DATA``; with files, that is the first
    part of a multipart/mixed whose other parts are the files to download, and the HTML is
    a multipart/related with the images it shows inline (``Attachment.content_id``).

    Written here rather than through ``email.message.EmailMessage``, which costs many times
    more a message (docs/performance.md); the tests parse what this writes with the standard
    library's parser and find every header, both bodies and every file as given."""
    boundary = _BOUNDARY + hashlib.sha256(email.message_id.encode()).hexdigest()[:32]
    headers = [
        f"Message-ID: {_one_line(email.message_id)}",
        f"Date: {format_datetime(now.astimezone(UTC), usegmt=True)}",
        f"From: {_mailbox(email.sender_name, email.sender_address)}",
        f"To: {_one_line(email.to)}",
    ]
    if email.reply_to:
        headers.append(f"Reply-To: {_one_line(email.reply_to)}")
    headers += [
        _unstructured("Subject", email.subject),
        # Transactional mail: out-of-office robots must not answer it (RFC 3834).
        "Auto-Submitted: auto-generated",
        f"X-OMS-Template: {email.template.value}",
        "MIME-Version: 1.0",
    ]
    inline = [_file_part(a) for a in email.attachments if a.content_id]
    downloads = [_file_part(a) for a in email.attachments if not a.content_id]
    html = _text_part("html", email.html)
    if inline:
        html = _multipart("related", boundary + "_r", [html, *inline])
    body = _multipart("alternative", boundary, [_text_part("plain", email.text), html])
    if downloads:
        body = _multipart("mixed", boundary + "_m", [body, *downloads])
    # The top part's Content-Type line is the last header; the blank line follows it.
    return "\r\n".join(headers).encode("utf-8") + b"\r\n" + b"".join(body)


class SmtpMailer(Mailer):
    """Sends through one SMTP server; one connection per thread, kept between messages;
    ``clock`` dates the messages."""

    def __init__(self, server: SmtpServer, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.server = server
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tls_context: ssl.SSLContext | None = None

    def _tls(self) -> ssl.SSLContext:
        """The TLS settings, made once: loading the system's certificates takes tens of
        milliseconds, and plain SMTP never needs them."""
        with self._lock:
            if self._tls_context is None:
                self._tls_context = ssl.create_default_context()
            return self._tls_context

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        conn: smtplib.SMTP
        if server.implicit_tls:
            conn = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=self._tls()
            )
        else:
            conn = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            conn.ehlo()
            if server.starttls and not server.implicit_tls:
                conn.starttls(context=self._tls())
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

    def _deliver(self, email: OutgoingEmail) -> None:
        raw = message_bytes(email, now=self._clock())
        # Addresses beyond ASCII need the server's SMTPUTF8 (RFC 6531), asked for per message.
        international = not (email.sender_address.isascii() and email.to.isascii())
        options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                self._hand_over(conn, email, raw, options)
                return
            except smtplib.SMTPServerDisconnected:
                # The server closed an idle connection: open a new one, once.
                self._drop()
        self._local.conn = self._connect()
        self._hand_over(self._local.conn, email, raw, options)

    @staticmethod
    def _hand_over(
        conn: smtplib.SMTP, email: OutgoingEmail, raw: bytes, options: tuple[str, ...]
    ) -> None:
        if options and not conn.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the mail server does not take non-ASCII addresses")
        conn.sendmail(email.sender_address, [email.to], raw, mail_options=options)

    def send(self, email: OutgoingEmail) -> MailReceipt:
        try:
            self._deliver(email)
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
