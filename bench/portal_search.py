"""The portal's order search and order page, timed for ``bench/portal.py``.

* in process, the use case the page calls (``order_overview.find_orders``) for each kind of
  text a person types: part of a name (a last name, shared by about one order in 40; a
  first name and the start of a last name, a dozen orders), an e-mail, an order number, a
  tracking number and a text nobody has (the worst case without an index: every order of
  the tenant read);
* the search's statement alone, as the database runs it (``EXPLAIN ANALYZE``: planning and
  execution time on the server, untouched by a busy Python process), for the same texts;
* the pages as the portal serves them, over HTTP through the ASGI app in process
  (``TestClient``: no socket, but the session cookie, the templates and every middleware):
  ``/app/orders?q=...`` for the same texts and ``/app/orders/{tenant}/{order}``, signed in
  as a merchant admin. That is the server's time for the page.

Each call draws its subject from the seeded data with a seeded RNG.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.passwords import Argon2Hasher
from oms.api.app import create_app
from oms.config import Settings
from oms.domain.users import Role
from oms.services.order_overview import find_orders
from oms.services.ports import OrderSearch
from oms.services.users import create_user

__all__ = ["search_subjects", "time_order_pages", "time_order_search", "time_search_in_database"]

Timer = Callable[[str, int, Callable[[int], Any]], tuple[float, float]]
PASSWORD = "a bench password long enough"
NOBODY = "zq-nobody-xk"


def search_subjects(url: str, tenant_id: UUID) -> dict[str, list[Any]]:
    """Names, e-mails, numbers, tracking numbers and order ids of ``tenant_id``."""
    with psycopg.connect(url) as conn:
        orders = conn.execute(
            "SELECT id, number, customer_email, customer_name FROM orders "
            "WHERE tenant_id = %s AND customer_name IS NOT NULL ORDER BY random() LIMIT 500",
            (tenant_id,),
        ).fetchall()
        tracking = conn.execute(
            "SELECT tracking_number FROM tracking_numbers WHERE tenant_id = %s "
            "ORDER BY random() LIMIT 500",
            (tenant_id,),
        ).fetchall()
    names = [str(row[3]) for row in orders]
    return {
        "ids": [row[0] for row in orders],
        "numbers": [row[1] for row in orders],
        "emails": [row[2] for row in orders],
        "last_names": [name.split()[-1].lower() for name in names],
        "name_starts": [f"{name.split()[0]} {name.split()[-1][:3]}" for name in names],
        "tracking": [row[0] for row in tracking],
    }


def _texts(subjects: dict[str, list[Any]], rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "a last name (1 order in 40)": lambda: rng.choice(subjects["last_names"]),
        "a first name and 3 letters": lambda: rng.choice(subjects["name_starts"]),
        "an e-mail": lambda: rng.choice(subjects["emails"]),
        "an order number": lambda: f"#{rng.choice(subjects['numbers'])}",
        "a tracking number": lambda: rng.choice(subjects["tracking"]),
        "a text no order has": lambda: NOBODY,
    }


def time_order_search(
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    subjects: dict[str, list[Any]],
    rng: random.Random,
    calls: int,
    timed: Timer,
) -> None:
    """The search use case, first page (51 rows asked, as the page asks)."""
    for label, text in _texts(subjects, rng).items():
        timed(
            f"order search: {label}",
            calls,
            lambda _, text=text: find_orders(  # type: ignore[misc]
                uow_factory=uow,
                tenant_id=tenant_id,
                search=OrderSearch(text=text()),
                before_id=None,
                limit=51,
            ),
        )


def _signed_in(client: TestClient, uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> None:
    user = create_user(
        uow_factory=uow,
        hasher=Argon2Hasher(cheap=True),
        email=f"bench-{uuid4().hex[:8]}@bench.test",
        role=Role.MERCHANT_ADMIN,
        tenant_id=tenant_id,
        password=PASSWORD,
    )
    form = client.get("/app/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/app/login",
        data={"csrf_token": token.group(1), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def time_order_pages(
    settings: Settings,
    engine: Engine,
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    subjects: dict[str, list[Any]],
    rng: random.Random,
    calls: int,
    timed: Timer,
) -> None:
    """``/app/orders?q=`` for each kind of text, the first page unfiltered, and the order
    page, as a signed-in merchant admin gets them."""
    with TestClient(create_app(settings, engine=engine)) as client:
        # The app loads its geocoding data in a thread at start; the pages wait for none of
        # it, but it holds the interpreter for its first seconds.
        for thread in threading.enumerate():
            if thread.name == "geocoder-warm-up":
                thread.join()
        _signed_in(client, uow, tenant_id)

        def page(
            path: Callable[[], str], query: Callable[[], dict[str, str]] = dict
        ) -> Callable[[int], None]:
            def call(_: int) -> None:
                answer = client.get(path(), params=query())
                assert answer.status_code == 200, answer.status_code

            return call

        timed("GET /app/orders (first page)", calls, page(lambda: "/app/orders"))
        for label, text in _texts(subjects, rng).items():
            timed(
                f"GET /app/orders?q= {label}",
                calls,
                page(lambda: "/app/orders", lambda text=text: {"q": text()}),  # type: ignore[misc]
            )
        timed(
            "GET /app/orders/{tenant}/{order} (the order page)",
            calls,
            page(lambda: f"/app/orders/{tenant_id}/{rng.choice(subjects['ids'])}"),
        )


def time_search_in_database(
    engine: Engine, tenant_id: UUID, subjects: dict[str, list[Any]], rng: random.Random, calls: int
) -> None:
    """Server time of the search statement(s) for each kind of text: planning plus
    execution as ``EXPLAIN ANALYZE`` reports them (the tracking-number lookup, where the
    repository runs one first, included)."""
    from oms.adapters.db.repositories import order_search

    tracked_statement = getattr(order_search, "tracked_statement", None)

    def server_ms(conn: Any, statement: Any) -> float:
        compiled = statement.compile(
            dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
        )
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params)
        plan = rows.scalar()[0]
        return float(plan["Planning Time"]) + float(plan["Execution Time"])

    for label, text in _texts(subjects, rng).items():
        samples = []
        with engine.connect() as conn:
            for i in range(calls + 2):
                asked = text()
                spent, tracked = 0.0, []
                if tracked_statement is not None:
                    lookup = tracked_statement(tenant_id, asked)
                    spent += server_ms(conn, lookup)
                    tracked = list(conn.execute(lookup).scalars())
                search = OrderSearch(text=asked)
                statement = (
                    order_search.search_statement(tenant_id, search, None, 51, tracked)
                    if tracked_statement is not None
                    else order_search.search_statement(tenant_id, search, None, 51)
                )
                spent += server_ms(conn, statement)
                if i >= 2:  # two warm-up calls, as ``timed``
                    samples.append(spent)
        ordered = sorted(samples)
        p50, p95 = ordered[len(ordered) // 2], ordered[round(0.95 * (len(ordered) - 1))]
        print(
            f"{'database: ' + label:<52} p50 {p50:7.2f}  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms"
        )
