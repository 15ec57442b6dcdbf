"""Standard Webhooks signatures as the ``standardwebhooks`` library checks them, and the
guard that keeps webhooks on the public internet (at creation and at every send)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from standardwebhooks import Webhook

from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.signing import sign, signature_header
from oms.adapters.webhooks.sink import PreparedWebhook, WebhookSink, body_of
from oms.domain.webhooks import secret_key_bytes, secret_of, url_problem
from oms.services.events import Event

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _secret(seed: int) -> str:
    return secret_of(random.Random(seed).randbytes(24))


def test_a_signature_is_the_one_the_library_computes() -> None:
    secret, body = _secret(1), b'{"type":"order.created"}'

    ours = sign(secret, msg_id="msg_1", timestamp=int(WHEN.timestamp()), body=body)

    assert ours == Webhook(secret).sign("msg_1", WHEN, body)
    assert secret_key_bytes(secret) == random.Random(1).randbytes(24)


def test_during_a_rotation_both_signatures_travel_and_either_secret_finds_its_own() -> None:
    old, new, body = _secret(1), _secret(2), b"{}"

    header = signature_header([new, old], msg_id="m", timestamp=1, body=body)

    parts = header.split(" ")
    assert parts == [
        sign(new, msg_id="m", timestamp=1, body=body),
        sign(old, msg_id="m", timestamp=1, body=body),
    ]


def _resolver(answers: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("unknown host")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://hooks.example.com/x", False),
        ("https://private.example.com/x", True),
        ("https://mixed.example.com/x", True),
        ("https://nowhere.example.com/x", True),
        ("http://127.0.0.1/", True),
        ("http://[::1]/", True),
        ("http://169.254.169.254/", True),
        ("http://10.0.0.1/", True),
        ("http://93.184.215.14/", False),
        ("http://[2606:4700::1111]/", False),
    ],
)
def test_only_hosts_resolving_to_public_addresses_only_pass(url: str, refused: bool) -> None:
    guard = AddressGuard(
        allow_private=False,
        resolver=_resolver(
            {
                "hooks.example.com": ["93.184.215.14"],
                "private.example.com": ["192.168.1.5"],
                "mixed.example.com": ["93.184.215.14", "127.0.0.1"],
            }
        ),
    )

    assert (guard(url) is not None) is refused


def test_the_operator_may_let_private_addresses_through() -> None:
    assert AddressGuard(allow_private=True)("http://127.0.0.1:9/") is None


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https:///nohost", "https://a:b@example.com/", "http://example.com:0/"],
)
def test_a_url_of_the_wrong_form_is_refused_before_any_lookup(url: str) -> None:
    assert url_problem(url) is not None


def _event() -> Event:
    return Event(
        id=uuid4(),
        tenant_id=uuid4(),
        type="order.created",
        created_at=WHEN,
        data={"id": "x"},
        topic="order.placed",
        aggregate_id=uuid4(),
        detail={},
    )


def test_a_name_that_resolves_to_loopback_by_send_time_is_not_called() -> None:
    calls: list[httpx.Request] = []
    answers = {"hooks.example.com": ["93.184.215.14"]}
    guard = AddressGuard(allow_private=False, resolver=_resolver(answers))
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
    )
    sink = WebhookSink(client=client, guard=guard, clock=lambda: WHEN)
    prepared = PreparedWebhook("https://hooks.example.com/in", (_secret(1),))

    first = sink.send(prepared, event=_event(), key="k", attempt=1)
    answers["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding
    second = sink.send(prepared, event=_event(), key="k", attempt=2)
    client.close()

    assert first.delivered
    assert not second.delivered
    assert "loopback" in (second.error or "")
    assert len(calls) == 1
    # The checked address is the one connected to; the name stays in Host and SNI.
    assert calls[0].url.host == "93.184.215.14"
    assert calls[0].headers["host"] == "hooks.example.com"
    assert calls[0].extensions["sni_hostname"] == "hooks.example.com"


def test_a_redirect_is_a_failed_attempt_never_followed() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    client = httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=False)
    sink = WebhookSink(client=client, guard=AddressGuard(allow_private=True), clock=lambda: WHEN)

    outcome = sink.send(
        PreparedWebhook("http://hooks.test/in", (_secret(1),)), event=_event(), key="k", attempt=1
    )
    client.close()

    assert (outcome.delivered, outcome.status_code, len(calls)) == (False, 302, 1)


def test_a_long_answer_is_kept_truncated() -> None:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(500, content=b"x" * 100_000))
    )
    sink = WebhookSink(
        client=client,
        guard=AddressGuard(allow_private=True),
        clock=lambda: WHEN,
        max_stored_body=100,
    )

    outcome = sink.send(
        PreparedWebhook("http://hooks.test/in", (_secret(1),)), event=_event(), key="k", attempt=1
    )
    client.close()

    assert outcome.response_body == "x" * 100


def test_the_body_is_type_timestamp_and_data_and_verifies_with_the_library() -> None:
    event, secret = _event(), _secret(3)
    body = body_of(event)
    headers = {
        "webhook-id": str(event.id),
        "webhook-timestamp": str(int(WHEN.timestamp())),
        "webhook-signature": sign(
            secret, msg_id=str(event.id), timestamp=int(WHEN.timestamp()), body=body
        ),
    }

    wh = Webhook(secret)
    assert wh.sign(str(event.id), WHEN, body) == headers["webhook-signature"]

    assert json.loads(body) == {
        "type": "order.created",
        "timestamp": "2026-12-01T09:00:00Z",
        "data": {"id": "x"},
    }
