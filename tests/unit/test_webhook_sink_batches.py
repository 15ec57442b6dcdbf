"""The webhook sink sending a batch: each URL's address checked once for the batch, the
request aimed at the address checked with the host name kept for ``Host`` and SNI, a name
re-pointed at a private address reaching nothing, each request signed as the library
verifies; through a recording transport."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

from standardwebhooks import Webhook

from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.http import Answer, Post
from oms.adapters.webhooks.sink import PreparedWebhook, WebhookSink
from oms.services.event_delivery import SendJob
from oms.services.events import Event

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"another secret, 24 bytes").decode()


class Recording:
    """A transport that answers 200 to everything and keeps what it was given."""

    def __init__(self) -> None:
        self.posts: list[Post] = []

    def post_all(self, posts: Sequence[Post]) -> list[Answer]:
        self.posts.extend(posts)
        return [Answer(200, b"thanks", None, 1.0) for _ in posts]

    def close(self) -> None:
        return


def _job(sink: WebhookSink, url: str) -> SendJob:
    event = Event(
        id=uuid4(),
        tenant_id=uuid4(),
        type="shipment.delivered",
        created_at=WHEN,
        data={"id": "s-1"},
        topic="shipment.delivered",
        aggregate_id=uuid4(),
        detail={},
    )
    return SendJob(
        sink=sink,
        prepared=PreparedWebhook(url, (SECRET,)),
        event=event,
        key="k",
        attempt=1,
        deadline=datetime.max.replace(tzinfo=UTC),
    )


def test_a_batch_checks_each_address_once_and_aims_at_it_with_the_name_kept() -> None:
    answers = {"hooks.example.com": ["93.184.215.14"]}
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[host]

    transport = Recording()
    sink = WebhookSink(
        transport=transport,
        guard=AddressGuard(allow_private=False, resolver=resolve),
        clock=lambda: WHEN,
    )

    outcomes = sink.send_many([_job(sink, "https://hooks.example.com/in?shop=1") for _ in range(3)])

    assert [(o.delivered, o.status_code, o.response_body) for o in outcomes] == [
        (True, 200, "thanks")
    ] * 3
    assert asked == ["hooks.example.com"]
    post = transport.posts[0]
    assert (post.scheme, post.address, post.port) == ("https", "93.184.215.14", 443)
    assert (post.host, post.host_header, post.target) == (
        "hooks.example.com",
        "hooks.example.com",
        "/in?shop=1",
    )


def test_a_name_re_pointed_at_loopback_reaches_nothing_and_the_rest_of_the_batch_goes() -> None:
    answers = {"good.example.com": ["93.184.215.14"], "evil.example.com": ["127.0.0.1"]}
    transport = Recording()
    sink = WebhookSink(
        transport=transport,
        guard=AddressGuard(allow_private=False, resolver=lambda host, _: answers[host]),
        clock=lambda: WHEN,
    )

    evil, good = sink.send_many(
        [_job(sink, "http://evil.example.com/in"), _job(sink, "http://good.example.com/in")]
    )

    assert not evil.delivered
    assert "loopback" in (evil.error or "")
    assert good.delivered
    assert [p.host for p in transport.posts] == ["good.example.com"]


def test_every_request_of_a_batch_is_signed_as_the_library_verifies() -> None:
    transport = Recording()
    sink = WebhookSink(
        transport=transport, guard=AddressGuard(allow_private=True), clock=lambda: WHEN
    )
    jobs = [_job(sink, "http://127.0.0.1:9/in") for _ in range(3)]

    sink.send_many(jobs)

    for job, post in zip(jobs, transport.posts, strict=True):
        headers = dict(post.headers)
        assert headers["webhook-id"] == str(job.event.id)
        assert headers["webhook-signature"] == Webhook(SECRET).sign(
            str(job.event.id), WHEN, post.body
        )
        assert post.address == "127.0.0.1"  # the guard is off: the host as it is
