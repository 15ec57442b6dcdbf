"""The SQL unit of work: one connection, one transaction, all repositories bound to it."""

from __future__ import annotations

from typing import Self

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


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back unless committed."""

    tenants: SqlTenantRepository
    products: SqlProductRepository
    locations: SqlLocationRepository
    inventory: SqlInventoryRepository
    orders: SqlOrderRepository
    outbox: SqlOutboxRepository
    idempotency: SqlIdempotencyRepository
    customers: SqlCustomerRepository
    discounts: SqlDiscountRepository
    risk_rules: SqlRiskRuleRepository
    carts: SqlCartRepository
    routing: SqlRoutingRepository
    fulfilment: SqlFulfilmentRepository
    shipments: SqlShipmentRepository
    notification_settings: SqlNotificationSettingsRepository
    deliveries: SqlDeliveryRepository
    webhooks: SqlWebhookEndpointRepository
    users: SqlUserRepository
    dashboard: SqlDashboardRepository
    returns: SqlReturnRepository
    store_credit: SqlStoreCreditRepository
    inbound: SqlInboundRepository
    billing: SqlBillingRepository
    demand: SqlDemandRepository
    rollups: SqlRollupRepository
    analytics: SqlAnalyticsRepository
    stock_changes: SqlStockChangeRepository
    channel_intake: SqlChannelIntakeRepository
    statistics: SqlPlannerStatistics

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        self._conn: Connection | None = None
        self._commit_failed = False

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
        self.tenants = SqlTenantRepository(conn)
        self.products = SqlProductRepository(conn)
        self.locations = SqlLocationRepository(conn)
        self.inventory = SqlInventoryRepository(conn)
        self.orders = SqlOrderRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)
        self.customers = SqlCustomerRepository(conn)
        self.discounts = SqlDiscountRepository(conn)
        self.risk_rules = SqlRiskRuleRepository(conn)
        self.carts = SqlCartRepository(conn)
        self.routing = SqlRoutingRepository(conn)
        self.fulfilment = SqlFulfilmentRepository(conn)
        self.shipments = SqlShipmentRepository(conn)
        self.notification_settings = SqlNotificationSettingsRepository(conn)
        self.deliveries = SqlDeliveryRepository(conn)
        self.webhooks = SqlWebhookEndpointRepository(conn)
        self.users = SqlUserRepository(conn)
        self.dashboard = SqlDashboardRepository(conn)
        self.returns = SqlReturnRepository(conn)
        self.store_credit = SqlStoreCreditRepository(conn)
        self.inbound = SqlInboundRepository(conn)
        self.billing = SqlBillingRepository(conn)
        self.demand = SqlDemandRepository(conn)
        self.rollups = SqlRollupRepository(conn)
        self.analytics = SqlAnalyticsRepository(conn)
        self.stock_changes = SqlStockChangeRepository(conn)
        self.channel_intake = SqlChannelIntakeRepository(conn)
        self.statistics = SqlPlannerStatistics(conn)
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
        self.channel_intake.flush()  # writes it keeps for the commit
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
