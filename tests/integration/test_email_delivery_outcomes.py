"""What the email sink makes of the mail server's answers, against a real SMTP server on
loopback: accepted is delivered, 4xx and a dead server are retried, 5xx is given up; a
retry sends the very same message (same Message-ID)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from oms.adapters.email.memory import RecordingMailer
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.email.sink import EmailSink, message_id_for
from oms.adapters.email.smtp import SmtpMailer, SmtpServer
from oms.domain.notifications import Template
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.events import Event
from oms.services.mailer import MailReceipt, OutgoingEmail
from tests.mail_support import Inbox, MemoryStatusLinks, running_smtp_server


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Inbox]:
    yield from running_smtp_server()


@pytest.fixture
def inbox(smtp_server: Inbox) -> Iterator[Inbox]:
    smtp_server.take()
    yield smtp_server
    smtp_server.refuse.clear()


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer(SmtpServer.from_url(f"smtp://127.0.0.1:{port}?timeout=5"))


def _email(to: str = "ada@example.com") -> OutgoingEmail:
    return OutgoingEmail(
        message_id=message_id_for(UUID(int=7), Template.SHIPPED, "oms.test"),
        sender_name="Ben & Jerry's",
        sender_address="orders@shop.example",
        to=to,
        subject="Your order #1001 is on its way",
        text="Plain words, and a link: https://track.test/AC1",
        html="<p>Plain words, and <a href='https://track.test/AC1'>a link</a></p>",
        template=Template.SHIPPED,
        reply_to="help@shop.example",
    )


def _sink(mailer: SmtpMailer | RecordingMailer) -> EmailSink:
    """A sink only for ``send``: what it sends was prepared already."""

    return EmailSink(
        mailer=mailer,
        renderer=JinjaEmailRenderer(),
        links=MemoryStatusLinks(),
        pickup_key=PickupCodeKey("a test key of enough length"),
        default_sender="orders@oms.test",
        message_id_domain="oms.test",
    )


EVENT = Event(
    id=UUID(int=7),
    tenant_id=uuid4(),
    type="shipment.created",
    created_at=datetime(2026, 12, 1, tzinfo=UTC),
    data={},
    topic="shipment.created",
    aggregate_id=uuid4(),
    detail={},
)


def test_an_accepted_email_is_delivered_and_a_retry_is_the_same_message(inbox: Inbox) -> None:
    mailer = _mailer(inbox.port)
    sink = _sink(mailer)

    first = sink.send(_email(), event=EVENT, key="shipped", attempt=1)
    again = sink.send(_email(), event=EVENT, key="shipped", attempt=2)
    mailer.close()

    assert (first.delivered, first.status_code, again.delivered) == (True, 250, True)
    one, two = inbox.take()
    assert one["Message-ID"] == two["Message-ID"] == f"<{EVENT.id}.shipped@oms.test>"
    assert one["From"] == "Ben & Jerry's <orders@shop.example>"
    assert one["Reply-To"] == "help@shop.example"
    assert one["Auto-Submitted"] == "auto-generated"
    plain, html = one.get_body(("plain",)), one.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert "https://track.test/AC1" in plain.get_content()
    assert "<a href='https://track.test/AC1'>" in html.get_content()


@pytest.mark.parametrize(
    ("reply", "code", "final"),
    [
        ("550 5.1.1 no such mailbox", 550, True),
        ("553 5.1.3 bad address", 553, True),
        ("451 4.3.0 try again later", 451, False),
        ("452 4.2.2 mailbox full", 452, False),
    ],
)
def test_a_refusal_is_final_for_5xx_and_retried_for_4xx(
    inbox: Inbox, reply: str, code: int, final: bool
) -> None:
    inbox.refuse["nobody@example.com"] = reply
    mailer = _mailer(inbox.port)

    outcome = _sink(mailer).send(
        _email("nobody@example.com"), event=EVENT, key="shipped", attempt=1
    )
    # The connection is still good for the next message.
    after = _sink(mailer).send(_email(), event=EVENT, key="shipped", attempt=1)
    mailer.close()

    assert (outcome.delivered, outcome.status_code, outcome.final) == (False, code, final)
    assert reply.split(" ", 1)[1] in (outcome.error or "")
    assert after.delivered
    assert [m["To"] for m in inbox.take()] == ["ada@example.com"]


def test_a_mail_server_that_is_not_there_is_retried_later() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # bound, never listening: connection refused

        outcome = _sink(_mailer(closed_port)).send(_email(), event=EVENT, key="shipped", attempt=1)

    assert (outcome.delivered, outcome.final, outcome.status_code) == (False, False, None)
    assert "Connection" in (outcome.error or "") or "refused" in (outcome.error or "")


def test_the_in_memory_mailer_keeps_what_it_accepts_and_answers_as_told() -> None:
    mailer = RecordingMailer()
    mailer.answer_next(MailReceipt(False, 421, "busy"), MailReceipt(False, 550, "no", True))
    sink = _sink(mailer)

    outcomes = [sink.send(_email(), event=EVENT, key="shipped", attempt=n) for n in (1, 2, 3)]

    assert [(o.delivered, o.final) for o in outcomes] == [
        (False, False),
        (False, True),
        (True, False),
    ]
    assert [e.subject for e in mailer.sent] == ["Your order #1001 is on its way"]
    assert [r.code for _, r in mailer.refused] == [421, 550]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525)),
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25)),
        (
            "smtp://app%40shop:p%2Fss@mail.example.com:587?starttls=1&timeout=3",
            SmtpServer(
                "mail.example.com", 587, starttls=True, user="app@shop", password="p/ss", timeout=3
            ),
        ),
        ("smtps://mail.example.com", SmtpServer("mail.example.com", 465, implicit_tls=True)),
    ],
)
def test_the_smtp_url_says_where_and_how(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_url_that_is_not_smtp_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpServer.from_url(url)
