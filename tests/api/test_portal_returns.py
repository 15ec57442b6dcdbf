"""The portal's returns: the queue with its filters, approve and reject with a note, the
return page's refund button showing the computed amount, and the inspection screen (scan a
SKU, choose a disposition, read the result), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.returns import WantedLine
from oms.domain.users import Role, User
from oms.services import returns
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.returns_fixtures import client, uow
from tests.api.support import ApiTenant, TestClient, new_tenant
from tests.builders import TESTER
from tests.integration.returns_support import (
    SHIPPED_AT,
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
    stock_at_near,
)

__all__ = ["client", "returns_engine", "uow"]


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "portal returns shop")
    open_shop(uow, tenant.id)
    return tenant


@pytest.fixture
def admin(uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(uow, Role.MERCHANT_ADMIN, shop.id)


def _asked(uow: SqlUnitOfWorkFactory, shop: UUID, sku: str, reason: str) -> returns.ReturnRequest:
    order = shipped_order(uow, shop, (sku, 2))
    found, _ = returns.request_return(
        uow_factory=uow,
        tenant_id=shop,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, reason),)),
        actor=TESTER,
        at=SHIPPED_AT + timedelta(days=4),
    )
    return found


def test_the_queue_filters_and_decides_with_a_note(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: ApiTenant, admin: User
) -> None:
    waiting = _asked(uow, shop.id, "X", "changed_mind")
    approved = _asked(uow, shop.id, "Y", "defective")  # approved by the policy
    rejected = _asked(uow, shop.id, "Z", "wrong_size")
    sign_in(client, admin)
    queue = client.get("/app/returns", params={"status": "requested"})
    assert queue.status_code == 200
    assert f"#{waiting.order_number}" in queue.text
    assert f"#{approved.order_number}<" not in queue.text
    by_reason = client.get("/app/returns", params={"reason": "defective"}).text
    assert f"#{approved.order_number}<" in by_reason
    assert f"#{waiting.order_number}<" not in by_reason

    base = f"/app/returns/{shop.id}"
    token = csrf_of(queue.text)
    ok = client.post(
        f"{base}/{waiting.id}/approve",
        data={"csrf_token": token, "note": "fine", "back": "queue"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"].startswith("/app/returns?")
    no_note = client.post(
        f"{base}/{rejected.id}/reject", data={"csrf_token": token, "back": "queue"}
    )
    assert no_note.status_code == 422
    assert "Say why the return is rejected" in no_note.text
    refused = client.post(
        f"{base}/{rejected.id}/reject",
        data={"csrf_token": token, "note": "worn", "back": "queue"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    statuses = {
        r.id: r.status.value
        for r in (
            returns.get_return(uow_factory=uow, tenant_id=shop.id, return_id=x.id)
            for x in (waiting, rejected)
        )
    }
    assert statuses == {waiting.id: "approved", rejected.id: "rejected"}


def test_inspection_scans_units_and_the_refund_button_shows_the_computed_amount(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: ApiTenant, admin: User
) -> None:
    request = _asked(uow, shop.id, "Z", "defective")
    sign_in(client, admin)
    here = f"/app/returns/{shop.id}/{request.id}"
    page = client.get(here)
    assert page.status_code == 200
    assert f"{here}/refund" not in page.text  # nothing to refund before the units are in
    screen = client.get(f"{here}/inspect")
    assert re.search(r'<input id="scan"[^>]*autofocus', screen.text)
    token = csrf_of(screen.text)
    wrong = client.post(
        f"{here}/inspect",
        data={"csrf_token": token, "sku": "X", "disposition": "restock", "location": "NEAR"},
    )
    assert wrong.status_code == 422
    assert "X is not a unit this return still waits for" in wrong.text
    before = stock_at_near(uow, shop.id, "Z")
    scanned = client.post(
        f"{here}/inspect",
        data={"csrf_token": token, "sku": "z", "disposition": "restock", "location": "NEAR"},
    )
    assert scanned.status_code == 200
    assert 'class="scan-headline">Z: 1 unit restocked (available again)' in scanned.text
    assert stock_at_near(uow, shop.id, "Z")[1] == before[1] + 1

    quote = returns.preview_refund(uow_factory=uow, tenant_id=shop.id, return_id=request.id)
    assert quote is not None
    page = client.get(here)
    assert f"Refund {quote.amount} EUR</button>" in page.text
    paid = client.post(f"{here}/refund", data={"csrf_token": token, "key": f"portal:{request.id}"})
    assert paid.status_code == 200
    assert f"Refunded {quote.amount} EUR" in paid.text
    after = returns.get_return(uow_factory=uow, tenant_id=shop.id, return_id=request.id)
    assert after.refund_amount == quote.amount
    assert_books_balance(uow, shop.id)


def test_another_tenants_return_is_not_found(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: ApiTenant
) -> None:
    request = _asked(uow, shop.id, "X", "changed_mind")
    other = new_tenant(uow, "someone else")
    sign_in(client, new_user(uow, Role.MERCHANT_ADMIN, other.id))
    assert client.get(f"/app/returns/{shop.id}/{request.id}").status_code == 404
    assert f"#{request.order_number}<" not in client.get("/app/returns").text
