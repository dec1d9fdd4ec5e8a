"""What an export run looks up once and keeps, one small dataclass per concern.

Each field is loaded on first use by the module that needs it (None or empty until then) and
lives as long as the run: a run sees one state of the lists, mappings and billing it read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from addon.billing import BillingCustomer, BillingPayment
from addon.sync.ledger import Cause


@dataclass
class Lookups:
    """Lists every export of the run reads the same way."""

    # A list setting's only NetSuite value when the setting is unset (None: not exactly one).
    sole_choices: dict[str, str | None] = field(default_factory=dict)
    # NetSuite tax code id -> what 'Load mappings' cached of it.
    tax_codes: dict[str, dict] | None = None
    # Active single billing taxes by rate, lowest id first.
    taxes_by_rate: dict[Decimal, list[int]] | None = None
    # How many records a billing listing yields, by (listing, filters); None: billing cannot tell.
    counts: dict[tuple, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerBlock:
    """Why a document's customer is not in NetSuite: the document is skipped, never sent."""

    message: str
    cause: Cause | None = None


@dataclass
class CustomerLookups:
    """What the run read about billing customers and the NetSuite customers paired with them."""

    netsuite_ids: dict[str, str] = field(default_factory=dict)  # billing id -> NetSuite id
    billing: dict[str, BillingCustomer | None] = field(default_factory=dict)  # None: not in billing
    partner_names: dict[int, str] | None = None
    paired: set[str] | None = None  # NetSuite ids of customers we did not create
    account_fields: dict[str, str] | None = None  # subsidiary and currency new customers carry


@dataclass
class CustomerProgress:
    """Which customers this run has recorded already, and why those not in NetSuite are not."""

    done: set[str] = field(default_factory=set)
    failures: dict[str, CustomerBlock] = field(default_factory=dict)


@dataclass
class AmountState:
    """The sanity rules' view of one document kind."""

    usual: Decimal | None = None  # the median total (None: not enough known)
    usual_known: bool = False  # ``usual`` was looked up
    confirmed: dict[str, Decimal] | None = None  # billing id -> amount confirmed by hand
    seen_totals: list[tuple[date, Decimal]] = field(default_factory=list)


@dataclass
class PaymentState:
    """The page of payments being exported, and what the run's invoices still owe."""

    page: list[BillingPayment] = field(default_factory=list)
    invoice_links: dict[str, str] = field(default_factory=dict)  # billing invoice id -> NetSuite id
    # NetSuite payment id -> invoice id -> amount applied; None until a payment of the page is written.
    own_applications: dict[str, dict[str, Decimal]] | None = None
    # Kept for the whole run, lowered by every amount the run applies.
    invoice_remaining: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class RunState:
    lookups: Lookups = field(default_factory=Lookups)
    customers: CustomerLookups = field(default_factory=CustomerLookups)
    payments: PaymentState = field(default_factory=PaymentState)
    customer_progress: CustomerProgress = field(default_factory=CustomerProgress)
    _amounts: dict[str, AmountState] = field(default_factory=dict)

    def sharing_lookups(self) -> RunState:
        """A state that shares this one's lookups (one billing read serves both runs) but
        records its own progress."""
        return RunState(self.lookups, self.customers, self.payments, _amounts=self._amounts)

    def amounts(self, entity: str) -> AmountState:
        """The sanity rules' state of ``entity`` documents."""
        return self._amounts.setdefault(entity, AmountState())
