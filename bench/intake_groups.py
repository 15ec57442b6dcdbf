"""Order intake in groups, in-process: what placing an order costs oms and PostgreSQL.

Run it from the project root::

    .venv/bin/python bench/intake_groups.py [--group-size 16] [--groups 150]

    .venv/bin/python bench/intake_groups.py --group-size 16 --groups 8 --callgrind

``bench/intake.py`` measures the service under load over HTTP, where this machine's speed
drifts from one minute to the next, and CPU milliseconds per order drift with it.
This one measures the intake's own work, one group after another in one thread, with no
HTTP: the work an API worker's writer thread does (``oms.services.intake_group.place_group``)
and what PostgreSQL does for it. Under valgrind (``--callgrind``) it also counts the
instructions this process runs for the measured groups (it runs itself again under
``valgrind --tool=callgrind``, instrumenting only those groups; slow, so use few groups).
They repeat from run to run whatever else the machine does (docs/performance.md): a change
to the intake can be judged exactly.

What it does:

1. Re-creates the database ``oms_bench_groups`` (or ``--database``) on the server of
   ``--pg-url``, runs ``oms db upgrade`` on it and creates a tenant with
   ``oms tenant create --json``.
2. Seeds bench/intake.py's catalogue through the API, in-process: 3 locations, ``--skus``
   products, ample stock of each at each location.
3. Places ``--warmup`` groups and analyzes the database (as the statistics keeper of
   ``oms serve`` or autovacuum would have by then). Then places ``--groups`` groups of
   ``--group-size`` orders (those of bench/intake.py: 3 lines, a new customer and external
   id each), each read from its JSON body as the intake lane reads it.
4. Prints, per order of the measured groups: this process's CPU milliseconds, PostgreSQL's
   (its backends for this database, from ``/proc``), the wall time, and with
   ``--callgrind`` the instructions (counted by callgrind for the measured groups only,
   switched on and read with ``callgrind_control``). It checks every order was placed; it
   asserts nothing about the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

from starlette.exceptions import StarletteDeprecationWarning

from benchkit import CpuMeter, database_url, recreate_database, run_oms
from intake import catalogue_bodies, order_bodies

with warnings.catch_warnings():
    # Starlette now prefers the httpx2 package, which is not a dependency; httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

GROUPS_DB = "oms_bench_groups"
# Set in the run under valgrind: where callgrind writes its counts (``%p``: the pid).
UNDER_CALLGRIND = "OMS_BENCH_CALLGRIND_OUT"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--group-size", type=int, default=16, help="orders per group")
    parser.add_argument("--groups", type=int, default=150, help="measured groups")
    parser.add_argument("--warmup", type=int, default=20, help="groups before measuring")
    parser.add_argument("--skus", type=int, default=500, help="products in the catalogue")
    parser.add_argument("--seed", type=int, default=1, help="RNG seed for the orders")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an existing database on the server, used to create and drop the other",
    )
    parser.add_argument(
        "--database",
        default=GROUPS_DB,
        help="the database to re-create and use (another name lets two runs share a server)",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions: run again under valgrind's callgrind (slow: few groups)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="write cProfile statistics of the measured groups to FILE (read with pstats)",
    )
    args = parser.parse_args(argv)
    if args.group_size < 1 or args.groups < 1 or args.warmup < 0 or args.skus < 3:
        parser.error(
            "--group-size and --groups must be at least 1, --warmup not negative, --skus at least 3"
        )
    return args


def _callgrind(*args: str) -> None:
    """``callgrind_control`` on this process (which runs under callgrind)."""
    subprocess.run(
        ["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True, timeout=60
    )


def _instructions_counted(out_pattern: str) -> int:
    """The instructions of callgrind's first dump of this process (``callgrind_control -d``)."""
    dump = Path(out_pattern.replace("%p", str(os.getpid())) + ".1")
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def _under_callgrind(argv: Sequence[str]) -> int:
    """Run this script again under callgrind, instrumenting only what it switches on."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = os.environ.get("CG_KEEP", scratch)
        out = f"{scratch}/callgrind.%p"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            *argv,
        ]
        env = {**os.environ, UNDER_CALLGRIND: out, "PYTHONHASHSEED": "0"}
        try:
            done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
        except FileNotFoundError:
            print("--callgrind needs valgrind (Debian package valgrind)")
            return 2
        print(done.stdout, end="")
        if done.returncode != 0:
            print(done.stderr[-2000:], end="")
        return done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    counting = os.environ.get(UNDER_CALLGRIND)
    if args.callgrind and counting is None:
        return _under_callgrind(sys.argv[1:] if argv is None else argv)
    url = database_url(args.pg_url, args.database)
    recreate_database(args.pg_url, args.database)
    env = {**os.environ, "OMS_DATABASE_URL": url}
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "bench groups", "--json"], env))
    os.environ["OMS_DATABASE_URL"] = url

    # Imported once the database is chosen: the settings are read from the environment.
    from oms.adapters.geocoding.offline import OfflineGeocoder
    from oms.adapters.payments.registry import gateway_named
    from oms.api.app import create_app
    from oms.api.deps import Caller
    from oms.api.routers.orders import order_submission
    from oms.api.schemas.orders import OrderCreate
    from oms.domain.orders import Actor
    from oms.services.intake_group import Submission, place_group

    app = create_app()
    settings = app.state.oms.settings
    skus = [f"SKU-{n:05d}" for n in range(args.skus)]
    headers = {"Authorization": f"Bearer {tenant['api_key']}", "Content-Type": "application/json"}
    client = TestClient(app)  # without its lifespan: no statistics keeper meanwhile
    for path, bodies in zip(
        ("/v1/locations", "/v1/products", "/v1/inventory/adjustments"),
        catalogue_bodies(skus),
        strict=True,
    ):
        for body in bodies:
            answer = client.post(path, content=body, headers=headers)
            if answer.status_code not in (200, 201):
                print(f"seeding {path} failed: {answer.status_code} {answer.text}")
                return 1
    uow_factory = app.state.oms.uow_factory
    geocoder = OfflineGeocoder()
    geocoder.warm_up()
    gc.collect()
    gc.freeze()  # as an API worker does once its indexes are built
    caller = Caller(uuid.UUID(tenant["tenant_id"]), Actor("api_key", "bench"))
    rng = random.Random(args.seed)

    def groups(prefix: str, count: int) -> list[list[Submission]]:
        bodies = order_bodies(rng, skus, prefix, count * args.group_size)
        submissions = [
            order_submission(OrderCreate.model_validate_json(b), caller, settings, None)
            for b in bodies
        ]
        size = args.group_size
        return [submissions[i : i + size] for i in range(0, len(submissions), size)]

    def place(batch: list[list[Submission]]) -> int:
        placed = 0
        for group in batch:
            outcomes = place_group(
                uow_factory=uow_factory,
                gateways=gateway_named,
                geocoder=geocoder,
                submissions=group,
            )
            placed += sum(1 for o in outcomes if not isinstance(o, Exception) and o.created)
        return placed

    place(groups("warmup", args.warmup))
    with app.state.oms.uow_factory.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # as the statistics keeper would have by now
    measured = groups("order", args.groups)
    meter = CpuMeter(server_group=-1, database=args.database)
    if counting is not None:
        _callgrind("--instr=on")
        _callgrind("--zero")
    profiler = cProfile.Profile() if args.profile else None
    meter.start()
    began = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    placed = place(measured)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    wall = time.perf_counter() - began
    cpu = meter.stop()
    instructions = None
    if counting is not None:
        _callgrind("--dump")
        _callgrind("--instr=off")
        instructions = _instructions_counted(counting)
    orders = args.groups * args.group_size
    print(f"groups of {args.group_size}, {args.groups} groups: {placed} of {orders} orders placed")
    print(f"wall ms/order              {1000 * wall / orders:.3f}")
    if cpu is not None:
        print(f"cpu ms/order oms           {1000 * cpu.client / orders:.3f}")
        print(f"cpu ms/order postgres      {1000 * cpu.postgres / orders:.3f}")
    if instructions is not None:
        print(f"instructions/order oms     {instructions / orders:,.0f}  (callgrind)")
    return 0 if placed == orders else 1


if __name__ == "__main__":
    sys.exit(main())
