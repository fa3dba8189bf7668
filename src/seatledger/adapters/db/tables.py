"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/`` create exactly this.

Invariants live here as constraints, so that no code path can break them:
* a subscription and an order each own exactly one seat pool, keyed by the owner's own id (a
  foreign key from the owner's primary key); a seat belongs to one pool (``pool_id``);
* at most one non-revoked seat per email, and per member, in a pool (partial unique indexes);
* exactly one billing manager per company (partial unique index);
* a pool never holds more assigned seats than it has bought (CHECK ``assigned_seats <= seats``
  on ``seat_pools``, the only place either count is kept);
* amounts and seat counts are never negative (CHECK);
* a price's definition never changes once written (trigger, in the migration).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from seatledger.adapters.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)

products = Table(
    "products",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("proration_increase", String(20), nullable=False),
    Column("proration_decrease", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # None: a true-up is billed at renewal; "quarter": at each quarter of a yearly period.
    Column("true_up_interval", String(10), nullable=True),
)

prices = Table(
    "prices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("product_id", ID, ForeignKey("products.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("interval", String(5), nullable=True),
    Column("seat_sync", String(10), nullable=False),
    # A recurring price's free trial in days (null: none); also in ``definition``.
    Column("trial_days", Integer, nullable=True),
    Column("definition", JSON, nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("uq_prices_product_version", "product_id", "version", unique=True),
)

benefits = Table(
    "benefits",
    metadata,
    Column("id", ID, primary_key=True),
    Column("type", String(20), nullable=False),
    Column("description", String(500), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "type IN ('file_download', 'license_key', 'access_grant', 'custom')", name="type"
    ),
)

product_benefits = Table(
    "product_benefits",
    metadata,
    Column("product_id", ID, ForeignKey("products.id"), primary_key=True),
    Column("benefit_id", ID, ForeignKey("benefits.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("size >= 0", name="size"),
)

companies = Table(
    "companies",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("external_id", String(200), nullable=True, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("id", ID, primary_key=True),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    CheckConstraint("role IN ('billing_manager', 'member')", name="role"),
    CheckConstraint("email = lower(email)", name="email_lowercase"),
    CheckConstraint("role = 'member' OR removed_at IS NULL", name="manager_not_removed"),
    Index(
        "uq_members_company_email",
        "company_id",
        "email",
        unique=True,
        sqlite_where=text("removed_at IS NULL"),
        postgresql_where=text("removed_at IS NULL"),
    ),
    Index(
        "uq_members_one_billing_manager",
        "company_id",
        unique=True,
        sqlite_where=text("role = 'billing_manager'"),
        postgresql_where=text("role = 'billing_manager'"),
    ),
    Index("ix_members_email", "email"),
)

checkouts = Table(
    "checkouts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("price_id", ID, ForeignKey("prices.id"), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=True),
    Column("customer_email", String(254), nullable=True),
    Column("status", String(20), nullable=False),
    Column("amount_due", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("subscription_id", ID, nullable=True),
    Column("order_id", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # The payment method whose charge a confirmation has taken on: one card charged per
    # checkout (``seatledger.adapters.db.checkouts.Checkouts.lease_charge``).
    Column("charging_method", String(100), nullable=True),
    # Where the buyer finishes that charge while it waits for them (3-D Secure).
    Column("payment_url", String(2000), nullable=True),
    # A trial price's checkout: the trial's days and what the first charged period will cost.
    Column("trial_days", Integer, nullable=True),
    Column("amount_after_trial", BigInteger, nullable=True),
    CheckConstraint("seats >= 1", name="seats"),
    CheckConstraint("amount_due >= 0", name="amount_due"),
    CheckConstraint("status IN ('open', 'completed', 'expired')", name="status"),
    CheckConstraint("company_id IS NOT NULL OR customer_email IS NOT NULL", name="customer"),
)

# A pool of seats: the purchased count and how many are assigned (pending + claimed), for one
# subscription or one order, whose id it shares. Who may assign (the owner's company and status)
# and the price stay on the owner, written once; the pool keeps only what seats consume.
seat_pools = Table(
    "seat_pools",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("assigned_seats", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    # When its subscription was canceled: a closed pool takes no seat (``SeatPools.take``).
    Column("closed_at", UTCDateTime, nullable=True),
    CheckConstraint("kind IN ('subscription', 'order')", name="kind"),
    CheckConstraint("seats >= 1", name="seats"),
    CheckConstraint("assigned_seats >= 0 AND assigned_seats <= seats", name="assigned_seats"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", ID, ForeignKey("seat_pools.id"), primary_key=True),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=True, index=True),
    Column("owner_email", String(254), nullable=False, index=True),
    Column("price_id", ID, ForeignKey("prices.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("billing_anchor", UTCDateTime, nullable=False),
    Column("current_period_start", UTCDateTime, nullable=False),
    Column("current_period_end", UTCDateTime, nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False, server_default=text("false")),
    Column("canceled_at", UTCDateTime, nullable=True),
    Column("pending_change", JSON, nullable=True),
    Column("payment_method", String(100), nullable=True),
    # The payment provider's customer the checkout charged (email or company id): renewals
    # charge the same one.
    Column("payment_customer", String(254), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Dunning: when the renewal payment first failed, the next retry, and how many were made.
    Column("past_due_since", UTCDateTime, nullable=True),
    Column("next_payment_attempt_at", UTCDateTime, nullable=True, index=True),
    Column("payment_attempts", Integer, nullable=False, server_default=text("0")),
    # When the free trial (the first period) ends; null for a subscription bought without one.
    Column("trial_end", UTCDateTime, nullable=True),
    # When ``subscription.trial_will_end`` was emitted for it (once per trial).
    Column("trial_notified_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('trialing', 'active', 'past_due', 'canceled')", name="status"),
    CheckConstraint("payment_attempts >= 0", name="payment_attempts"),
    # The renewal scan: live subscriptions by the end of their period.
    Index(
        "ix_subscriptions_renewal_due",
        "current_period_end",
        "id",
        sqlite_where=text("status <> 'canceled'"),
        postgresql_where=text("status <> 'canceled'"),
    ),
)

orders = Table(
    "orders",
    metadata,
    Column("id", ID, ForeignKey("seat_pools.id"), primary_key=True),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=True, index=True),
    Column("owner_email", String(254), nullable=False, index=True),
    Column("price_id", ID, ForeignKey("prices.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("amount >= 0", name="amount"),
    CheckConstraint("status IN ('pending', 'paid')", name="status"),
)

seats = Table(
    "seats",
    metadata,
    Column("id", ID, primary_key=True),
    # The pool's owner's company, copied once when the seat is made: a seat is only ever made in
    # a pool whose owner belongs to a company, and an owner never changes company after that.
    Column("company_id", ID, ForeignKey("companies.id"), nullable=False, index=True),
    Column("pool_id", ID, ForeignKey("seat_pools.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=True, index=True),
    Column("email", String(254), nullable=False),
    Column("status", String(10), nullable=False),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("token_expires_at", UTCDateTime, nullable=True),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'claimed', 'revoked')", name="status"),
    CheckConstraint("email = lower(email)", name="email_lowercase"),
    Index("ix_seats_pool", "pool_id", "status"),
    Index(
        "uq_seats_pool_email",
        "pool_id",
        "email",
        unique=True,
        sqlite_where=text("status <> 'revoked'"),
        postgresql_where=text("status <> 'revoked'"),
    ),
    Index(
        "uq_seats_pool_member",
        "pool_id",
        "member_id",
        unique=True,
        sqlite_where=text("status <> 'revoked' AND member_id IS NOT NULL"),
        postgresql_where=text("status <> 'revoked' AND member_id IS NOT NULL"),
    ),
)

benefit_grants = Table(
    "benefit_grants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("seat_id", ID, ForeignKey("seats.id"), nullable=False, index=True),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False, index=True),
    Column("benefit_id", ID, ForeignKey("benefits.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("license_key", String(64), nullable=True, unique=True),
    Column("properties", JSON, nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('granted', 'revoked')", name="status"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("number", String(20), nullable=True, unique=True),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=True, index=True),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=True, index=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=True, index=True),
    Column("status", String(10), nullable=False),
    Column("reason", String(30), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("credit_applied", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("period_start", UTCDateTime, nullable=True),
    Column("period_end", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finalized_at", UTCDateTime, nullable=True),
    Column("paid_at", UTCDateTime, nullable=True),
    # Where the customer finishes a payment that waits for them (3-D Secure), while it does.
    Column("payment_url", String(2000), nullable=True),
    CheckConstraint("status IN ('draft', 'open', 'paid', 'void')", name="status"),
    CheckConstraint("credit_applied >= 0 AND total >= 0", name="amounts"),
    CheckConstraint("total = subtotal - credit_applied OR subtotal < 0", name="total"),
    # A period is renewed exactly once, whatever crashes or retries happen.
    Index(
        "uq_invoices_one_renewal_per_period",
        "subscription_id",
        "period_start",
        unique=True,
        sqlite_where=text("reason = 'subscription_cycle'"),
        postgresql_where=text("reason = 'subscription_cycle'"),
    ),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("description", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_amount", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("period_start", UTCDateTime, nullable=True),
    Column("period_end", UTCDateTime, nullable=True),
    CheckConstraint("kind IN ('base', 'seats', 'proration', 'credit')", name="kind"),
)

# One row: the last invoice number given. Incremented inside the finalising transaction, so the
# sequence has no gaps (a rolled-back invoice gives its number back).
invoice_sequence = Table(
    "invoice_sequence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=True, index=True),
    Column("checkout_id", ID, ForeignKey("checkouts.id"), nullable=True),
    Column("provider", String(20), nullable=False),
    Column("provider_reference", String(200), nullable=True, index=True),
    Column("payment_method", String(100), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(10), nullable=False),
    Column("failure_reason", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("amount >= 0", name="amount"),
    CheckConstraint("status IN ('succeeded', 'failed')", name="status"),
)

# A subscription change's charge sent to the provider and not yet settled here (the change
# applied, the money kept as credit, or the charge declined): written before the charge, so a
# process killed while the provider answers leaves behind the key the charge was taken under.
change_charges = Table(
    "change_charges",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("customer", String(254), nullable=False),
    Column("description", String(300), nullable=False),
    Column("planned_at", UTCDateTime, nullable=False),
    Column("held_at", UTCDateTime, nullable=False),
)

# Seat-count rises under true-up, one row per rise above the period's peak: billed later, for
# the time held, on the invoice ``bill_at`` falls on (the renewal's, or a quarter's); taken into
# it in the invoice's own transaction (``invoice_id`` set), so each is billed exactly once.
true_ups = Table(
    "true_ups",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("price_id", ID, ForeignKey("prices.id"), nullable=False),
    Column("period_start", UTCDateTime, nullable=False),
    Column("period_end", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("seats_before", Integer, nullable=False),
    Column("seats_after", Integer, nullable=False),
    Column("bill_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=True),
    CheckConstraint("seats_after > seats_before", name="rises"),
    Index(
        "ix_true_ups_bill_at_unbilled",
        "bill_at",
        sqlite_where=text("invoice_id IS NULL"),
        postgresql_where=text("invoice_id IS NULL"),
    ),
)

# Side effects (emails, webhooks, merchant events) recorded in the transaction that causes them
# and delivered after commit by the worker: a crash loses none, a rollback sends none.
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", ID, nullable=False, unique=True),
    Column("type", String(60), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # When the delivery loop turned the event into its emails and webhook deliveries.
    Column("delivered_at", UTCDateTime, nullable=True),
    # The delivery loop's scan: events not yet fanned out, oldest first.
    Index(
        "ix_outbox_undelivered",
        "id",
        sqlite_where=text("delivered_at IS NULL"),
        postgresql_where=text("delivered_at IS NULL"),
    ),
)

# One row: the instance's own secret, generated by the migration, which signs expiring links
# (file downloads) when SEATLEDGER_SECRET_KEY is not set. Every process of an instance reads the
# same row, so a link signed by one is honoured by all.
instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("secret_key", String(128), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)


# A company's seat alerts: per product, the thresholds (percent of the seat limit) it wants to
# hear of, and whether usage is at or above each now (``reached_at`` set) or below it (null,
# armed). A rise from armed to reached emits ``seat.usage_threshold_reached`` once.
seat_alerts = Table(
    "seat_alerts",
    metadata,
    Column("company_id", ID, ForeignKey("companies.id"), primary_key=True),
    Column("product_id", ID, ForeignKey("products.id"), primary_key=True),
    Column("threshold", Integer, primary_key=True),
    Column("reached_at", UTCDateTime, nullable=True),
    CheckConstraint("threshold >= 1 AND threshold <= 100", name="threshold"),
)

# A company's credit balance per currency (positive = credit). It absorbs negative invoice
# totals and is applied to later invoices; it is never paid out.
credit_balances = Table(
    "credit_balances",
    metadata,
    Column("company_id", ID, ForeignKey("companies.id"), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount >= 0", name="amount"),
)

# Proration lines of changes made with `prorate`, waiting for the subscription's next renewal
# invoice (or its final invoice). `invoice_id` is set when a finalised invoice takes them.
pending_lines = Table(
    "pending_lines",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("description", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_amount", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period_start", UTCDateTime, nullable=True),
    Column("period_end", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=True),
    CheckConstraint("kind IN ('proration', 'credit')", name="kind"),
)

# One row: the sandbox clock's current time (SEATLEDGER_SANDBOX=1), shared by every process.
sandbox_clock = Table(
    "sandbox_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("now", UTCDateTime, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)

# Merchant API keys: shown once, stored as SHA-256 only.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(50), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# Customer-portal sessions of a member: a bearer token stored as SHA-256 only.
customer_sessions = Table(
    "customer_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Idempotency keys of POST requests, scoped to the credential and the path (a public claim's
# to its token's hash). The row is written in the transaction of the work it answers for,
# `done` with the answer (secrets left out); `started` when a step of the request committed
# before a payment provider was called, `recovery` holding what a retry resumes from.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("credential", String(80), primary_key=True),
    Column("path", String(300), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(10), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("response_content_type", String(100), nullable=True),
    # The answer's fields left out of the stored body (secrets): named in replays' headers.
    Column("response_withheld", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("recovery", JSON, nullable=True),
    CheckConstraint("status IN ('started', 'done')", name="status"),
)

# Outgoing webhooks (Standard Webhooks signatures with the endpoint's secret).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", ID, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", String(500), nullable=True),
    # A rotated-out secret keeps signing beside the new one until it expires (SPEC §10).
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_expires_at", UTCDateTime, nullable=True),
    # Since when every delivery has failed (None after a success): 5 days of it disables.
    Column("failing_since", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Set when disabled (``enabled: false``), by the merchant or after 5 days of failures.
    Column("disabled_at", UTCDateTime, nullable=True),
)

# One row per (endpoint, event): the attempts to POST the event to the endpoint. A worker takes
# a due delivery by setting its lease (wall clock) under SKIP LOCKED, sends, then records the
# outcome; a crash leaves the lease to expire and the delivery is sent again (at least once).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", ID, nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("response_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    # By the runtime clock (the sandbox clock makes retries fall due).
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("uq_webhook_deliveries_endpoint_event", "endpoint_id", "event_id", unique=True),
    Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# Emails rendered from events (invitation, receipt, payment failed, subscription canceled).
# ``held`` when no SMTP server is configured: kept and visible, never sent.
emails = Table(
    "emails",
    metadata,
    Column("id", ID, primary_key=True),
    Column("event_id", ID, nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("company_id", ID, ForeignKey("companies.id"), nullable=True, index=True),
    Column("seat_id", ID, ForeignKey("seats.id"), nullable=True),
    Column("to", String(254), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    # An invitation's claim link, which ``text`` and ``html`` hold as a placeholder: kept only
    # until the email is sent or fails (``seatledger.services.emails``).
    Column("link", String(2000), nullable=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", String(500), nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('queued', 'sent', 'held', 'failed')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("uq_emails_event_kind_to", "event_id", "kind", "to", unique=True),
    Index(
        "ix_emails_due",
        "next_attempt_at",
        sqlite_where=text("status = 'queued'"),
        postgresql_where=text("status = 'queued'"),
    ),
)


# The payment provider's customer of each seatledger customer (a company id, or a buyer's email
# before the company exists): one per key and provider, written once (the first writer wins).
payment_customers = Table(
    "payment_customers",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("customer_key", String(254), primary_key=True),
    Column("provider_customer_id", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A checkout's payment pages at the provider (a Stripe Checkout Session): the open one is
# reused, a paid one completes the checkout.
hosted_pages = Table(
    "hosted_pages",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("checkout_id", ID, ForeignKey("checkouts.id"), nullable=False, index=True),
    Column("provider", String(20), nullable=False),
    Column("url", String(2000), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# The provider's events, kept once per id as they arrive (the webhook answers at once) and
# applied later by the delivery loop (``seatledger.services.provider_events``).
provider_events = Table(
    "provider_events",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("type", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index(
        "ix_provider_events_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# Dashboard logins (``seatledger users create``): an argon2 hash, never the password.
dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Server-side dashboard sessions: the cookie's token stored as SHA-256 only. A session ends
# when idle too long (``last_seen_at``), at ``expires_at`` whatever happens, or at logout.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("dashboard_users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Failed dashboard logins, by email and by client address: what throttling counts, so that it
# holds across server processes. Rows older than the window are deleted as new ones come.
dashboard_login_failures = Table(
    "dashboard_login_failures",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=False, index=True),
    Column("client", String(100), nullable=False, index=True),
    Column("failed_at", UTCDateTime, nullable=False, index=True),
)

# ``billing`` mode (SPEC §7): a seat price's prices at the provider, made once and kept.
provider_prices = Table(
    "provider_prices",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("price_id", ID, ForeignKey("prices.id"), primary_key=True),
    Column("base_price_id", String(255), nullable=True),
    Column("seats_price_id", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A subscription the provider bills: its id there, and the state last mirrored from it
# (``state_at``: the provider's time of that state; an older one never overwrites it).
provider_subscriptions = Table(
    "provider_subscriptions",
    metadata,
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("provider_subscription_id", String(255), nullable=False, unique=True),
    Column("status", String(30), nullable=False),
    Column("stripe_seats", Integer, nullable=False),
    Column("state_at", Integer, nullable=False),
    # The seat count here known to match Stripe's (pushed, or taken from it), and the push
    # waiting (coalesced: not before ``push_after``; at most 200 in the hour from
    # ``window_start``).
    Column("synced_seats", Integer, nullable=False),
    Column("push_after", UTCDateTime, nullable=True),
    Column("last_pushed_at", UTCDateTime, nullable=True),
    Column("window_start", UTCDateTime, nullable=True),
    Column("window_pushes", Integer, nullable=False, server_default=text("0")),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ``billing`` mode: the provider subscriptions to make for completed checkouts (written in
# the checkout's transaction, made by the delivery loop after commit; ``start_after`` null once
# made).
provider_starts = Table(
    "provider_starts",
    metadata,
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("start_after", UTCDateTime, nullable=True, index=True),
    # The provider's billing cycle anchor, fixed at the first attempt so that every retry
    # sends the same request under the same idempotency key.
    Column("anchor", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", String(500), nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# ``billing`` mode: the provider's invoices of the subscriptions it bills, kept apart from
# seatledger's own (their numbers are the provider's).
provider_invoices = Table(
    "provider_invoices",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("number", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("amount_paid", BigInteger, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("billing_reason", String(40), nullable=True),
    Column("hosted_url", String(2000), nullable=True),
    Column("created_at", UTCDateTime, nullable=True),
    Column("period_start", UTCDateTime, nullable=True),
    Column("period_end", UTCDateTime, nullable=True),
    Column("paid_at", UTCDateTime, nullable=True),
)
