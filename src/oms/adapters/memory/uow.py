"""The unit of work in memory: ``UnitOfWork`` for tests of use cases without a database.

    factory = MemoryUnitOfWorkFactory()
    create_product(uow_factory=factory, ...)       # any use case that takes a factory
    with factory(readonly=True) as uow:             # read back what it committed
        uow.products.by_skus(tenant_id, ["SKU-1"])

Transactions are copy-on-begin: entering a unit of work copies the committed tables, its
repositories work on that copy, ``commit()`` publishes the copy and leaving the block
without committing (or ``rollback()``, or an exception) discards it. Two units of work
open at once are isolated from each other; when both write, the second to commit fails
with ``TransientStorageError`` (as a serialisation failure would), so ``retry_transient``
runs the use case again. ``readonly=True`` refuses every write with
``ReadOnlyUnitOfWorkError``.

The repositories the catalogue, inventory, holds, customers, discounts, risk rules and
store credit need are here (see docs/testing.md); every other one raises ``NotImplementedError``
naming it, as do the few order queries not implemented.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, NoReturn, Self

from oms.adapters.memory.carts import MemoryCartRepository
from oms.adapters.memory.catalogue import MemoryProductRepository
from oms.adapters.memory.customers import MemoryCustomerRepository
from oms.adapters.memory.discounts import MemoryDiscountRepository
from oms.adapters.memory.inventory import MemoryInventoryRepository
from oms.adapters.memory.locations import MemoryLocationRepository
from oms.adapters.memory.messages import MemoryIdempotencyRepository, MemoryOutboxRepository
from oms.adapters.memory.orders import MemoryOrderRepository
from oms.adapters.memory.risk import MemoryRiskRuleRepository
from oms.adapters.memory.store_credit import MemoryStoreCreditRepository
from oms.adapters.memory.tables import MemorySession, MemoryTables, ReadOnlyUnitOfWorkError
from oms.adapters.memory.tenants import MemoryTenantRepository
from oms.services.ports import (
    FulfilmentRepository,
    InboundRepository,
    NotificationSettingsRepository,
    RoutingRepository,
    ShipmentRepository,
    TransientStorageError,
    UnitOfWork,
    UnitOfWorkFactory,
)

if TYPE_CHECKING:
    from oms.services.analytics import AnalyticsRepository
    from oms.services.billing import BillingRepository
    from oms.services.channels import ChannelIntakeRepository
    from oms.services.dashboard import DashboardRepository
    from oms.services.deliveries import DeliveryRepository
    from oms.services.demand import DemandRepository
    from oms.services.return_records import ReturnRepository
    from oms.services.rollups import RollupRepository
    from oms.services.stock_push import StockChangeRepository
    from oms.services.users import UserRepository
    from oms.services.webhook_endpoints import WebhookEndpointRepository

__all__ = [
    "MemoryDatabase",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "ReadOnlyUnitOfWorkError",
]


class MemoryDatabase:
    """The committed tables and a version counter that each committed write moves on."""

    def __init__(self) -> None:
        self.tables = MemoryTables()
        self.version = 0


def _not_implemented(repository: str) -> NoReturn:
    raise NotImplementedError(
        f"the in-memory unit of work has no {repository!r} repository yet "
        "(docs/testing.md lists what it covers): test this use case against SQLite"
    )


class MemoryUnitOfWork:
    """One transaction over a ``MemoryDatabase`` (see the module's docstring)."""

    def __init__(self, database: MemoryDatabase, *, readonly: bool = False) -> None:
        self._database = database
        self._readonly = readonly
        self._work: MemoryTables | None = None
        self._base_version = 0
        self._session = MemorySession(self._working_tables, readonly=readonly)
        self.tenants = MemoryTenantRepository(self._session)
        self.products = MemoryProductRepository(self._session)
        self.locations = MemoryLocationRepository(self._session)
        self.inventory = MemoryInventoryRepository(self._session)
        self.orders = MemoryOrderRepository(self._session)
        self.outbox = MemoryOutboxRepository(self._session)
        self.idempotency = MemoryIdempotencyRepository(self._session)
        self.customers = MemoryCustomerRepository(self._session)
        self.discounts = MemoryDiscountRepository(self._session)
        self.risk_rules = MemoryRiskRuleRepository(self._session)
        self.carts = MemoryCartRepository(self._session)
        self.store_credit = MemoryStoreCreditRepository(self._session)

    def _working_tables(self) -> MemoryTables:
        assert self._work is not None, "repository used outside the unit of work"
        return self._work

    def _begin(self) -> None:
        self._work = copy.deepcopy(self._database.tables)
        self._base_version = self._database.version
        self._session.wrote = False

    def __enter__(self) -> Self:
        assert self._work is None, "a unit of work is entered once"
        self._begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self._work = None  # whatever was not committed is gone

    def commit(self) -> None:
        """Publish this transaction's writes; a new transaction starts, as on SQL."""
        assert self._work is not None, "commit outside the unit of work"
        if self._session.wrote:
            if self._database.version != self._base_version:
                raise TransientStorageError("another unit of work committed writes first")
            self._database.tables = self._work
            self._database.version += 1
        self._begin()

    def rollback(self) -> None:
        assert self._work is not None, "rollback outside the unit of work"
        self._begin()

    # The repositories not kept in memory yet: each names itself when asked for.
    @property
    def routing(self) -> RoutingRepository:
        _not_implemented("routing")

    @property
    def fulfilment(self) -> FulfilmentRepository:
        _not_implemented("fulfilment")

    @property
    def shipments(self) -> ShipmentRepository:
        _not_implemented("shipments")

    @property
    def notification_settings(self) -> NotificationSettingsRepository:
        _not_implemented("notification_settings")

    @property
    def deliveries(self) -> DeliveryRepository:
        _not_implemented("deliveries")

    @property
    def webhooks(self) -> WebhookEndpointRepository:
        _not_implemented("webhooks")

    @property
    def users(self) -> UserRepository:
        _not_implemented("users")

    @property
    def dashboard(self) -> DashboardRepository:
        _not_implemented("dashboard")

    @property
    def returns(self) -> ReturnRepository:
        _not_implemented("returns")

    @property
    def inbound(self) -> InboundRepository:
        _not_implemented("inbound")

    @property
    def billing(self) -> BillingRepository:
        _not_implemented("billing")

    @property
    def demand(self) -> DemandRepository:
        _not_implemented("demand")

    @property
    def rollups(self) -> RollupRepository:
        _not_implemented("rollups")

    @property
    def analytics(self) -> AnalyticsRepository:
        _not_implemented("analytics")

    @property
    def stock_changes(self) -> StockChangeRepository:
        _not_implemented("stock_changes")

    @property
    def channel_intake(self) -> ChannelIntakeRepository:
        _not_implemented("channel_intake")

    @property
    def statistics(self) -> _NoPlannerStatistics:
        return _NoPlannerStatistics()


class _NoPlannerStatistics:
    """Memory has no query planner: nothing to gather."""

    def refresh_grown(self) -> None:
        return None


class MemoryUnitOfWorkFactory:
    """Makes a unit of work per use case over one ``MemoryDatabase`` (a new one by
    default): the ``UnitOfWorkFactory`` of use case tests."""

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.database = database or MemoryDatabase()

    def __call__(self, *, readonly: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.database, readonly=readonly)


def _conforms(factory: MemoryUnitOfWorkFactory, uow: MemoryUnitOfWork) -> None:
    # mypy checks here that both satisfy their protocols, property types included.
    _factory: UnitOfWorkFactory = factory
    _uow: UnitOfWork = uow
