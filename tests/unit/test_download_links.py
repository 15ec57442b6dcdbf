"""Customers' download links (``oms.services.downloads``) through a fake ``DownloadLinks``:
a forged link is 404, an expired one 410, before anything is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from oms.domain.errors import Gone, NotFound
from oms.services.downloads import DownloadGrant, open_download
from oms.services.ports import UnitOfWorkFactory

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class _Links:
    """Links whose token is a key into the grants it was given."""

    def __init__(self, grants: dict[str, DownloadGrant]) -> None:
        self.grants = grants

    def link(self, grant: DownloadGrant) -> str:
        token = str(len(self.grants))
        self.grants[token] = grant
        return f"https://oms.test/downloads/{token}"

    def read(self, token: str) -> DownloadGrant | None:
        return self.grants.get(token)


def _no_database(**_: object) -> object:
    raise AssertionError("the database was touched")


NO_DATABASE: UnitOfWorkFactory = _no_database  # type: ignore[assignment]


def test_a_forged_link_is_not_found_without_touching_the_database() -> None:
    with pytest.raises(NotFound):
        open_download(uow_factory=NO_DATABASE, token="forged", links=_Links({}), now=NOW)


@pytest.mark.parametrize("past", [timedelta(0), timedelta(seconds=1), timedelta(days=400)])
def test_a_link_from_its_expiry_on_is_gone_without_touching_the_database(
    past: timedelta,
) -> None:
    grant = DownloadGrant(uuid4(), uuid4(), 1, expires_at=NOW - past)
    links = _Links({"t": grant})

    with pytest.raises(Gone, match="expired"):
        open_download(uow_factory=NO_DATABASE, token="t", links=links, now=NOW)
