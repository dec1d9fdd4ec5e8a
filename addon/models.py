"""The add-on's ledger: settings, links, caches, mappings, runs, log rows, problems.

The models live on their own ``MetaData`` (every table prefixed ``ns_``) so the
add-on's migrations never touch the host's tables, while queries go through the
host's Flask-SQLAlchemy session (see ``addon.extension``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Setting(Base):
    """One module setting; secrets hold Fernet ciphertext, never the secret."""

    __tablename__ = "ns_setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Link(Base):
    """A billing record and the NetSuite record it became (or was paired with)."""

    __tablename__ = "ns_link"
    __table_args__ = (
        UniqueConstraint("entity", "billing_id", name="uq_ns_link_entity_billing"),
        Index("ix_ns_link_entity_netsuite", "entity", "netsuite_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), nullable=False)
    billing_id: Mapped[str] = mapped_column(String(64), nullable=False)
    netsuite_id: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(120))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # The body last sent (JSON-safe: amounts as text); the record page compares it with now.
    sent_fields: Mapped[dict | None] = mapped_column(JSON)
    # 'billing' when we pushed it, 'netsuite' when it was imported: the echo guard.
    origin: Mapped[str] = mapped_column(String(10), default="billing", nullable=False)
    # synced | paired | failed | deleted_in_billing | pending (an imported payment piece being created)
    status: Mapped[str] = mapped_column(String(24), default="synced", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When a run last found the record unchanged (such runs count it instead of logging a row).
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AmountConfirmation(Base):
    """An operator's 'yes, this amount is right' for a document held as far above the usual range.

    Kept with the amount confirmed: a later, different total is checked again.
    """

    __tablename__ = "ns_amount_confirmation"
    __table_args__ = (UniqueConstraint("entity", "billing_id", name="uq_ns_amount_confirmation_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), nullable=False)
    billing_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    confirmed_by: Mapped[str | None] = mapped_column(String(120))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class ListCache(Base):
    """A row of one of NetSuite's lists, loaded by 'Load mappings'."""

    __tablename__ = "ns_list_cache"
    __table_args__ = (
        UniqueConstraint("kind", "netsuite_id", name="uq_ns_list_cache_kind_netsuite"),
        Index("ix_ns_list_cache_kind_name", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # item | bank_account | tax_code | class | department | location | term |
    # subsidiary | currency | customer
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    netsuite_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    external_id: Mapped[str | None] = mapped_column(String(120))
    extra: Mapped[dict | None] = mapped_column(JSON)
    inactive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Mapping(Base):
    """A billing-side list value mapped to a NetSuite list value.

    ``billing_id`` is empty for the defaults (default bank account, class, ...).
    """

    __tablename__ = "ns_mapping"
    __table_args__ = (UniqueConstraint("kind", "billing_id", name="uq_ns_mapping_kind_billing"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # category | payment_method | tax_rate | default_bank_account | default_class |
    # default_department | default_location | default_terms
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    billing_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    billing_name: Mapped[str | None] = mapped_column(String(400))
    netsuite_id: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    """One execution of an operation, whoever triggered it."""

    __tablename__ = "ns_sync_run"
    __table_args__ = (
        Index("ix_ns_sync_run_operation_started", "operation", "started_at"),
        # Admission is this rule, whatever else is up: one active run per lane (jobs/runs.py).
        Index(
            "uq_ns_sync_run_active_lane",
            "lane",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # A scheduled run that found its lane busy waits once per operation (jobs/deferred.py).
        Index(
            "uq_ns_sync_run_deferred_operation",
            "operation",
            unique=True,
            sqlite_where=text("status = 'deferred'"),
            postgresql_where=text("status = 'deferred'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation: Mapped[str] = mapped_column(String(40), nullable=False)
    trigger: Mapped[str] = mapped_column(String(10), nullable=False, default="manual")  # manual|cron|cli
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    params: Mapped[dict | None] = mapped_column(JSON)
    # deferred | queued | running | succeeded | partial | failed | cancelled
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    job_id: Mapped[str | None] = mapped_column(String(80))
    phase: Mapped[str | None] = mapped_column(String(120))
    # The current phase's own progress: a full sync's "Exporting invoices" is 120 of 520 while the
    # run is 302 of 1,196. No phase total: its records were not counted first.
    phase_done: Mapped[int | None] = mapped_column(Integer)
    phase_total: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    counts: Mapped[dict | None] = mapped_column(JSON)
    # What the operation returns beyond counts: a reconciliation report, proposed pairs.
    result: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The operations that may not overlap share a lane; NULL for runs made outside jobs.submit.
    lane: Mapped[str | None] = mapped_column(String(40))
    # The process that runs it (or, queued in-process, will): a submit sweeps runs of this host
    # whose process is gone.
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))

    log_entries: Mapped[list[LogEntry]] = relationship(back_populates="run", lazy="dynamic")


class LogEntry(Base):
    """The integration log: one row per record per run."""

    __tablename__ = "ns_log_entry"
    __table_args__ = (
        Index("ix_ns_log_entry_run", "run_id"),
        Index("ix_ns_log_entry_entity_billing", "entity", "billing_id"),
        Index("ix_ns_log_entry_outcome_created", "outcome", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ns_sync_run.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False, default="export")  # export|import|local
    entity: Mapped[str] = mapped_column(String(20), nullable=False)
    billing_id: Mapped[str | None] = mapped_column(String(64))
    netsuite_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20), nullable=False)  # create|update|match|pair|import|...
    # created | updated | matched | unchanged | skipped | failed | would_create | ...
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str | None] = mapped_column(Text)

    run: Mapped[SyncRun | None] = relationship(back_populates="log_entries")


class Problem(Base):
    """A cause that blocks records, grouped ('tax rate VAT 20% not mapped: 37 invoices')."""

    __tablename__ = "ns_problem"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # e.g. 'unmapped:tax_rate:3', 'missing_fields:customer', 'netsuite:INVALID_KEY_OR_REF'
    cause_key: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    fix_hint: Mapped[str | None] = mapped_column(Text)
    # What fixes it, as (mapping kind, billing id) or (entity, billing id): the views turn it into a link.
    fix_kind: Mapped[str | None] = mapped_column(String(40))
    fix_ref: Mapped[str | None] = mapped_column(String(64))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    records: Mapped[list[ProblemRecord]] = relationship(
        back_populates="problem", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def count(self) -> int:
        return len(self.records)


class ProblemRecord(Base):
    __tablename__ = "ns_problem_record"
    __table_args__ = (
        UniqueConstraint("problem_id", "entity", "billing_id", name="uq_ns_problem_record_key"),
        Index("ix_ns_problem_record_entity_billing", "entity", "billing_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("ns_problem.id", ondelete="CASCADE"), nullable=False)
    entity: Mapped[str] = mapped_column(String(20), nullable=False)
    billing_id: Mapped[str] = mapped_column(String(64), nullable=False)
    label: Mapped[str | None] = mapped_column(String(400))

    problem: Mapped[Problem] = relationship(back_populates="records")


class ConnectionStatus(Base):
    """Whether a remote system's credentials need the operator's attention.

    An authentication failure sets ``needs_attention``; syncs refuse to start
    until a test-connection succeeds and clears it.
    """

    __tablename__ = "ns_connection_status"

    system: Mapped[str] = mapped_column(String(20), primary_key=True)  # netsuite | splynx
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Fingerprints (never the secrets) of the credentials that last failed and last worked:
    # a halt lifts once different credentials are configured; ones that worked get 401 retries.
    failed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    working_fingerprint: Mapped[str | None] = mapped_column(String(64))


class HookEvent(Base):
    """A signed Splynx webhook, stored before it is acknowledged (live sync, docs/splynx-webhooks.md).

    ``status``: waiting (for a live run) | claimed (by ``run_id``) | done | ignored (its entity's
    live toggle was off) | unknown (a model the add-on does not sync) | refused (Splynx reported
    the action failed). A claimed event whose run ended without finishing it is waiting again.
    """

    __tablename__ = "ns_hook_event"
    __table_args__ = (Index("ix_ns_hook_event_status_entity", "status", "entity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    entity: Mapped[str | None] = mapped_column(String(20))
    billing_id: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="waiting")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ns_sync_run.id", ondelete="SET NULL"))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    payload: Mapped[dict | None] = mapped_column(JSON)
