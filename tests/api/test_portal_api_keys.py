"""API keys in the portal: an admin makes a key (its secret shown once, on the answer, and it
works on the API), revokes one (the API refuses it from then on); a viewer may not; another
tenant's key is the 404 page and stays active; an operator looking at all tenants is asked
to pick one before making a key, and revokes any key it sees."""

from __future__ import annotations

import re
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.users import Role, User
from tests.api.portal_pages import read
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient

KEYS = "/app/settings/api-keys"


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, tenant.id)


def _post(client: TestClient, action: str, **data: str) -> Any:
    token = csrf_of(client.get(KEYS).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _secret(html: str) -> str:
    found = re.search(r'<p class="secret" id="secret">([^<]+)</p>', html)
    assert found is not None, "no secret on the page"
    return found.group(1)


def _rows(client: TestClient) -> list[list[str]]:
    return read(client.get(KEYS).text).tables["keys"][1:]


def _key_id(client: TestClient, prefix: str) -> str:
    found = re.search(
        rf'action="{KEYS}/([0-9a-f-]+)/revoke"[^>]*>.*?\({re.escape(prefix)}\)',
        client.get(KEYS).text,
    )
    assert found is not None, f"no revoke form for {prefix}"
    return found.group(1)


def test_an_admin_makes_a_key_sees_it_once_and_revokes_it(
    client: TestClient, admin: User, tenant: ApiTenant
) -> None:
    sign_in(client, admin)

    too_long = _post(client, KEYS, name="x" * 300)
    made = _post(client, KEYS, name="ERP bridge")
    secret = _secret(made.text)
    works = client.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"})
    listed = client.get(KEYS).text
    key_id = _key_id(client, secret[:12])
    revoked = _post(client, f"{KEYS}/{key_id}/revoke")
    refused = client.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"})

    assert too_long.status_code == 303
    assert "No key made" in client.get(too_long.headers["location"]).text
    assert made.status_code == 200
    assert "shown this once" in made.text
    assert works.status_code == 200
    assert secret not in listed
    assert ["ERP bridge", secret[:12]] == next(
        row[:2] for row in read(listed).tables["keys"][1:] if row[0] == "ERP bridge"
    )
    assert revoked.status_code == 303
    assert "revoked" in client.get(revoked.headers["location"]).text
    assert refused.status_code == 401
    [row] = [r for r in _rows(client) if r[0] == "ERP bridge"]
    assert row[4] != "no"
    again = _post(client, f"{KEYS}/{key_id}/revoke")
    assert again.status_code == 404


def test_a_viewer_may_not_and_another_tenants_key_is_not_found(
    client: TestClient,
    admin: User,
    tenant: ApiTenant,
    other_tenant: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
) -> None:
    operator = new_user(api_uow, Role.OPERATOR_ADMIN)
    sign_in(client, operator)
    theirs = _key_id(client, other_tenant.secret[:12])
    viewer = new_user(api_uow, Role.MERCHANT_VIEWER, tenant.id)
    sign_in(client, viewer)

    by_viewer = _post(client, KEYS, name="sneaky")
    viewer_page = client.get(KEYS).text
    sign_in(client, admin)
    not_mine = _post(client, f"{KEYS}/{theirs}/revoke")
    no_token = client.post(KEYS, data={"name": "no token"}, follow_redirects=False)

    assert by_viewer.status_code == 403
    assert "Make the key" not in viewer_page
    assert not_mine.status_code == 404
    assert no_token.status_code == 403
    assert client.get("/v1/orders", headers=other_tenant.headers).status_code == 200


def test_an_operator_picks_a_tenant_to_make_a_key_and_revokes_any_key_in_view(
    client: TestClient, other_tenant: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    operator = new_user(api_uow, Role.OPERATOR_ADMIN)
    sign_in(client, operator)

    asked_to_pick = _post(client, KEYS, name="for whom")
    theirs = _key_id(client, other_tenant.secret[:12])
    revoked = _post(client, f"{KEYS}/{theirs}/revoke")

    assert asked_to_pick.status_code == 200
    assert "Pick the tenant" in asked_to_pick.text
    assert revoked.status_code == 303
    assert client.get("/v1/orders", headers=other_tenant.headers).status_code == 401
