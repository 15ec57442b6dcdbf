"""The return form of the order status page's HTML: ``POST /status/{slug}/returns/form``, a
plain form post (no script), answered with a page that says what happened (201) or the
status page again with each problem next to its field (422).

The post carries how the page was opened (the signed link's token, or the number with the
email or postal code), so the order is found exactly as ``GET /status/{slug}`` finds it;
the return itself needs the email the order was placed with, typed in the form, and goes
through ``customer_returns.customer_return`` like the JSON call. Counted against the public
pages' rate limit.

An exchange: each returned line names its replacement (``exchange-<line_no>``, one of the
products the page offers for it, ``oms.domain.exchange_choices``), as many units as go
back; the replacements are the request's ``exchange_lines`` (the same product chosen for two
lines asked for once, their units added), placed, reserved and routed by the same use case
as staff's exchanges. A replacement out of stock is refused next to its line (409) or
backordered, by the shop's policy.

Cross-site posts are refused (403) by a same-origin check: a browser's ``Sec-Fetch-Site``
must be ``same-origin`` (or ``none``: typed by the person), and an ``Origin`` header must
name this host. (The pages' ``Referrer-Policy: no-referrer`` makes browsers send ``Origin:
null`` for the page's own posts, so ``null`` is not compared; ``Sec-Fetch-Site`` is.) The
pages set no cookie and the form asks for the email itself, so a forged post would have
nothing to ride on anyway; the check keeps other sites from posting the form in the
customer's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from oms.api.deps import GatewaysDep, UowDep
from oms.domain.errors import Conflict, Gone, InvalidRequest, NotFound
from oms.domain.returns import Resolution, WantedLine
from oms.services import order_status
from oms.services.customer_returns import customer_return, replacement_of
from oms.services.exchanges import ExchangeLine, ExchangeRefused
from oms.services.order_status import OrderStatusPage, StatusGrants
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWorkFactory
from oms.services.return_offer import (
    ChoiceProblem,
    ReturnOffer,
    chosen_exchange,
    exchange_lines_of,
)
from oms.services.returns import NewReturn
from oms.web.pages import PublicPages
from oms.web.routes import RATE_LIMITED, GrantsDep, PagesDep

__all__ = ["ReturnForm", "router"]

router = APIRouter(tags=["public"])

LOOKUP_FIELDS = ("token", "number", "email", "postal_code")
NOTE_LIMIT = 2000
_LINE = re.compile(r"#/lines/(\d+)(?:/(quantity|reason|line_no))?")
_EXCHANGE_LINE = re.compile(r"#/exchange_lines/(\d+)(?:/\w+)?")


@dataclass
class ReturnForm:
    """What the customer filled in, and the problems to show next to each field (keys:
    ``return_email``, ``resolution``, ``note``, ``lines``, ``qty-<line_no>``, ``reason-<line_no>``,
    ``exchange-<line_no>``; ``form`` for the form as a whole). ``chosen``: each returned
    line's replacement SKU, for an exchange."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    chosen: dict[int, str] = field(default_factory=dict)

    def exchange_lines(self, wanted: list[WantedLine]) -> tuple[ExchangeLine, ...]:
        """The replacements asked for (``exchange_lines_of``)."""
        return exchange_lines_of(wanted, self.chosen)

    def lines_choosing(self, sku: str) -> list[int]:
        """The returned lines whose replacement is ``sku``."""
        return [line_no for line_no, chosen in self.chosen.items() if chosen == sku]


def same_origin(headers: Mapping[str, str]) -> bool:
    """Whether a browser sent the post from this host's own page (see the module docstring);
    a client that is no browser sends neither header and passes."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    # The pages' Referrer-Policy (no-referrer) makes browsers send "Origin: null" even from
    # the page itself, so only a real origin is compared.
    if origin is not None and origin != "null":
        return urlsplit(origin).netloc == headers.get("host", "")
    return True


def _reopen(
    uow: UnitOfWorkFactory,
    grants: StatusGrants,
    pages: PublicPages,
    slug: str,
    asked: dict[str, str],
) -> OrderStatusPage:
    """The order the form was on, found as the page found it (NotFound or Gone otherwise)."""
    now = pages.clock.now()
    if asked["token"]:
        return order_status.open_order(
            uow_factory=uow, slug=slug, token=asked["token"], grants=grants, now=now
        )
    if not asked["number"] or not (asked["email"] or asked["postal_code"]):
        raise NotFound(order_status.NO_MATCH)
    return order_status.find_order(
        uow_factory=uow,
        slug=slug,
        number=asked["number"],
        email=asked["email"] or None,
        postal_code=asked["postal_code"] or None,
        now=now,
    )


def _read(page: OrderStatusPage, raw: Mapping[str, str]) -> tuple[ReturnForm, list[WantedLine]]:
    """The form's values checked against what the page offers."""
    offer = page.returns
    form = ReturnForm(values={k: v.strip() for k, v in raw.items() if isinstance(v, str)})
    wanted: list[WantedLine] = []
    if offer is None:
        form.errors["form"] = "Nothing of this order can be returned any more"
        return form, wanted
    for line in offer.lines:
        text = form.values.get(f"qty-{line.line_no}", "0") or "0"
        units = int(text) if text.isascii() and text.isdigit() else -1
        if not 0 <= units <= line.units:
            form.errors[f"qty-{line.line_no}"] = f"Choose from 0 to {line.units}"
            continue
        if units == 0:
            continue
        reason = form.values.get(f"reason-{line.line_no}", "")
        if reason not in offer.reasons:
            form.errors[f"reason-{line.line_no}"] = "Choose why you are sending it back"
            continue
        wanted.append(WantedLine(line.line_no, units, reason))
    if not wanted and not form.errors:
        form.errors["lines"] = "Choose at least one item to send back"
    if "@" not in form.values.get("return_email", ""):
        form.errors["return_email"] = "Enter the email address you ordered with"
    if form.values.get("resolution", "refund") not in offer.resolutions:
        form.errors["resolution"] = "Choose how you would like to be paid back"
    else:
        _read_exchanges(offer, form, wanted)
    if len(form.values.get("note", "")) > NOTE_LIMIT:
        form.errors["note"] = f"At most {NOTE_LIMIT} characters"
    return form, wanted


_CHOICE_WORDS = {
    ChoiceProblem.NOTHING_OFFERED: "This item cannot be exchanged: ask for a refund of it instead",
    ChoiceProblem.NOT_CHOSEN: "Choose what you would like instead",
    ChoiceProblem.NOT_OFFERED: "Choose one of the items offered",
}


def _read_exchanges(offer: ReturnOffer, form: ReturnForm, wanted: list[WantedLine]) -> None:
    """Each returned line's replacement, for an exchange: one of the products offered for
    it (``chosen_exchange``); a replacement chosen without an exchange (or without units)
    is a problem to show, not something to drop."""
    returned = {item.line_no for item in wanted}
    picked = {
        line.line_no: sku
        for line in offer.lines
        if (sku := form.values.get(f"exchange-{line.line_no}", ""))
    }
    if form.values.get("resolution") != "exchange":
        if picked.keys() & returned:
            form.errors["resolution"] = (
                "You chose something instead: choose an exchange, or set it back to none"
            )
        return
    checked = chosen_exchange(offer, wanted, picked)
    for line_no, problem in checked.problems.items():
        if problem is not ChoiceProblem.NOT_RETURNED:
            form.errors[f"exchange-{line_no}"] = _CHOICE_WORDS[problem]
        elif not {f"qty-{line_no}", f"reason-{line_no}"} & form.errors.keys():
            form.errors[f"qty-{line_no}"] = "Choose how many to send back in exchange"
    form.chosen = {n: sku for n, sku in picked.items() if n in returned}


def _out_of_stock(form: ReturnForm, page: OrderStatusPage, refused: ExchangeRefused) -> None:
    """The replacements the stock could not hold, said next to the lines that chose them."""
    offer = page.returns
    for shortage in refused.shortages:
        for line_no in form.lines_choosing(shortage.sku):
            line = offer.line(line_no) if offer else None
            names = {c.sku: c.name for c in line.exchanges} if line else {}
            name = names.get(shortage.sku, shortage.sku)
            form.errors[f"exchange-{line_no}"] = (
                f"{name} is out of stock now: choose another item, or a refund"
            )
    if not any(key.startswith("exchange-") for key in form.errors):
        form.errors["form"] = "What you chose instead is out of stock now"


def _place(form: ReturnForm, wanted: list[WantedLine], refused: InvalidRequest) -> None:
    """The service's refusal put next to the fields it names."""
    asked = form.exchange_lines(wanted)
    for error in refused.errors:
        match = _LINE.fullmatch(error.pointer)
        exchange = _EXCHANGE_LINE.fullmatch(error.pointer)
        if exchange and int(exchange.group(1)) < len(asked):
            for line_no in form.lines_choosing(asked[int(exchange.group(1))].sku):
                form.errors[f"exchange-{line_no}"] = (
                    "This item cannot be sent any more: choose another one"
                )
        elif match and int(match.group(1)) < len(wanted):
            line_no = wanted[int(match.group(1))].line_no
            kind = "reason" if match.group(2) == "reason" else "qty"
            form.errors[f"{kind}-{line_no}"] = error.detail
        elif error.pointer == "#/resolution":
            form.errors["resolution"] = error.detail
        else:
            form.errors["form"] = f"{refused.detail}: {error.detail}"
    if not refused.errors:
        form.errors["form"] = refused.detail


def _answer(
    uow: UnitOfWorkFactory,
    grants: StatusGrants,
    pages: PublicPages,
    gateways: GatewayProvider,
    slug: str,
    raw: dict[str, str],
) -> Response:
    asked = {name: raw.get(name, "").strip() for name in LOOKUP_FIELDS}
    try:
        page = _reopen(uow, grants, pages, slug, asked)
    except (NotFound, Gone) as refused:
        try:
            shop = order_status.shop_named(uow_factory=uow, slug=slug)
        except NotFound:
            return pages.render("not_found.html", status=404, what="shop")
        return pages.render(
            "status_form.html",
            status=410 if isinstance(refused, Gone) else 404,
            branding=shop.branding,
            slug=shop.slug,
            asked={k: asked[k] for k in ("number", "email", "postal_code")},
            message=refused.detail,
        )
    form, wanted = _read(page, {k: v for k, v in raw.items() if k not in LOOKUP_FIELDS})

    def again(status: int) -> Response:
        return pages.render(
            "status.html",
            status=status,
            branding=page.shop.branding,
            page=page,
            slug=page.shop.slug,
            lookup=asked,
            form=form,
        )

    if form.errors:
        return again(422)
    note = form.values.get("note") or None
    try:
        made = customer_return(
            uow_factory=uow,
            slug=slug,
            number=str(page.number),
            email=form.values["return_email"],
            command=NewReturn(
                lines=tuple(wanted),
                resolution=Resolution(form.values.get("resolution", "refund")),
                note=note,
                exchange_lines=form.exchange_lines(wanted),
            ),
            gateways=gateways,
        )
    except NotFound:
        form.errors["return_email"] = "This is not the email address the order was placed with"
        return again(422)
    except InvalidRequest as refused:
        _place(form, wanted, refused)
        return again(422)
    except ExchangeRefused as refused:  # a replacement out of stock, the policy refuses
        _out_of_stock(form, page, refused)
        return again(409)
    except Conflict as refused:  # the window closed, store credit without a customer
        form.errors["form"] = refused.detail
        return again(409)
    names = {line.line_no: line.name for line in page.returns.lines} if page.returns else {}
    opened = {k: v for k, v in asked.items() if v}
    return pages.render(
        "return_requested.html",
        status=201,
        branding=page.shop.branding,
        slug=page.shop.slug,
        page=page,
        made=made,
        replacement=replacement_of(uow_factory=uow, request=made),
        names=names,
        back=f"/status/{page.shop.slug}?{urlencode(opened)}",
    )


@router.post("/status/{slug}/returns/form", include_in_schema=False, dependencies=RATE_LIMITED)
async def return_form(
    slug: str,
    request: Request,
    uow: UowDep,
    pages: PagesDep,
    grants: GrantsDep,
    gateways: GatewaysDep,
) -> Response:
    """The status page's return form, posted (see the module docstring)."""
    if not same_origin(request.headers):
        return await run_in_threadpool(pages.render, "cross_site.html", status=403)
    posted = await request.form(max_files=0, max_fields=300)
    raw: dict[str, Any] = {k: v for k, v in posted.items() if isinstance(v, str)}
    return await run_in_threadpool(_answer, uow, grants, pages, gateways, slug, raw)
