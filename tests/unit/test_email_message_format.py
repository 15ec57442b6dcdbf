"""The bytes an email leaves as: whatever the names, subjects and bodies hold, a standard
mail parser reads back every header and both bodies exactly as they were given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.email.smtp import message_bytes
from oms.domain.notifications import Template
from oms.services.mailer import OutgoingEmail

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

# Any text but the characters no header or body may carry at all (NUL and lone surrogates).
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _email(**changes: object) -> OutgoingEmail:
    fields: dict[str, object] = {
        "message_id": "<6f1c.order_confirmed@shop.example>",
        "sender_name": "Acme Store",
        "sender_address": "orders@acme.example",
        "to": "ada@example.com",
        "subject": "Your order #1001 is confirmed",
        "text": "Hello Ada,\n\nThank you for your order.\n",
        "html": "<p>Hello Ada,</p>\n<p>Thank you for your order.</p>\n",
        "template": Template.ORDER_CONFIRMED,
    }
    fields.update(changes)
    return OutgoingEmail(**fields)  # type: ignore[arg-type]


def _parsed(email: OutgoingEmail) -> EmailMessage:
    raw = message_bytes(email, now=NOW)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _lines(text: str) -> str:
    """Text as a mail reader gets it back: every line break is one ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _words(text: str) -> str:
    """A header's text as it is sent: its words, one space apart, on one line."""
    return " ".join(text.split())


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    assert part.get_content_type() == f"text/{subtype}"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # as readers show it: the wire's CRLF is a line break


def test_the_message_carries_every_header_and_both_parts_in_order() -> None:
    message = _parsed(_email(reply_to="help@acme.example"))

    assert message["Message-ID"] == "<6f1c.order_confirmed@shop.example>"
    assert message["Date"].datetime == NOW
    assert message["From"].addresses[0].display_name == "Acme Store"
    assert message["From"].addresses[0].addr_spec == "orders@acme.example"
    assert message["To"] == "ada@example.com"
    assert message["Reply-To"] == "help@acme.example"
    assert message["Subject"] == "Your order #1001 is confirmed"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-OMS-Template"] == "order_confirmed"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last part is the one readers prefer
    assert _body(message, "plain") == "Hello Ada,\n\nThank you for your order.\n"
    assert _body(message, "html") == "<p>Hello Ada,</p>\n<p>Thank you for your order.</p>\n"


def test_no_reply_to_header_without_a_reply_address_and_the_date_is_in_gmt() -> None:
    later = datetime(2026, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    raw = message_bytes(_email(), now=later)

    assert b"Reply-To" not in raw
    assert b"Date: Sun, 01 Mar 2026 09:30:00 GMT\r\n" in raw


def test_every_line_is_short_ascii_and_ends_in_crlf_whatever_the_body() -> None:
    raw = message_bytes(
        _email(
            subject="Votre commande n°1001 est confirmée — merci, Zoë " * 3,
            text="é" * 500 + "\n. \n.\nFrom here\ttab \n",
            html="<p>" + "ü" * 400 + "</p>",
        ),
        now=NOW,
    )

    lines = raw.split(b"\r\n")
    assert lines[-1] == b""  # the message ends with a line break
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 78 for line in lines), max(lines, key=len)
    assert raw.isascii()


@settings(max_examples=300, deadline=None)
@given(name=_text, subject=_text, text=_text, html=_text)
def test_a_parser_reads_back_exactly_what_was_given(
    name: str, subject: str, text: str, html: str
) -> None:
    message = _parsed(_email(sender_name=name, subject=subject, text=text, html=html))

    assert message["From"].addresses[0].addr_spec == "orders@acme.example"
    assert message["From"].addresses[0].display_name == _words(name)
    assert message["Subject"] == _words(subject)
    assert _body(message, "plain") == _lines(text)
    assert _body(message, "html") == _lines(html)
