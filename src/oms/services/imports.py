"""CSV import: products, inventory levels and orders, row by row all-or-nothing, in batches.

    rows (streamed) -> parsed (import_rows)  -> a row's problems go to the error report
                    -> batch of N rows        -> one transaction: each row checked, then written
                                                 (a row refused leaves the others of its batch)
                    -> the batch fails as a whole (storage error)?  each row again alone

Re-running a file changes nothing (docs/import.md):

* products are upserted by SKU: a row equal to the stored product is ``unchanged``;
* inventory rows *set* a level (a count: on hand, safety stock), never add to it: a level
  already at the figure is ``unchanged`` and writes no ledger movement;
* orders go through the intake as channel ``csv`` with the file's ``order_id`` as the
  external id: an order placed before is found, not placed again.

A dry run does the same work in transactions that are rolled back, so it finds every
problem the real run would (an unknown location, stock reserved) and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import TypeVar
from uuid import UUID

from oms.domain.catalogue import Location, Product, location_named
from oms.domain.errors import FieldError, InsufficientStock, InvalidRequest, OmsError
from oms.domain.ids import new_id
from oms.domain.inventory import adjustment_delta
from oms.domain.money import is_known_currency
from oms.domain.orders import Actor
from oms.services import import_rows as parse
from oms.services.carts import expire_due_in
from oms.services.catalogue import NewProduct
from oms.services.common import retry_transient, utcnow
from oms.services.event_catalogue import stock_is_low
from oms.services.import_rows import ImportKind, InventoryRow, OrderRows, RowError, RowProblem
from oms.services.intake import PlacedOrder, place_in
from oms.services.intake_group import Submission, place_group
from oms.services.payments import GatewayProvider
from oms.services.ports import (
    LevelCount,
    OutboxMessage,
    TransientStorageError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from oms.services.rerouting import allocate_backorders
from oms.services.routing import Geocoder

__all__ = ["ImportRequest", "ImportSummary", "file_problems", "import_rows"]

T = TypeVar("T")
Cells = Mapping[str, str | None]
Applied = tuple[str, list["RowError"]]  # a row's outcome (created...) and its problems
KEPT_ERRORS = 1_000  # in the summary; the report (``on_error``) gets every one


@dataclass
class ImportSummary:
    """What an import did, row by row (``errors``: the first ``KEPT_ERRORS`` problems)."""

    kind: ImportKind
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportRequest:
    """One file's import: its kind, header, and rows as ``(row number, cells)``."""

    kind: ImportKind
    header: Sequence[str]
    rows: Iterable[tuple[int, Sequence[str]]]  # cells in the header's order
    dry_run: bool = False
    currency: str | None = None  # for files without a currency column (Shopify's)
    reference: str = "csv import"  # the ledger's reference of its movements
    batch_size: int = 500


class _Tally:
    def __init__(self, summary: ImportSummary, on_error: Callable[[RowError], None] | None):
        self.summary = summary
        self.on_error = on_error
        self.failed_rows: set[int] = set()

    def outcome(self, name: str, rows: int = 1) -> None:
        setattr(self.summary, name, getattr(self.summary, name) + rows)

    def errors(self, errors: Iterable[RowError], rows: int = 1) -> None:
        self.summary.failed += rows
        for error in errors:
            self.summary.error_count += 1
            if len(self.summary.errors) < KEPT_ERRORS:
                self.summary.errors.append(error)
            if self.on_error is not None:
                self.on_error(error)


def file_problems(request: ImportRequest) -> None:
    """Refuse a file the import cannot read at all (422): its header, its --currency."""
    problems = parse.header_problems(request.kind, request.header)
    if request.currency is not None and not is_known_currency(request.currency.upper()):
        problems.append(RowError(0, "currency", f"{request.currency!r} is not a currency"))
    if problems:
        raise InvalidRequest(
            "The file cannot be imported",
            [FieldError(f"row:{p.row}/{p.column}", p.message) for p in problems],
        )


def import_rows(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    request: ImportRequest,
    actor: Actor,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    on_error: Callable[[RowError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a file's rows, ``batch_size`` to a transaction; each row is applied whole or
    not at all, its problems reported as ``(row, column, message)``."""
    file_problems(request)
    when = at or utcnow()
    tally = _Tally(ImportSummary(kind=request.kind, dry_run=request.dry_run), on_error)
    header = parse.normal_header(request.kind, request.header)
    rows = ((n, dict(zip(header, cells, strict=False))) for n, cells in request.rows)
    currency = None if request.currency is None else request.currency.upper()
    done = _BatchDone(uow_factory, request.dry_run, on_progress)
    if request.kind is ImportKind.PRODUCTS:
        products = parse.product_rows(
            rows, shopify=parse.is_shopify_products(set(header)), default_currency=currency
        )
        given = parse.product_fields_given(header, currency)
        for batch in _batches(products, request.batch_size):
            _product_batch(uow_factory, tenant_id, batch, given, request.dry_run, when, tally)
            done.batch(tally)
    elif request.kind is ImportKind.INVENTORY:
        places = _Places(uow_factory, tenant_id)
        for stock in _batches(rows, request.batch_size):
            _inventory_batch(uow_factory, tenant_id, stock, places, request, actor, when, tally)
            done.batch(tally)
        if not request.dry_run and places.arrived:
            allocate_backorders(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                skus=sorted(places.arrived),
                geocoder=geocoder,
                gateways=gateways,
                at=when,
            )
    else:
        orders = parse.group_order_rows(rows)
        for group in _batches(orders, max(1, request.batch_size // 5)):
            _order_batch(
                uow_factory, gateways, geocoder, tenant_id, group, request, actor, when, tally
            )
            done.batch(tally)
    return tally.summary


class _BatchDone:
    """After each batch: the progress reported; after the first, second, fourth, eighth...
    once rows were written, the planner statistics of the tables that had none or grew
    several times refreshed (``PlannerStatistics``): an import into new or small tables
    would otherwise run on plans made while they were empty or small
    (oms.adapters.db.statistics)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        dry_run: bool,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.uow_factory = uow_factory
        self.on_progress = on_progress
        self.dry_run = dry_run  # writes nothing
        self.batches = 0

    def batch(self, tally: _Tally) -> None:
        s = tally.summary
        self.batches += 1
        doubled = self.batches & (self.batches - 1) == 0  # 1, 2, 4, 8...
        if doubled and not self.dry_run and s.created + s.updated:
            with self.uow_factory() as uow:
                uow.statistics.refresh_grown()
                uow.commit()
        if self.on_progress is not None:
            self.on_progress(s.created + s.updated + s.unchanged + s.skipped + s.failed)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _field_errors(row: int, error: OmsError, column_of: Callable[[str], str]) -> list[RowError]:
    if isinstance(error, InvalidRequest) and error.errors:
        return [RowError(row, column_of(e.pointer), e.detail) for e in error.errors]
    return [RowError(row, "", error.detail)]


def _in_batches_or_alone(
    rows: list[T],
    apply: Callable[[UnitOfWork, list[T]], list[tuple[str, list[RowError]]]],
    uow_factory: UnitOfWorkFactory,
    dry_run: bool,
    row_of: Callable[[T], int],
    tally: _Tally,
) -> None:
    """Apply ``rows`` in one transaction; if it fails as a whole, each row alone."""

    def attempt() -> list[Applied]:
        with uow_factory() as uow:
            applied = apply(uow, rows)
            if not dry_run:
                uow.commit()
            return applied

    try:
        # A row alone is retried as any use case is (a level that changed is read again).
        outcomes = retry_transient(attempt) if len(rows) == 1 else attempt()
    except Exception as error:
        if len(rows) == 1:
            tally.errors([RowError(row_of(rows[0]), "", f"could not be stored: {error}")])
            return
        for row in rows:
            _in_batches_or_alone([row], apply, uow_factory, dry_run, row_of, tally)
        return
    applied: Counter[str] = Counter()
    for outcome, errors in outcomes:
        if errors:
            tally.errors(errors)
        else:
            applied[outcome] += 1
    for outcome, rows_of_it in applied.items():
        tally.outcome(outcome, rows_of_it)


# --- products ---------------------------------------------------------------------------------

_PRODUCT_FIELDS = (
    "name",
    "price",
    "currency",
    "weight_grams",
    "category",
    "barcode",
    "length_mm",
    "width_mm",
    "height_mm",
)


def _product_batch(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    batch: list[tuple[int, NewProduct | RowProblem | None]],
    given: frozenset[str],
    dry_run: bool,
    at: datetime,
    tally: _Tally,
) -> None:
    ready: list[tuple[int, NewProduct]] = []
    for number, parsed in batch:
        if parsed is None:
            tally.outcome("skipped")
        elif isinstance(parsed, RowProblem):
            tally.errors(parsed.errors)
        else:
            ready.append((number, parsed))
    if ready:
        _in_batches_or_alone(
            ready,
            lambda uow, rows: _upsert_products(uow, tenant_id, rows, given, at),
            uow_factory,
            dry_run,
            lambda item: item[0],
            tally,
        )


def _upsert_products(
    uow: UnitOfWork,
    tenant_id: UUID,
    rows: list[tuple[int, NewProduct]],
    given: frozenset[str],
    at: datetime,
) -> list[Applied]:
    """Create the new SKUs, update the changed ones, leave the equal ones alone; a stored
    product keeps the fields the file has no column for."""
    known = uow.products.by_skus(tenant_id, {command.sku for _, command in rows})
    fresh: dict[str, Product] = {}  # added at the end, in one statement
    outcomes: list[Applied] = []
    for number, command in rows:
        found = known.get(command.sku)
        try:
            if found is None:
                product = Product(
                    id=new_id(),
                    tenant_id=tenant_id,
                    created_at=at,
                    **{name: getattr(command, name) for name in (*_PRODUCT_FIELDS, "sku", "kind")},
                )
                product.validate({})
                known[command.sku] = fresh[command.sku] = product
                outcomes.append(("created", []))
                continue
            if "kind" in given and found.kind is not command.kind:
                raise InvalidRequest(
                    "The kind cannot change",
                    [FieldError("#/kind", f"the product is {found.kind.value}")],
                )
            wanted = {name: getattr(command, name) for name in _PRODUCT_FIELDS if name in given}
            if all(getattr(found, name) == value for name, value in wanted.items()):
                outcomes.append(("unchanged", []))
                continue
            product = replace(found, **wanted)
            product.validate({})
            if command.sku in fresh:  # a SKU twice in the batch: the later row wins
                fresh[command.sku] = product
            else:
                uow.products.update(product)
            known[command.sku] = product
            outcomes.append(("updated", []))
        except InvalidRequest as refusal:
            outcomes.append(("failed", _field_errors(number, refusal, _product_column)))
    if len(uow.products.add_many(list(fresh.values()))) != len(fresh):
        raise TransientStorageError("a SKU of the batch was added meanwhile")
    return outcomes


def _product_column(pointer: str) -> str:
    return pointer.removeprefix("#/").split("/")[0]


# --- inventory --------------------------------------------------------------------------------


class _Places:
    """The tenant's locations by code, read once per import; SKUs whose stock grew."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> None:
        with uow_factory(readonly=True) as uow:
            self.visible = uow.locations.visible_to(tenant_id)
        self.tenant_id = tenant_id
        self.by_code: dict[str, Location | None] = {}
        self.arrived: set[str] = set()

    def named(self, code: str) -> Location | None:
        if code not in self.by_code:
            self.by_code[code] = location_named(self.visible, code, self.tenant_id)
        return self.by_code[code]


def _inventory_batch(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    batch: Sequence[tuple[int, Cells]],
    places: _Places,
    request: ImportRequest,
    actor: Actor,
    at: datetime,
    tally: _Tally,
) -> None:
    ready: list[tuple[InventoryRow, Location]] = []
    for number, cells in batch:
        try:
            row = parse.inventory_row(number, cells)
        except RowProblem as problem:
            tally.errors(problem.errors)
            continue
        location = places.named(row.location)
        if location is None:
            tally.errors([RowError(number, "location", f"no location {row.location!r}")])
            continue
        ready.append((row, location))
    if not ready:
        return
    # Levels are written in (SKU, location) order, as every use case locks them.
    # (``.int``: the UUID's order, compared without a Python-level call per comparison.)
    ready.sort(key=lambda item: (item[0].sku, item[1].id.int, item[0].row))
    arrived: set[str] = set()

    def apply(
        uow: UnitOfWork, rows: list[tuple[InventoryRow, Location]]
    ) -> list[tuple[str, list[RowError]]]:
        arrived.clear()
        return _set_levels(uow, tenant_id, rows, request.reference, actor, at, arrived)

    _in_batches_or_alone(ready, apply, uow_factory, request.dry_run, lambda i: i[0].row, tally)
    places.arrived |= arrived


def _set_levels(
    uow: UnitOfWork,
    tenant_id: UUID,
    rows: list[tuple[InventoryRow, Location]],
    reference: str,
    actor: Actor,
    at: datetime,
    arrived: set[str],
) -> list[Applied]:
    """Set each row's level (a count) with a ledger movement where it changes: the rows
    are decided against the levels as read, then every changed level is set at once,
    compared with what was read (a level changed meanwhile: the batch starts over). A
    level a second row of the batch changes again is set in a second round, after the
    first, so its movements follow the rows."""
    expire_due_in(uow, tenant_id, at)
    # A level's key here is (SKU, the location id's integer): a UUID is hashed through a
    # Python-level method, an int is not (each key is hashed several times below).
    wanted = {(row.sku, location.id.int): (row.sku, location.id) for row, location in rows}
    read = {
        (found.sku, found.location_id.int): found
        for found in uow.inventory.levels_to_count(tenant_id, list(wanted.values()))
    }
    # A level as the rows before left it: on hand, reserved, safety stock, and whether it
    # is stored (a level never stocked is made by its first count).
    levels: dict[tuple[str, int], tuple[int, int, int, bool]] = {}
    rounds: list[list[LevelCount]] = []
    counted: dict[tuple[str, int], int] = {}  # the rounds each level is in so far
    outcomes: list[Applied] = []
    messages: list[OutboxMessage] = []
    for row, location in rows:
        key = (row.sku, location.id.int)
        found = read.get(key)
        if found is None or not found.holds_stock:
            why = "no product with this SKU" if found is None else "this product holds no stock"
            outcomes.append(("failed", [RowError(row.row, "sku", why)]))
            continue
        level = levels.get(key)
        if level is None:
            level = (
                (0, 0, 0, False)
                if found.on_hand is None
                else (found.on_hand, found.reserved, found.safety_stock, True)
            )
        was, reserved, was_safety, stored = level
        try:
            change = (
                0
                if row.on_hand is None
                else adjustment_delta(on_hand=was, delta=None, set_on_hand=row.on_hand)
            )
        except InvalidRequest as refusal:
            outcomes.append(("failed", _field_errors(row.row, refusal, lambda _: "on_hand")))
            continue
        on_hand = was + change
        safety = was_safety if row.safety_stock is None else row.safety_stock
        if on_hand < reserved:
            why = f"{reserved} units are reserved at {location.code}; on hand cannot go below that"
            outcomes.append(("failed", [RowError(row.row, "on_hand", why)]))
            continue
        if change == 0 and safety == was_safety:
            outcomes.append(("unchanged", []))
            continue
        if change > 0 or safety < was_safety:
            arrived.add(row.sku)
        if stock_is_low(on_hand, safety):  # only then is the message a public event
            messages.append(
                OutboxMessage(
                    topic="inventory.adjusted",
                    aggregate_id=found.product_id,
                    payload={
                        "sku": row.sku,
                        "location": location.code,
                        "delta": change,
                        "on_hand": on_hand,
                        "safety_stock": safety,
                        "reason": "csv import",
                    },
                    created_at=at,
                )
            )
        turn = counted.get(key, 0)
        counted[key] = turn + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(
            LevelCount(
                row.sku,
                location.id,
                was if stored else None,
                was_safety,
                on_hand,
                safety,
                f"{reference} row {row.row}",
            )
        )
        levels[key] = (on_hand, reserved, safety, True)
        outcomes.append(("updated", []))
    who = str(actor)
    for counts in rounds:
        done = uow.inventory.count_levels(tenant_id, counts, reason="csv import", actor=who, at=at)
        if done != len(counts):
            raise TransientStorageError("a stock level changed while the batch was applied")
    uow.outbox.add_many(tenant_id, messages)
    return outcomes


# --- orders -----------------------------------------------------------------------------------


def _order_errors(order: OrderRows, error: Exception) -> list[RowError]:
    if isinstance(error, InvalidRequest) and error.errors:
        return [
            RowError(parse.line_row(order, e.pointer), parse.order_columns(e.pointer), e.detail)
            for e in error.errors
        ]
    if isinstance(error, InsufficientStock):
        return [RowError(order.first, "quantity", error.detail)]
    if isinstance(error, OmsError):
        return [RowError(order.first, "", error.detail)]
    return [RowError(order.first, "", f"could not be placed: {type(error).__name__}")]


def _order_batch(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    tenant_id: UUID,
    group: list[OrderRows],
    request: ImportRequest,
    actor: Actor,
    at: datetime,
    tally: _Tally,
) -> None:
    """Place a batch of orders through the intake (with each other, as the API groups
    them); a dry run places each in a transaction that is rolled back."""
    ready: list[tuple[OrderRows, Submission]] = []
    refused: list[tuple[OrderRows, list[RowError]]] = []  # reported in row order
    for order in group:
        try:
            command = parse.order_command(order)
        except RowProblem as problem:
            refused.append((order, problem.errors))
            continue
        ready.append((order, Submission(tenant_id, command, actor, at)))
    # An order placed before (a re-run) is found here at once; the intake would find it too.
    with uow_factory(readonly=True) as uow:
        seen = uow.orders.ids_by_external_ids(
            tenant_id, [(parse.CSV_CHANNEL, s.command.external_id or "") for _, s in ready]
        )
    for order, submission in ready:
        if (parse.CSV_CHANNEL, submission.command.external_id) in seen:
            tally.outcome("unchanged", len(order.rows))
    ready = [(o, s) for o, s in ready if (parse.CSV_CHANNEL, s.command.external_id) not in seen]
    if request.dry_run:
        outcomes = [_try_order(uow_factory, gateways, geocoder, s) for _, s in ready]
    else:
        outcomes = place_group(
            uow_factory=uow_factory,
            gateways=gateways,
            geocoder=geocoder,
            submissions=[s for _, s in ready],
        )
    for (order, _), outcome in zip(ready, outcomes, strict=True):
        if isinstance(outcome, Exception):
            refused.append((order, _order_errors(order, outcome)))
        else:
            tally.outcome("created" if outcome.created else "unchanged", len(order.rows))
    for order, errors in sorted(refused, key=lambda item: item[0].first):
        tally.errors(errors, rows=len(order.rows))


def _try_order(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submission: Submission,
) -> PlacedOrder | Exception:
    """Place an order in a transaction that is rolled back: what the real run would do."""
    try:
        with uow_factory() as uow:
            return place_in(
                uow,
                gateways,
                geocoder,
                submission.tenant_id,
                submission.command,
                submission.actor,
                None,
                "",
                submission.at,
            )
    except Exception as error:
        return error
