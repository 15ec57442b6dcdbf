"""The database schema as SQLAlchemy Core tables; Alembic migrations create it.

Every tenant-owned table carries ``tenant_id`` and leads its primary, unique and foreign
keys with it, so the schema can be distributed by tenant; a few small tables are shared by
every tenant (reference tables: ``tenants``, ``api_keys``, ``locations``, the carrier
tables). tests/integration/test_schema_distribution.py holds the rule and names each
reference table with its reason; docs/operations.md says how the schema distributes.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)

from oms.adapters.db.types import Amount, UtcDateTime
from oms.domain import lengths

__all__ = [
    "BACKLOG_PREDICATE",
    "ERROR_EVENTS_PREDICATE",
    "allocations",
    "analytics_facts",
    "analytics_order_facts",
    "analytics_state",
    "api_keys",
    "billing_price_lists",
    "carrier_counters",
    "carrier_services",
    "cart_reservation_lines",
    "cart_reservations",
    "channel_orders",
    "channel_sync_log",
    "channels",
    "customers",
    "delivery_attempts",
    "demand_days",
    "demand_forecasts",
    "discount_codes",
    "discount_usages",
    "event_deliveries",
    "fulfillment_order_lines",
    "fulfillment_orders",
    "idempotency_keys",
    "inbound_lines",
    "inbound_putaways",
    "inbound_scans",
    "inbound_shipments",
    "inventory_levels",
    "inventory_movements",
    "location_grants",
    "location_loads",
    "locations",
    "metadata",
    "notification_settings",
    "order_events",
    "order_holds",
    "order_lines",
    "orders",
    "outbox",
    "packages",
    "payments",
    "pick_waves",
    "product_bins",
    "products",
    "purchase_order_lines",
    "purchase_orders",
    "return_lines",
    "return_policies",
    "return_tracking_events",
    "return_tracking_numbers",
    "returns",
    "risk_rules",
    "routing_profiles",
    "shipments",
    "store_credit_balances",
    "store_credit_entries",
    "suppliers",
    "tenants",
    "tracking_events",
    "tracking_numbers",
    "webhook_endpoints",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = Amount()
Timestamp = UtcDateTime()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(lengths.NAME), nullable=False),
    Column("last_order_number", BigInteger, nullable=False, server_default=text("1000")),
    Column("created_at", Timestamp, nullable=False),
    Column("settings", JSON, nullable=True),
    # Names the tenant in its order status page's URL (oms.domain.tenancy).
    Column("slug", String(lengths.SLUG), nullable=False),
    UniqueConstraint("slug"),
)

# People who sign in to the portal (oms.domain.users); merchant roles carry their tenant.
users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(lengths.EMAIL), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("tenant_id", Uuid, nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("disabled_at", Timestamp, nullable=True),
    UniqueConstraint("email"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=True),
    Column("scope", String(20), nullable=False),
    Column("name", String(lengths.NAME), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_tenant_id", Uuid, nullable=True),
    Column("code", String(lengths.LOCATION_CODE), nullable=False),
    Column("name", String(lengths.NAME), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("address", JSON, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("can_ship", Boolean, nullable=False),
    Column("can_pickup", Boolean, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column(
        "pickup_cutoff", String(lengths.CLOCK_TIME), nullable=False, server_default=text("'16:00'")
    ),
    Column("timezone", String(lengths.TIMEZONE), nullable=False, server_default=text("'UTC'")),
    Column("boxes", JSON, nullable=True),
    Column("archived_at", Timestamp, nullable=True),
    ForeignKeyConstraint(["owner_tenant_id"], ["tenants.id"]),
    Index(
        "uq_locations_operator_code",
        "code",
        unique=True,
        sqlite_where=text("owner_tenant_id IS NULL"),
        postgresql_where=text("owner_tenant_id IS NULL"),
    ),
    Index(
        "uq_locations_tenant_code",
        "owner_tenant_id",
        "code",
        unique=True,
        sqlite_where=text("owner_tenant_id IS NOT NULL"),
        postgresql_where=text("owner_tenant_id IS NOT NULL"),
    ),
)

location_grants = Table(
    "location_grants",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "location_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
)

products = Table(
    "products",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("name", String(lengths.PRODUCT_NAME), nullable=False),
    Column("price", Money, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("weight_grams", Integer, nullable=False),
    Column("category", String(lengths.CATEGORY), nullable=True),
    Column("components", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("barcode", String(lengths.BARCODE), nullable=True),
    Column("length_mm", Integer, nullable=True),
    Column("width_mm", Integer, nullable=True),
    Column("height_mm", Integer, nullable=True),
    Column("download_url", Text, nullable=True),
    Column("archived_at", Timestamp, nullable=True),
    # Customs (migration 0018): HS code, ISO country of origin, what the goods are.
    Column("hs_code", String(lengths.HS_CODE), nullable=True),
    Column("origin_country", String(2), nullable=True),
    Column("customs_description", String(lengths.CUSTOMS_DESCRIPTION), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "sku"),
    Index("ix_products_barcode", "tenant_id", "barcode"),
    # The status page's exchange choices: a category's products (migration 0035).
    Index("ix_products_category", "tenant_id", "category", "sku"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

inventory_levels = Table(
    "inventory_levels",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "location_id"),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
    # The last line of defence against overselling: no code path can break these.
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("on_hand >= reserved", name="reserved_within_on_hand"),
    CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    # Half of each page left free: a batch that sets every level of a page (an inventory
    # import, in key order) updates them all in place (HOT: no new index entry), and a
    # reservation's update finds room too (migration 0034, docs/inventory.md).
    postgresql_with={"fillfactor": 50},
)

inventory_movements = Table(
    "inventory_movements",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    Column("reference", String(lengths.REFERENCE), nullable=True),
    Column("actor", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("ix_inventory_movements_level", "tenant_id", "sku", "location_id"),
    # Billing reads a month of a tenant's ledger (migration 0018).
    Index("ix_inventory_movements_time", "tenant_id", "created_at"),
)

# Open orders with units still to ship; the timeline events that are fulfilment errors
# (oms.services.dashboard.ERROR_CAUSES): the partial indexes of the dashboard's queries.
BACKLOG_PREDICATE = (
    "status IN ('open', 'on_hold') AND fulfillment_status IN ('unfulfilled', 'partially_fulfilled')"
)
ERROR_EVENTS_PREDICATE = (
    "type IN ('fulfillment_order.short_picked', 'shipment.exception', "
    "'shipment.returned_to_sender')"
)

orders = Table(
    "orders",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("channel", String(lengths.CHANNEL), nullable=False),
    Column("external_id", String(lengths.EXTERNAL_ID), nullable=True),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("customer_email", String(lengths.EMAIL), nullable=True),
    Column("customer_name", String(lengths.PERSON_NAME), nullable=True),
    Column("customer_phone", String(lengths.PHONE), nullable=True),
    Column("shipping_address", JSON, nullable=True),
    Column("billing_address", JSON, nullable=True),
    Column("subtotal", Money, nullable=False),
    Column("discount_total", Money, nullable=False, server_default=text("'0'")),
    Column("shipping_total", Money, nullable=False, server_default=text("'0'")),
    Column("shipping_discount", Money, nullable=False, server_default=text("'0'")),
    Column("tax_total", Money, nullable=False, server_default=text("'0'")),
    Column("total", Money, nullable=False),
    Column("shipping_price", Money, nullable=False, server_default=text("'0'")),
    Column("shipping_tax", Money, nullable=False, server_default=text("'0'")),
    Column("discount_codes", JSON, nullable=True),
    Column("customer_id", Uuid, nullable=True),
    Column("shipping_address_key", String(lengths.ADDRESS_KEY), nullable=True),
    Column("risk", JSON, nullable=True),
    Column("released_at", Timestamp, nullable=True),
    Column(
        "service_level",
        String(lengths.SERVICE_LEVEL),
        nullable=False,
        server_default=text("'standard'"),
    ),
    Column("routing_profile_version", Integer, nullable=True),
    Column("routing", JSON, nullable=True),
    Column("destination", JSON, nullable=True),
    Column("promised_ship_by", Date, nullable=True),
    Column("promised_deliver_by", Date, nullable=True),
    Column("pickup_location_id", Uuid, nullable=True),
    Column("status", String(20), nullable=False),
    Column("fulfillment_status", String(30), nullable=False),
    Column("payment_status", String(30), nullable=False),
    Column("allow_backorder", Boolean, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("note", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # Who pays duties and taxes at the border: DDP (the sender) or DAP (the receiver).
    Column("duties_terms", String(3), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    UniqueConstraint("tenant_id", "channel", "external_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    Index("ix_orders_tenant_created", "tenant_id", "created_at"),
    Index("ix_orders_tenant_email", "tenant_id", "customer_email", "created_at"),
    Index("ix_orders_tenant_address", "tenant_id", "shipping_address_key", "created_at"),
    Index("ix_orders_tenant_customer", "tenant_id", "customer_id"),
    # The dashboard's (migration 0013): open orders with units to ship, and promises by day.
    Index(
        "ix_orders_backlog",
        "created_at",
        "tenant_id",
        sqlite_where=text(BACKLOG_PREDICATE),
        postgresql_where=text(BACKLOG_PREDICATE),
    ),
    Index("ix_orders_promised", "promised_ship_by", "tenant_id"),
    # The order search's (migration 0021): an external id without its channel, and on
    # PostgreSQL only, a part of the customer's name (trigrams; ``ILIKE '%text%'``).
    Index("ix_orders_tenant_external", "tenant_id", "external_id"),
    Index(
        "ix_orders_customer_name_trgm",
        "customer_name",
        postgresql_using="gin",
        postgresql_ops={"customer_name": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("name", String(lengths.PRODUCT_NAME), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("discount", Money, nullable=False, server_default=text("'0'")),
    Column("tax", Money, nullable=False, server_default=text("'0'")),
    Column("allocated", Integer, nullable=False),
    Column("backordered", Integer, nullable=False),
    Column("shipped", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("cancelled", Integer, nullable=False),
    Column("returned", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "order_id", "line_no"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    CheckConstraint(
        "quantity = allocated + backordered + shipped + cancelled", name="quantities_balance"
    ),
)

allocations = Table(
    "allocations",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("released", Integer, nullable=False),
    Column("fulfilled", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    Index("ix_allocations_order", "tenant_id", "order_id"),
    Index("ix_allocations_level", "tenant_id", "sku", "location_id"),
    CheckConstraint("released + fulfilled <= quantity", name="open_not_negative"),
)

order_events = Table(
    "order_events",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(60), nullable=False),
    Column("actor", String(lengths.ACTOR), nullable=False),
    Column("reason", Text, nullable=True),
    Column("data", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "order_id", "seq"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    # The dashboard's fulfilment errors by time (migration 0013).
    Index(
        "ix_order_events_errors",
        "created_at",
        "tenant_id",
        sqlite_where=text(ERROR_EVENTS_PREDICATE),
        postgresql_where=text(ERROR_EVENTS_PREDICATE),
    ),
)

outbox = Table(
    "outbox",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("topic", String(60), nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # Fanned out: its deliveries exist (``oms worker``); NULL while waiting for a worker.
    Column("published_at", Timestamp, nullable=True),
    # Set at fan-out: the public event type (NULL: not a public event) and the resource it
    # is about as the API returned it then, the same for every delivery and retry.
    Column("event_type", String(60), nullable=True),
    Column("data", JSON, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(
        "ix_outbox_unpublished",
        "created_at",
        sqlite_where=text("published_at IS NULL"),
        postgresql_where=text("published_at IS NULL"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("key", String(lengths.IDEMPOTENCY_KEY), nullable=False),
    Column("operation", String(60), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("resource_id", Uuid, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key"),
)


order_holds = Table(
    "order_holds",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("reason", String(30), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("due_at", Timestamp, nullable=False),
    Column("released_at", Timestamp, nullable=True),
    Column("released_by", String(lengths.ACTOR), nullable=True),
    Column("release_note", Text, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    Index("ix_order_holds_order", "tenant_id", "order_id"),
    Index("ix_order_holds_queue", "tenant_id", "released_at", "created_at"),
)

customers = Table(
    "customers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("email", String(lengths.EMAIL), nullable=False),
    Column("name", String(lengths.PERSON_NAME), nullable=True),
    Column("phone", String(lengths.PHONE), nullable=True),
    Column("orders_count", Integer, nullable=False),
    Column("first_order_at", Timestamp, nullable=True),
    Column("last_order_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "email"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

risk_rules = Table(
    "risk_rules",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

discount_codes = Table(
    "discount_codes",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("code", String(lengths.DISCOUNT_CODE), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Money, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=True),
    Column("min_subtotal", Money, nullable=True),
    Column("starts_at", Timestamp, nullable=True),
    Column("ends_at", Timestamp, nullable=True),
    Column("usage_limit", Integer, nullable=True),
    Column("per_customer_limit", Integer, nullable=True),
    Column("times_used", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "code"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    CheckConstraint("usage_limit IS NULL OR times_used <= usage_limit", name="uses_within_limit"),
)

discount_usages = Table(
    "discount_usages",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("code_id", Uuid, nullable=False),
    Column("customer_email", String(lengths.EMAIL), nullable=False),
    Column("uses", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "code_id", "customer_email"),
    ForeignKeyConstraint(
        ["tenant_id", "code_id"], ["discount_codes.tenant_id", "discount_codes.id"]
    ),
)

payments = Table(
    "payments",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("gateway", String(lengths.GATEWAY), nullable=False),
    Column("gateway_reference", String(lengths.GATEWAY_REFERENCE), nullable=True),
    Column("parent_id", Uuid, nullable=True),
    Column("expires_at", Timestamp, nullable=True),
    Column("idempotency_key", String(lengths.IDEMPOTENCY_KEY), nullable=True),
    Column("message", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    # The return a refund paid back (migration 0016): it lowers what the order is owed.
    Column("return_id", Uuid, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    # Also the index of an order's payments: its first two columns (migration 0036 dropped
    # the separate (tenant_id, order_id) index that only cost a write per payment).
    UniqueConstraint("tenant_id", "order_id", "kind", "idempotency_key"),
)

cart_reservations = Table(
    "cart_reservations",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp, nullable=True),
    Column("order_id", Uuid, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    Index("ix_cart_reservations_expiry", "tenant_id", "status", "expires_at"),
)

cart_reservation_lines = Table(
    "cart_reservation_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("reservation_id", Uuid, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("quantity", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "reservation_id", "line_no", "sku", "location_id"),
    ForeignKeyConstraint(
        ["tenant_id", "reservation_id"], ["cart_reservations.tenant_id", "cart_reservations.id"]
    ),
    Index("ix_cart_reservation_lines_level", "tenant_id", "sku", "location_id"),
)


routing_profiles = Table(
    "routing_profiles",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "version"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# Carrier services and their rate cards are the operator's (a reference table).
carrier_services = Table(
    "carrier_services",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("carrier", String(lengths.CARRIER), nullable=False),
    Column("code", String(lengths.CARRIER_SERVICE), nullable=False),
    Column("name", String(lengths.NAME), nullable=False),
    Column("rate_card", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("carrier", "code"),
)

location_loads = Table(
    "location_loads",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("orders", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "location_id", "day"),
)


# Fulfilment: each location's share of a released order, its picking, packing and shipping.
fulfillment_orders = Table(
    "fulfillment_orders",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("order_number", BigInteger, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("on_hold", Boolean, nullable=False),
    Column("wave_id", Uuid, nullable=True),
    Column("carrier", String(lengths.CARRIER), nullable=True),
    Column("service", String(lengths.CARRIER_SERVICE), nullable=True),
    Column("promised_ship_by", Date, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("rejected_reason", Text, nullable=True),
    Column("pickup_code_hash", String(64), nullable=True),
    Column("ready_at", Timestamp, nullable=True),
    Column("pickup_expires_at", Timestamp, nullable=True),
    Column("pickup_wrong_codes", Integer, nullable=False, server_default=text("0")),
    Column("pickup_locked_until", Timestamp, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
    Index("ix_fulfillment_orders_order", "tenant_id", "order_id"),
    Index("ix_fulfillment_orders_queue", "tenant_id", "location_id", "status"),
    Index("ix_fulfillment_orders_pickup", "tenant_id", "status", "pickup_expires_at"),
)

fulfillment_order_lines = Table(
    "fulfillment_order_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("fulfillment_order_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("allocation_id", Uuid, nullable=True),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("picked", Integer, nullable=False),
    Column("short", Integer, nullable=False),
    Column("packed", Integer, nullable=False),
    Column("shipped", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("cancelled", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "fulfillment_order_id", "seq"),
    ForeignKeyConstraint(
        ["tenant_id", "fulfillment_order_id"],
        ["fulfillment_orders.tenant_id", "fulfillment_orders.id"],
    ),
    CheckConstraint(
        "0 <= delivered AND delivered <= shipped AND shipped <= picked AND packed <= picked "
        "AND picked + cancelled <= quantity",
        name="progress_in_order",
    ),
)

pick_waves = Table(
    "pick_waves",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("fulfillment_order_ids", JSON, nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("completed_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
)

product_bins = Table(
    "product_bins",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("bin", String(lengths.BIN), nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "location_id"),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
)

packages = Table(
    "packages",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("fulfillment_order_id", Uuid, nullable=False),
    Column("box", String(lengths.BOX), nullable=True),
    Column("length_mm", Integer, nullable=True),
    Column("width_mm", Integer, nullable=True),
    Column("height_mm", Integer, nullable=True),
    Column("weight_grams", Integer, nullable=False),
    Column("contents", JSON, nullable=False),
    Column("shipment_id", Uuid, nullable=True),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "fulfillment_order_id"],
        ["fulfillment_orders.tenant_id", "fulfillment_orders.id"],
    ),
    Index("ix_packages_fulfillment_order", "tenant_id", "fulfillment_order_id"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("fulfillment_order_id", Uuid, nullable=False),
    Column("carrier", String(lengths.CARRIER), nullable=False),
    Column("service", String(lengths.CARRIER_SERVICE), nullable=False),
    Column("tracking_number", String(lengths.TRACKING_NUMBER), nullable=False),
    Column("tracking_url", Text, nullable=False),
    Column("cost", Money, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("status", String(30), nullable=False),
    Column("contents", JSON, nullable=False),
    Column("package_ids", JSON, nullable=False),
    Column("deliver_by", Date, nullable=True),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp, nullable=True),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    # Unique across tenants too: ``tracking_numbers`` holds that key (written with the row).
    UniqueConstraint("tenant_id", "carrier", "tracking_number"),
    Index("ix_shipments_order", "tenant_id", "order_id"),
    Index("ix_shipments_open", "status", "created_at"),
    Index("ix_shipments_created", "created_at", "tenant_id"),  # the dashboard's (0013)
)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("carrier", String(lengths.CARRIER), nullable=False),
    Column("event_id", String(lengths.TRACKING_EVENT_ID), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("status", String(30), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("location", String(lengths.TRACKING_LOCATION), nullable=True),
    Column("description", Text, nullable=True),
    Column("received_at", Timestamp, nullable=False),
    # A carrier's event ids are its own; its tracking number found the tenant first.
    PrimaryKeyConstraint("tenant_id", "carrier", "event_id"),
    Index("ix_tracking_events_shipment", "tenant_id", "shipment_id"),
)

# Carriers name a parcel by its tracking number only, whichever tenant shipped it: this
# small shared (reference) table finds the tenant and shipment, so the tenant-owned tables
# keep tenant-led keys. Written in the shipment's own transaction.
tracking_numbers = Table(
    "tracking_numbers",
    metadata,
    Column("carrier", String(40), nullable=False),
    Column("tracking_number", String(40), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    PrimaryKeyConstraint("carrier", "tracking_number"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    # The public tracking page knows the number, not the carrier.
    Index("ix_tracking_numbers_tracking_number", "tracking_number"),
)

# The last serial number handed out per carrier (tracking numbers are built from it).
carrier_counters = Table(
    "carrier_counters",
    metadata,
    Column("carrier", String(lengths.CARRIER), primary_key=True),
    Column("last_serial", BigInteger, nullable=False),
)

# A tenant's email settings (oms.domain.notifications): sender, branding, templates on/off.
# No row: every default.
notification_settings = Table(
    "notification_settings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sender_name", String(lengths.NAME), nullable=True),
    Column("sender_email", String(lengths.EMAIL), nullable=True),
    Column("reply_to", String(lengths.EMAIL), nullable=True),
    Column("notify_email", String(lengths.EMAIL), nullable=True),
    Column("logo_url", Text, nullable=True),
    Column("colour", String(7), nullable=False),
    Column("accent_colour", String(7), nullable=False),
    Column("templates", JSON, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# Merchant webhook endpoints (docs/events.md). The secret signs deliveries, so it is kept,
# not hashed; the previous one keeps signing beside it until ``previous_secret_until``.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", String(500), nullable=True),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_until", Timestamp, nullable=True),
    Column("disabled_at", Timestamp, nullable=True),
    Column("failing_since", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# One row per (event, subscriber): the worker's unit of delivery, claimed with a lease.
event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("sink_kind", String(20), nullable=False),
    Column("subscriber_key", String(200), nullable=False),
    Column("status", String(12), nullable=False),  # pending, delivered, failed, cancelled
    Column("attempts", Integer, nullable=False),
    # The attempts counted before the current round of retries (a manual retry or a replay
    # starts the schedule again).
    Column("round_start", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=True),
    Column("lease_until", Timestamp, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_latency_ms", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_response_body", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "event_id", "sink_kind", "subscriber_key"),
    Index(
        "ix_event_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_event_deliveries_subscriber", "tenant_id", "sink_kind", "subscriber_key", "id"),
)

# Every attempt of a delivery, with what the subscriber answered (the body truncated).
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("delivery_id", Uuid, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("response_body", Text, nullable=True),
    PrimaryKeyConstraint("tenant_id", "delivery_id", "attempt"),
)

# Sales channel connections (oms.domain.channels); ``credentials`` is Fernet ciphertext.
# A store's webhook names only the connection's id: ``ix_channels_id`` finds it.
channels = Table(
    "channels",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(lengths.NAME), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("credentials", Text, nullable=False),
    Column("location_codes", JSON, nullable=False),
    Column("sku_mapping", JSON, nullable=False),
    Column("push_fulfilments", Boolean, nullable=False),
    Column("push_stock", Boolean, nullable=False),
    Column("health", String(20), nullable=False),
    Column("health_detail", Text, nullable=True),
    Column("last_synced_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "name"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    Index("ix_channels_id", "id"),
)

# What each connection received and sent, newest last.
channel_sync_log = Table(
    "channel_sync_log",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("channel_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("direction", String(10), nullable=False),
    Column("operation", String(100), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("detail", Text, nullable=True),
    Column("external_id", String(lengths.EXTERNAL_ID), nullable=True),
    Column("order_id", Uuid, nullable=True),
    PrimaryKeyConstraint("tenant_id", "channel_id", "id"),
    Index("ix_channel_sync_log_at", "tenant_id", "channel_id", "at"),
)

# The store's ``updated_at`` of the last copy of each order applied: older copies change nothing.
channel_orders = Table(
    "channel_orders",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("channel_id", Uuid, nullable=False),
    Column("external_id", String(lengths.EXTERNAL_ID), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("remote_updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "channel_id", "external_id"),
)

# Returns (RMAs), their lines and each tenant's return policy (migration 0016).
returns = Table(
    "returns",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("order_number", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("resolution", String(20), nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("note", Text, nullable=True),
    Column("decided_at", Timestamp, nullable=True),
    Column("decided_by", String(lengths.ACTOR), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("received_at", Timestamp, nullable=True),
    Column("refunded_at", Timestamp, nullable=True),
    Column("refund_amount", Money, nullable=True),
    Column("restocking_fee", Money, nullable=True),
    Column("shipping_refund", Money, nullable=True),
    Column("refund_key", String(lengths.IDEMPOTENCY_KEY), nullable=True),
    Column("exchange_order_id", Uuid, nullable=True),
    Column("exchange_credit", Money, nullable=True),
    Column("label", JSON, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("version", Integer, nullable=False),
    # The return label's parcel as its carrier reports it (migration 0026).
    Column("parcel_status", String(30), nullable=True),
    Column("last_scan_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    Index("ix_returns_order", "tenant_id", "order_id"),
    Index("ix_returns_status", "tenant_id", "status", "created_at"),
)

return_lines = Table(
    "return_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("return_id", Uuid, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("reason", String(100), nullable=False),
    Column("restocked", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("disposed", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "return_id", "line_no"),
    ForeignKeyConstraint(["tenant_id", "return_id"], ["returns.tenant_id", "returns.id"]),
    Index("ix_return_lines_reason", "tenant_id", "reason"),
    CheckConstraint(
        "restocked + quarantined + disposed <= quantity", name="received_within_quantity"
    ),
)

return_policies = Table(
    "return_policies",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# A merchant's price list for the 3PL's work (oms.domain.billing.PriceList); no row: none set.
billing_price_lists = Table(
    "billing_price_lists",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("body", JSON, nullable=False),
    Column("updated_by", String(lengths.ACTOR), nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# Analytics' daily rollups (migration 0020, oms.adapters.db.repositories.rollups): each row
# one fact of the orders one tenant placed on ``placed_day``, counted on ``day`` (placed,
# due, shipped...) along the dimensions the ``kind`` has (the others NULL); ``dims`` joins
# them into the key. Rows are rewritten a whole (tenant, placed_day) at a time, never added
# to, so a replay or a restart cannot count twice. docs/analytics.md lists every kind.
analytics_facts = Table(
    "analytics_facts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("placed_day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("day", Date, nullable=False),
    Column("dims", String(400), nullable=False),
    Column("channel", String(lengths.CHANNEL), nullable=True),
    Column("sku", String(lengths.SKU), nullable=True),
    Column("location_id", Uuid, nullable=True),
    Column("carrier", String(lengths.CARRIER), nullable=True),
    Column("service", String(lengths.CARRIER_SERVICE), nullable=True),
    Column("currency", String(lengths.CURRENCY), nullable=True),
    Column("detail", String(60), nullable=True),
    Column("n", BigInteger, nullable=False),
    Column("met", BigInteger, nullable=False),
    Column("done", BigInteger, nullable=False),
    Column("done_met", BigInteger, nullable=False),
    Column("orders", BigInteger, nullable=False),
    Column("amount_e4", BigInteger, nullable=False),  # money in ten-thousandths: exact sums
    PrimaryKeyConstraint("tenant_id", "placed_day", "kind", "day", "dims"),
    Index("ix_analytics_facts_day", "kind", "day", "tenant_id"),
    Index("ix_analytics_facts_tenant", "tenant_id", "kind", "day"),
)

# Per tenant: the rollups hold every order placed from ``covered_from`` whose last change
# is before ``watermark`` (less the margin of oms.services.rollups).
analytics_state = Table(
    "analytics_state",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("covered_from", Date, nullable=False),
    Column("watermark", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

# Inbound stock (docs/inbound.md): suppliers and purchase orders, ASNs with their scans and
# putaways. Lines keep running counts, changed only under the shipment's row lock.
suppliers = Table(
    "suppliers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(lengths.NAME), nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("moq", Integer, nullable=False),
    Column("pack_size", Integer, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("supplier_id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("expected_at", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
    Index("ix_purchase_orders_status", "tenant_id", "status"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("purchase_order_id", Uuid, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_cost", Amount, nullable=False),
    Column("received", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "purchase_order_id", "line_no"),
    ForeignKeyConstraint(
        ["tenant_id", "purchase_order_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    CheckConstraint("quantity > 0 AND received >= 0", name="po_quantities"),
    Index("ix_purchase_order_lines_sku", "tenant_id", "sku"),
)

inbound_shipments = Table(
    "inbound_shipments",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("reference", String(lengths.REFERENCE), nullable=False),
    Column("tracking", String(lengths.TRACKING_NUMBER), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
    # The operator's receiving queue of a warehouse, every merchant's shipments in it.
    Index("ix_inbound_shipments_location", "location_id", "status"),
)

inbound_lines = Table(
    "inbound_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("expected", Integer, nullable=False),
    Column("received_good", Integer, nullable=False),
    Column("received_damaged", Integer, nullable=False),
    Column("put_away", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "shipment_id", "sku"),
    ForeignKeyConstraint(
        ["tenant_id", "shipment_id"], ["inbound_shipments.tenant_id", "inbound_shipments.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    CheckConstraint(
        "expected >= 0 AND received_good >= 0 AND received_damaged >= 0 "
        "AND put_away >= 0 AND put_away <= received_good",
        name="inbound_counts",
    ),
)

# One row per scanned line; a scan id seen before is not counted again.
inbound_scans = Table(
    "inbound_scans",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("scan_id", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("condition", String(10), nullable=False),
    Column("exceptions", JSON, nullable=False),
    Column("actor", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # The carton the scanned units came in (migration 0025), when the scan named one.
    Column("carton", String(100), nullable=True),
    PrimaryKeyConstraint("tenant_id", "shipment_id", "scan_id", "seq"),
    ForeignKeyConstraint(
        ["tenant_id", "shipment_id"], ["inbound_shipments.tenant_id", "inbound_shipments.id"]
    ),
)

# An ASN's cartons (migration 0025): what each announced carton holds, a row per SKU.
inbound_cartons = Table(
    "inbound_cartons",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("code", String(100), nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("expected", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "shipment_id", "code", "sku"),
    ForeignKeyConstraint(
        ["tenant_id", "shipment_id"], ["inbound_shipments.tenant_id", "inbound_shipments.id"]
    ),
    CheckConstraint("expected > 0", name="inbound_carton_expected"),
)

inbound_putaways = Table(
    "inbound_putaways",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("bin", String(lengths.BIN), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("actor", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "shipment_id"], ["inbound_shipments.tenant_id", "inbound_shipments.id"]
    ),
)

# Cycle counts (docs/inbound.md#cycle-counts): a sheet per count, a line per SKU.
count_sheets = Table(
    "count_sheets",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("blind", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("approved_by", String(lengths.ACTOR), nullable=True),
    Column("approved_at", Timestamp, nullable=True),
    Column("reason", Text, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["location_id"], ["locations.id"]),
)

count_lines = Table(
    "count_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sheet_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("bin", String(lengths.BIN), nullable=True),
    Column("counted", Integer, nullable=True),
    PrimaryKeyConstraint("tenant_id", "sheet_id", "sku"),
    ForeignKeyConstraint(["tenant_id", "sheet_id"], ["count_sheets.tenant_id", "count_sheets.id"]),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    CheckConstraint("counted IS NULL OR counted >= 0", name="counted_not_negative"),
)

# Transfers between a tenant's locations; a line's shipped-but-not-received units are in
# transit (in no inventory level: visible, not sellable).
transfers = Table(
    "transfers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("from_location_id", Uuid, nullable=False),
    Column("to_location_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("shipped_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["from_location_id"], ["locations.id"]),
    ForeignKeyConstraint(["to_location_id"], ["locations.id"]),
    Index("ix_transfers_status", "tenant_id", "status"),
)

transfer_lines = Table(
    "transfer_lines",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("transfer_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "transfer_id", "sku"),
    ForeignKeyConstraint(["tenant_id", "transfer_id"], ["transfers.tenant_id", "transfers.id"]),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    CheckConstraint("quantity > 0 AND received >= 0", name="transfer_quantities"),
)

# Daily demand per SKU and location code, from a sales-history import ("import") or the
# system's own orders ("orders"); a series is their sum (oms.services.demand, migration 0019).
demand_days = Table(
    "demand_days",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location", String(lengths.LOCATION_CODE), nullable=False),
    Column("day", Date, nullable=False),
    Column("source", String(10), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("revenue", Money, nullable=True),
    Column("promo", Boolean, nullable=False),
    Column("stockout", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "location", "day", "source"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
)

# The latest forecast per SKU and location ("": every location together), with its
# backtest (oms.services.forecasting, migration 0019).
demand_forecasts = Table(
    "demand_forecasts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location", String(lengths.LOCATION_CODE), nullable=False),
    Column("made_at", Timestamp, nullable=False),
    Column("history_end", Date, nullable=False),
    Column("model", String(40), nullable=False),
    Column("demand_class", String(20), nullable=False),
    Column("points", JSON, nullable=False),
    Column("mase", Float, nullable=True),
    Column("origins", Integer, nullable=False),
    Column("beats_baseline", Boolean, nullable=False),
    Column("error_sd", Float, nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "location"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)
# The orders changed since a moment: what the rollups must count again (migration 0020).
Index("ix_orders_updated", orders.c.updated_at, orders.c.tenant_id)

# The supplier a SKU is bought from, at what unit cost: replenishment groups its suggested
# orders per supplier by it (oms.services.replenishment, migration 0028).
supplier_skus = Table(
    "supplier_skus",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("supplier_id", Uuid, nullable=False),
    Column("unit_cost", Money, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku"),
    ForeignKeyConstraint(["tenant_id", "sku"], ["products.tenant_id", "products.sku"]),
    ForeignKeyConstraint(["tenant_id", "supplier_id"], ["suppliers.tenant_id", "suppliers.id"]),
)

# Stock per SKU, location and UTC day as the worker saw it: the lowest availability seen
# that day and the last; a day with ``low`` <= 0 is a day the SKU was out there
# (oms.services.stockouts, migration 0028). Only levels that changed or were out are
# sampled, so a level in stock all day has no row.
stock_days = Table(
    "stock_days",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("low", Integer, nullable=False),
    Column("close", Integer, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # Out and counting as a stock-out day (oms.domain.stockouts.judge_days_out, migration
    # 0033), kept by the refresh so the report reads flags.
    Column("stockout", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("tenant_id", "sku", "location_id", "day"),
    Index("ix_stock_days_day", "tenant_id", "day"),
    # The stock-out report reads only the flagged days (a few in a hundred samples).
    Index(
        "ix_stock_days_stockout",
        "tenant_id",
        "day",
        "sku",
        "location_id",
        postgresql_where=text("stockout"),
        sqlite_where=text("stockout"),
    ),
)

# The nightly decisions run per tenant and UTC day (oms.services.nightly, migration 0028):
# claimed at the start (``started_at``), done at ``finished_at``; a day done is not run again.
nightly_runs = Table(
    "nightly_runs",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=True),
    PrimaryKeyConstraint("tenant_id", "day"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)


# Each order's share of the dashboard's rollups (migration 0022): the facts of the kinds the
# dashboard reads (placed, split, due, ship_orders, shipment, error) per order, as the last
# recount of its placed day found them; ``analytics_facts``' rows of those kinds are their
# sums. The dashboard subtracts a changed order's share and reads the order raw instead.
analytics_order_facts = Table(
    "analytics_order_facts",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("placed_day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("day", Date, nullable=False),
    Column("dims", String(400), nullable=False),
    Column("channel", String(lengths.CHANNEL), nullable=True),
    Column("sku", String(lengths.SKU), nullable=True),
    Column("location_id", Uuid, nullable=True),
    Column("carrier", String(lengths.CARRIER), nullable=True),
    Column("service", String(lengths.CARRIER_SERVICE), nullable=True),
    Column("currency", String(lengths.CURRENCY), nullable=True),
    Column("detail", String(60), nullable=True),
    Column("n", BigInteger, nullable=False),
    Column("met", BigInteger, nullable=False),
    Column("done", BigInteger, nullable=False),
    Column("done_met", BigInteger, nullable=False),
    Column("orders", BigInteger, nullable=False),
    Column("amount_e4", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "order_id", "kind", "day", "dims"),
    Index("ix_analytics_order_facts_placed", "tenant_id", "placed_day"),
)

# Stock push to the stores (migration 0024). A level whose quantities changed leaves one
# marker per (tenant, SKU, location), the first change's moment kept (later ones coalesce
# into it); the worker turns markers older than the debounce window into pushes.
stock_changes = Table(
    "stock_changes",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("location_id", Uuid, nullable=False),
    Column("changed_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "location_id"),
    Index("ix_stock_changes_changed_at", "changed_at"),
)

# A store's own id of the item a SKU is (Shopify's InventoryItem gid), looked up once by SKU.
channel_inventory_items = Table(
    "channel_inventory_items",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("channel_id", Uuid, nullable=False),
    Column("sku", String(lengths.SKU), nullable=False),
    Column("inventory_item_id", String(200), nullable=False),
    Column("looked_up_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "channel_id", "sku"),
)


# Return labels' tracking (migration 0026): carriers name the return parcel by its tracking
# number only, so this small shared (reference) table finds the tenant and the return, as
# ``tracking_numbers`` does for shipments; the events themselves are the tenant's.
return_tracking_numbers = Table(
    "return_tracking_numbers",
    metadata,
    Column("carrier", String(lengths.CARRIER), nullable=False),
    Column("tracking_number", String(40), nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("return_id", Uuid, nullable=False),
    PrimaryKeyConstraint("carrier", "tracking_number"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
)

return_tracking_events = Table(
    "return_tracking_events",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("carrier", String(lengths.CARRIER), nullable=False),
    Column("event_id", String(lengths.TRACKING_EVENT_ID), nullable=False),
    Column("return_id", Uuid, nullable=False),
    Column("status", String(30), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("location", String(lengths.TRACKING_LOCATION), nullable=True),
    Column("received_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "carrier", "event_id"),
    ForeignKeyConstraint(["tenant_id", "return_id"], ["returns.tenant_id", "returns.id"]),
    Index("ix_return_tracking_events_return", "tenant_id", "return_id"),
)

# Store credit (migration 0026): an append-only ledger per customer and currency, and the
# balance it sums to, kept in one row that a conditional UPDATE never takes below zero.
store_credit_entries = Table(
    "store_credit_entries",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    Column("amount", Money, nullable=False),  # + credited, - spent
    Column("return_id", Uuid, nullable=True),
    Column("order_id", Uuid, nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(lengths.ACTOR), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index("ix_store_credit_entries_customer", "tenant_id", "customer_id", "currency"),
)

store_credit_balances = Table(
    "store_credit_balances",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("currency", String(lengths.CURRENCY), nullable=False),
    # Ten-thousandths of the currency unit: integer arithmetic, exact on both databases.
    Column("balance_e4", BigInteger, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("tenant_id", "customer_id", "currency"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    CheckConstraint("balance_e4 >= 0", name="store_credit_never_negative"),
)
