"""The SQL unit of work: one connection, one transaction, all repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Self, TypeVar, overload

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from oms.adapters.db.repositories.analytics import SqlAnalyticsRepository
from oms.adapters.db.repositories.billing import SqlBillingRepository
from oms.adapters.db.repositories.carts import SqlCartRepository
from oms.adapters.db.repositories.catalogue import SqlLocationRepository, SqlProductRepository
from oms.adapters.db.repositories.channel_intake import SqlChannelIntakeRepository
from oms.adapters.db.repositories.customers import SqlCustomerRepository
from oms.adapters.db.repositories.dashboard import SqlDashboardRepository
from oms.adapters.db.repositories.deliveries import SqlDeliveryRepository
from oms.adapters.db.repositories.demand import SqlDemandRepository
from oms.adapters.db.repositories.discounts import SqlDiscountRepository
from oms.adapters.db.repositories.fulfilment import SqlFulfilmentRepository
from oms.adapters.db.repositories.inbound import SqlInboundRepository
from oms.adapters.db.repositories.inventory import SqlInventoryRepository
from oms.adapters.db.repositories.messages import SqlIdempotencyRepository, SqlOutboxRepository
from oms.adapters.db.repositories.notifications import SqlNotificationSettingsRepository
from oms.adapters.db.repositories.orders import SqlOrderRepository
from oms.adapters.db.repositories.returns import SqlReturnRepository
from oms.adapters.db.repositories.risk import SqlRiskRuleRepository
from oms.adapters.db.repositories.rollups import SqlRollupRepository
from oms.adapters.db.repositories.routing import SqlRoutingRepository
from oms.adapters.db.repositories.shipments import SqlShipmentRepository
from oms.adapters.db.repositories.stock_changes import SqlStockChangeRepository
from oms.adapters.db.repositories.store_credit import SqlStoreCreditRepository
from oms.adapters.db.repositories.tenants import SqlTenantRepository
from oms.adapters.db.repositories.users import SqlUserRepository
from oms.adapters.db.repositories.webhooks import SqlWebhookEndpointRepository
from oms.adapters.db.statistics import SqlPlannerStatistics
from oms.services.ports import TransientStorageError

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory"]

# deadlock_detected, serialization_failure, lock_not_available
_TRANSIENT_PG_CODES = {"40P01", "40001", "55P03"}


def _is_transient(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    if code in _TRANSIENT_PG_CODES:
        return True
    return "database is locked" in str(error.orig)


_Made = TypeVar("_Made")


class _Repository(Generic[_Made]):
    """A repository of the unit of work, made on its first use in each transaction (bound
    to the transaction's connection) and then kept as the unit of work's attribute.

    A use case takes a few of the unit of work's repositories: making all of them at every
    begin was a visible share of a cheap call's CPU (docs/performance.md)."""

    def __init__(self, make: Callable[[Connection], _Made]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...
    @overload
    def __get__(self, instance: SqlUnitOfWork, owner: type) -> _Made: ...
    def __get__(self, instance: SqlUnitOfWork | None, owner: type) -> Self | _Made:
        if instance is None:
            return self
        conn = instance._conn
        if conn is None:
            raise RuntimeError(f"the unit of work's {self._name} outside its transaction")
        made = self._make(conn)
        instance.__dict__[self._name] = made  # found before this descriptor from now on
        instance._made.append(self._name)
        return made


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back unless committed."""

    tenants = _Repository(SqlTenantRepository)
    products = _Repository(SqlProductRepository)
    locations = _Repository(SqlLocationRepository)
    inventory = _Repository(SqlInventoryRepository)
    orders = _Repository(SqlOrderRepository)
    outbox = _Repository(SqlOutboxRepository)
    idempotency = _Repository(SqlIdempotencyRepository)
    customers = _Repository(SqlCustomerRepository)
    discounts = _Repository(SqlDiscountRepository)
    risk_rules = _Repository(SqlRiskRuleRepository)
    carts = _Repository(SqlCartRepository)
    routing = _Repository(SqlRoutingRepository)
    fulfilment = _Repository(SqlFulfilmentRepository)
    shipments = _Repository(SqlShipmentRepository)
    notification_settings = _Repository(SqlNotificationSettingsRepository)
    deliveries = _Repository(SqlDeliveryRepository)
    webhooks = _Repository(SqlWebhookEndpointRepository)
    users = _Repository(SqlUserRepository)
    dashboard = _Repository(SqlDashboardRepository)
    returns = _Repository(SqlReturnRepository)
    store_credit = _Repository(SqlStoreCreditRepository)
    inbound = _Repository(SqlInboundRepository)
    billing = _Repository(SqlBillingRepository)
    demand = _Repository(SqlDemandRepository)
    rollups = _Repository(SqlRollupRepository)
    analytics = _Repository(SqlAnalyticsRepository)
    stock_changes = _Repository(SqlStockChangeRepository)
    channel_intake = _Repository(SqlChannelIntakeRepository)
    statistics = _Repository(SqlPlannerStatistics)

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        self._conn: Connection | None = None
        self._commit_failed = False
        self._made: list[str] = []  # the repositories made (bound to ``_conn``)

    def __enter__(self) -> Self:
        conn = self._engine.connect()
        if self._readonly:
            # Writes fail instead of vanishing in the rollback: PostgreSQL begins READ ONLY
            # (psycopg's ``BEGIN READ ONLY``, no statement more), SQLite sets ``query_only``
            # (``oms.adapters.db.engine``).
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(oms_readonly=True, postgresql_readonly=True)
            else:
                conn = conn.execution_options(oms_readonly=True)
        conn.begin()
        self._conn = conn
        for name in self._made:  # in an earlier transaction of this unit of work
            del self.__dict__[name]
        self._made.clear()
        return self

    def __exit__(self, *exc_info: object) -> None:
        exc = exc_info[1] if len(exc_info) > 1 else None
        conn, self._conn = self._conn, None
        assert conn is not None
        try:
            if conn.in_transaction():
                conn.rollback()
        except DBAPIError:
            if exc is None:
                raise
            # The connection died with the error being raised: that error says why (and
            # SQLAlchemy has invalidated the pool's connections from before it).
        finally:
            conn.close()
        if isinstance(exc, DBAPIError) and (
            _is_transient(exc) or (exc.connection_invalidated and not self._commit_failed)
        ):
            # A lost connection before COMMIT rolled everything back: the use case may run
            # again on a new one. Lost during COMMIT, the outcome is unknown: never retried.
            raise TransientStorageError(str(exc.orig)) from exc

    def commit(self) -> None:
        assert self._conn is not None, "commit outside the unit of work"
        channel_intake = self.__dict__.get("channel_intake")
        if channel_intake is not None:
            channel_intake.flush()  # writes it keeps for the commit
        try:
            self._conn.commit()
        except DBAPIError as error:
            if _is_transient(error):
                raise TransientStorageError(str(error.orig)) from error
            self._commit_failed = True
            raise

    def rollback(self) -> None:
        assert self._conn is not None, "rollback outside the unit of work"
        self._conn.rollback()


class SqlUnitOfWorkFactory:
    """Makes a unit of work per use case from one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, readonly=readonly)
