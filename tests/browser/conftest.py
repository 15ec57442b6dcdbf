"""Browser fixtures: a real HTTP server of the app on a free port with a database of the
module's own, one per test module, and Debian's Chromium (``/usr/bin/chromium``) driven by
Playwright, one for all the browser tests a process runs (each test opens a context of its
own, so no cookies or storage are shared).

The browser is never downloaded: without ``/usr/bin/chromium`` the tests are skipped with
the reason, unless ``OMS_REQUIRE_BROWSER=1`` (``.ci/run`` sets it), which makes that a
failure. Screenshots go to ``test-artefacts/portal/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.config import Environment, Settings
from oms.web.pages import PageClock

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "portal"


@dataclass(frozen=True)
class Served:
    """The running app: its base URL, an HTTP client on it and its database."""

    url: str
    http: httpx.Client
    uow: SqlUnitOfWorkFactory


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def page_clock() -> PageClock | None:
    """The public pages' clocks for the module's app (None: the real ones); a module whose
    pages judge time overrides it."""
    return None


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, page_clock: PageClock | None
) -> Iterator[Served]:
    """``create_app`` behind uvicorn in a thread, on a SQLite database of the module's own
    (a copy of the session's migrated one)."""
    path = tmp_path_factory.mktemp("portal") / "portal.db"
    shutil.copyfile(sqlite_template, path)
    port = _free_port()
    settings = Settings(
        database_url=f"sqlite:///{path}",
        environment=Environment.TEST,
        public_url=f"http://127.0.0.1:{port}",
    )
    engine = build_engine(settings)
    config = uvicorn.Config(
        create_app(settings, engine=engine, page_clock=page_clock),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="portal-server", daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert server.started, "the portal's server did not start"
    url = f"http://127.0.0.1:{port}"
    # A loaded machine (CI beside other jobs) can take longer than httpx's default 5 s.
    with httpx.Client(base_url=url, timeout=60) as http:
        yield Served(url=url, http=http, uow=SqlUnitOfWorkFactory(engine))
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian, closed after the last browser test of the process."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: the portal's browser tests need Debian's chromium"
        if os.environ.get("OMS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
