"""The public pages' small rules: which answer a request wants, the per-client token
bucket on an injected clock, the merchant's colours made safe and readable, and the signed
status links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from oms.adapters.downloads import DownloadSigner
from oms.adapters.status_links import LIFETIME, StatusLinkSigner
from oms.services.downloads import DownloadGrant
from oms.services.events import Branding
from oms.web.negotiation import prefers_html
from oms.web.pages import look_of
from oms.web.rate_limit import RateLimiter, client_key

SECRET = "a-test-secret-key-long-enough"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, True),
        ("", True),
        ("*/*", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("text/*", True),
        ("application/json", False),
        ("application/json, text/plain, */*", False),
        ("application/*", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html, application/json;q=0.9", True),
        ("application/json;q=0, */*", True),
        ("text/html;q=0, */*", False),
        ("image/png", True),
        ("application/json;q=oops, text/html", True),
    ],
)
def test_the_page_goes_to_browsers_and_json_to_json_clients(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_one_request_per_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=2, clock=clock)  # a token every 10 s

    assert [limiter.take("a"), limiter.take("a"), limiter.take("a")] == [None, None, 10]
    clock.now += 4
    assert limiter.take("a") == 6
    clock.now += 6
    assert limiter.take("a") is None
    assert limiter.take("b") is None  # another client, another bucket
    clock.now += 3_600
    assert [limiter.take("a"), limiter.take("a"), limiter.take("a")] == [None, None, 10]


def test_the_table_of_buckets_stays_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=5, clock=clock, max_clients=100)

    for n in range(1_000):
        assert limiter.take(f"10.0.{n // 256}.{n % 256}") is None

    assert len(limiter._buckets) <= 100


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_an_ipv6_client_counts_by_its_64_network(host: str | None, key: str) -> None:
    assert client_key(host) == key


@pytest.mark.parametrize(
    ("colour", "text"),
    [
        ("#1f4e79", "#ffffff"),
        ("#ffeb3b", "#000000"),
        ("#000000", "#ffffff"),
        ("#FFFFFF", "#000000"),
    ],
)
def test_text_on_the_merchants_colour_is_whichever_of_black_or_white_reads_better(
    colour: str, text: str
) -> None:
    look = look_of(Branding(display_name="Shop", colour=colour))

    assert (look.colour, look.on_colour) == (colour.lower(), text)


def test_colours_and_logos_that_could_carry_anything_else_are_dropped() -> None:
    look = look_of(
        Branding(
            display_name="Shop",
            colour="red;}body{display:none",
            accent_colour="#12345",
            logo_url="https://cdn.example.com/logo.png",
        )
    )
    inline = look_of(Branding(display_name="Shop", logo_url="data:image/png;base64,iVBORw0KGgo="))

    assert (look.colour, look.accent, look.logo) == ("#1f4e79", "#f2f5f9", None)
    assert inline.logo == "data:image/png;base64,iVBORw0KGgo="


def _signer(at: datetime, secret: str = SECRET) -> StatusLinkSigner:
    return StatusLinkSigner(
        secret, "https://shop.example/", slug_of=lambda _: "acme", clock=lambda: at
    )


def test_a_status_link_names_the_shop_and_opens_one_order_for_ninety_days() -> None:
    at = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    tenant_id, order_id = uuid4(), uuid4()
    signer = _signer(at)

    url = signer.order_status_url(tenant_id, order_id, 1001)
    grant = signer.read(url.split("token=", 1)[1])

    assert url.startswith("https://shop.example/status/acme?token=")
    assert grant is not None
    assert (grant.tenant_id, grant.order_id) == (tenant_id, order_id)
    assert grant.expires_at == at + LIFETIME
    assert not grant.expired(at + LIFETIME - timedelta(seconds=1))
    assert grant.expired(at + LIFETIME)
    assert signer.tracking_url("AC000000013OM") == "https://shop.example/track/AC000000013OM"


def test_a_forged_altered_or_foreign_token_reads_as_nothing() -> None:
    at = datetime(2031, 1, 6, tzinfo=UTC)
    token = _signer(at).token(uuid4(), uuid4())
    other_key = _signer(at, secret="another-secret-key-entirely").token(uuid4(), uuid4())
    download = (
        DownloadSigner(SECRET, "https://shop.example")
        .link(DownloadGrant(uuid4(), uuid4(), 1, at))
        .rsplit("/", 1)[1]
    )
    signer = _signer(at)

    assert signer.read(token) is not None
    for bad in (token[:-2] + "xx", other_key, download, "", "not.a.token", token + "."):
        assert signer.read(bad) is None
