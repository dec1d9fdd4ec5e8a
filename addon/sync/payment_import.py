"""NetSuite customer payments into billing ('new': since the last import; 'all': since import_from).

Each NetSuite payment becomes one or more pieces on the billing side: a billing
payment on every billing invoice it was applied to (matched through the
invoice links), and the rest either as a payment on the customer's account
(setting ``payments_without_documents``, and always for a billing system without
payment statements) or as a line of the month's/day's payment statement
("NetSuite payments 2025-03"). Money applied to an invoice that
billing shows as (partly) paid already goes there only up to the invoice's due
amount; the excess follows the same rule as unapplied money.

Payments are imported in batches of 200: the intents of a whole batch are committed
at once, its billing creates are then sent side by side (at most the configured
concurrency; payments sharing a billing invoice in one chain, in order), and its
links are written in one commit.

No piece is ever created twice. Each has a key of ours, 'ns-payment-<id>:<piece>',
which billing keeps on the record (Splynx: the receipt number, or the statement
line's ``additional_1``). Before the create, an intent (a Link in status
'pending') is committed; after it, the Link gets the billing id. A create whose
answer is ambiguous is looked up by that key before it is sent again (the billing
client does it), and a run killed between billing's commit and our link write
leaves the intent, which the next run resolves by the same lookup before it
creates anything (docs/splynx-installations.md).

The cursor for 'new' is the highest NetSuite payment id among those links:
internal ids only grow, even for backdated payments. Payments skipped or failed
earlier (e.g. customer not linked yet) are retried by 'new' while their problem
is open, and by 'all' always. Edits made in NetSuite after a payment was
imported are not carried over.

Payment method: the payment_method mapping whose NetSuite bank account is the
payment's deposit account; when no mapping says otherwise, the first active billing
method. The deposit account is read in the same SuiteQL as the payments, from their
posting lines (``transactionaccountingline``), and only when mappings use several
different bank accounts. Voided and unapproved payments are never imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice

from sqlalchemy import Integer, cast, func, select

from addon.billing import (
    PAYMENT_STATEMENTS,
    BillingError,
    BillingNotFound,
    BillingValidationError,
    PaymentStatementLine,
)
from addon.extension import session
from addon.models import Link, Mapping, Problem, ProblemRecord, utcnow
from addon.sync import entities
from addon.sync.context import SyncContext
from addon.sync.ledger import Cause, RunLedger
from addon.sync.links import external_prefix

BATCH = 200
PENDING = "pending"
# Statement-line statuses Splynx lets an admin pair by hand (docs/splynx-installations.md):
# 'ignored' is what Splynx itself gives money for an invoice already paid.
UNMATCHED, ALREADY_PAID = "error", "ignored"
IMPORTING_DIRECTIONS = ("netsuite_to_splynx", "bidirectional")
UNKNOWN_CUSTOMER = Cause(
    key="unlinked:payment_customer",
    kind="unlinked",
    title="NetSuite payments from customers not linked to a billing customer",
    fix_hint="Match or pair these customers (Customers page), then import the payments again.",
    fix_kind="customer",
)


@dataclass(frozen=True)
class NetSuitePayment:
    id: str
    tranid: str
    external_id: str
    customer: str
    amount: Decimal
    date: date
    memo: str
    account: str | None = None  # the mapped bank account it debited, when mappings tell several apart

    @property
    def key(self) -> str:
        """The ledger/problem key: the billing record does not exist yet."""
        return f"netsuite:{self.id}"


@dataclass(frozen=True)
class Piece:
    suffix: str  # NetSuite invoice id; '<id>+' for what exceeds its due in billing; or 'rest'
    amount: Decimal
    billing_invoice_id: int | None
    # For money kept off an invoice: the billing invoice it was applied to in NetSuite.
    paid_invoice_id: int | None = None


@dataclass(frozen=True)
class _Verdict:
    """A payment settled without writing to billing: what its log row says."""

    outcome: str
    message: str
    cause: Cause | None = None


@dataclass(frozen=True)
class _Todo:
    """A payment to import: its billing customer and the pieces not imported yet."""

    customer_id: int
    pieces: list[Piece]


def import_payments(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: NetSuite payments created since the last imported one (plus open retries)."""
    _import(ctx, ledger, everything=False)


def import_all_payments(ctx: SyncContext, ledger: RunLedger) -> None:
    """Operation: every NetSuite payment dated on/after import_from; imported ones stay unchanged."""
    _import(ctx, ledger, everything=True)


def _import(ctx: SyncContext, ledger: RunLedger, everything: bool) -> None:
    direction = ctx.setting("payment_direction")
    if direction not in IMPORTING_DIRECTIONS:
        message = f"payment import is off: direction is {ctx.backend.label}→NetSuite"
        ledger.phase(message)
        ledger.note(message)
        return
    if not ledger.dry_run:
        # First, before the cursor is read and before anything is created.
        _resolve_intents(ctx, ledger)
    # Voided payments and unapproved ones (status A, not posting) are no money received
    # (docs/netsuite-oauth2-and-payments.md).
    where = [
        f"t.type = '{entities.PAYMENT.tran_type}'",
        f"(t.externalid IS NULL OR t.externalid NOT LIKE '{external_prefix(entities.PAYMENT.name)}%')",
        "t.voided = 'F'",
        "t.posting = 'T'",
        "t.status <> 'A'",
    ]
    import_from = ctx.setting("import_from")
    if import_from:
        where.append(f"t.trandate >= TO_DATE('{import_from.isoformat()}', 'YYYY-MM-DD')")
    if not everything:
        cursor = session().scalar(
            select(func.max(cast(Link.netsuite_id, Integer))).where(
                Link.entity == "payment", Link.origin == "netsuite"
            )
        )
        # Pending intents are pieces never created: their payments are retried even below the
        # cursor, since a batch's payments land side by side, not in id order.
        retry = sorted({*_open_retries(), *_pending_payments()}, key=int)
        newer = [f"t.id > {int(cursor)}"] if cursor is not None else ["1 = 1"]
        if retry:
            newer.append(f"t.id IN ({', '.join(str(int(i)) for i in retry)})")
        where.append(f"({' OR '.join(newer)})")
    importer = _Importer(ctx, ledger, import_from)
    rows = ctx.netsuite.suiteql_keyset(
        _payments_query(importer.bank_accounts()), where=" AND ".join(where), key="t.id"
    )
    ledger.phase("Importing NetSuite payments")
    for batch in _chunks(_payments(rows), BATCH):
        ledger.add_total(len(batch))
        importer.run_batch(batch)
    ledger.set_result({"statements": sorted(importer.statements_used)})


def _resolve_intents(ctx: SyncContext, ledger: RunLedger) -> None:
    """Settle the pieces an earlier run began but never linked: link the record billing holds
    under the piece's key, or drop the intent so that the piece is created afresh."""
    pending = (
        session()
        .scalars(select(Link).where(Link.entity == "payment", Link.status == PENDING).order_by(Link.id))
        .all()
    )
    if not pending:
        return
    ledger.phase("Resolving payments an earlier run left unfinished", total=len(pending))
    found = 0
    for intent in pending:
        key = intent.external_id or ""
        payment = ctx.billing.find_payment(key)
        line = (
            ctx.billing.find_payment_statement_line(key)
            if payment is None and PAYMENT_STATEMENTS in ctx.billing.capabilities
            else None
        )
        if payment is None and line is None:
            # Kept: this run creates the piece anew under the same intent (its id is retried
            # below the cursor), and a kill before that leaves it for the next run again.
            pass
        else:
            found += 1
            if payment is not None:
                intent.billing_id = str(payment.id)
            else:
                assert line is not None
                intent.billing_id = f"statement:{line.statement_id}:{line.id}"
            intent.status, intent.synced_at = "synced", utcnow()
        ledger.commit()
    ledger.note(
        f"{len(pending)} payment piece(s) left unfinished by an earlier run: {found} found in "
        f"billing and linked, {len(pending) - found} not there and imported again"
    )


def _pending_payments() -> list[str]:
    ids = session().scalars(
        select(Link.netsuite_id).where(Link.entity == "payment", Link.status == PENDING).distinct()
    )
    return [i for i in ids if i and i.isdigit()]


def _open_retries() -> list[str]:
    keys = session().scalars(
        select(ProblemRecord.billing_id)
        .join(Problem, Problem.id == ProblemRecord.problem_id)
        .where(
            ProblemRecord.entity == "payment",
            ProblemRecord.billing_id.like("netsuite:%"),
            Problem.resolved.is_(False),
        )
    )
    return [key.split(":", 1)[1] for key in keys if key.split(":", 1)[1].isdigit()]


def _payments_query(bank_accounts: list[str]) -> str:
    """The payments SELECT; with several mapped bank accounts it also reads which one each
    payment debited, from its posting lines (one row per payment and debited mapped account)."""
    select_from = (
        "SELECT t.id, t.tranid, t.externalid, t.entity, t.foreigntotal, t.memo, "
        "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate"
    )
    if len(bank_accounts) <= 1:
        return select_from + " FROM transaction t"
    # ints only: safe to inline (docs/netsuite-rest.md §6.1)
    accounts = ", ".join(str(int(a)) for a in bank_accounts)
    return (
        f"{select_from}, tal.account AS account FROM transaction t "
        "LEFT JOIN transactionaccountingline tal ON tal.transaction = t.id AND tal.debit > 0 "
        f"AND tal.account IN ({accounts})"
    )


def _payments(rows) -> Iterator[NetSuitePayment]:
    """One payment per id: a payment with posting lines in several books comes once per line."""
    last = None
    for row in rows:
        if row["id"] != last:
            last = row["id"]
            yield _payment(row)


def _payment(row: dict) -> NetSuitePayment:
    return NetSuitePayment(
        id=str(row["id"]),
        tranid=row.get("tranid", ""),
        external_id=row.get("externalid", ""),
        customer=str(row.get("entity", "")),
        # The sign of `foreigntotal` for payments is unconfirmed (docs/netsuite-rest.md §6.2): a payment is
        # money in.
        amount=abs(Decimal(row.get("foreigntotal", "0"))),
        date=date.fromisoformat(row["trandate"]),
        memo=row.get("memo", ""),
        account=str(row["account"]) if row.get("account") is not None else None,
    )


def _chunks(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _links_by_netsuite_id(entity: str, netsuite_ids: list[str]) -> dict[str, list[Link]]:
    found: dict[str, list[Link]] = {}
    if netsuite_ids:
        for link in session().scalars(
            select(Link).where(Link.entity == entity, Link.netsuite_id.in_(netsuite_ids))
        ):
            found.setdefault(link.netsuite_id, []).append(link)
    return found


class _Importer:
    """One run's state: statements found or opened, payment methods, the batch lookups."""

    def __init__(self, ctx: SyncContext, ledger: RunLedger, import_from: date | None):
        self.ctx, self.ledger, self.import_from = ctx, ledger, import_from
        self.statements: dict[str, int] = {}
        self.statements_used: set[str] = set()
        self._methods: dict[str, int] | None = None
        self._mapped: dict[str, int] | None = None
        self._default_method: int | None = None
        self._due: dict[int, Decimal | None] = {}  # billing invoice -> due once this run's pieces land
        # Unapplied money lands on the customer's account when asked to, or when the billing
        # system has no payment statements to hold it for pairing.
        self.on_account = bool(ctx.setting("payments_without_documents")) or (
            PAYMENT_STATEMENTS not in ctx.billing.capabilities
        )

    # -- lookups --------------------------------------------------------------------------------

    def _applications(self, payment_ids: list[str]) -> dict[str, list[tuple[str, Decimal]]]:
        """NetSuite invoice applications of these payments (docs/netsuite-rest.md §6.2 line-link table), one
        query."""
        applied: dict[str, list[tuple[str, Decimal]]] = {}
        # ints only: safe to inline (docs/netsuite-rest.md §6.1)
        ids = ", ".join(str(int(i)) for i in payment_ids)
        query = (
            "SELECT l.nextdoc, l.previousdoc, l.foreignamount FROM nexttransactionlinelink l "  # noqa: S608
            f"WHERE l.nexttype = '{entities.PAYMENT.tran_type}' AND l.previoustype = '{entities.INVOICE.tran_type}' "
            f"AND l.nextdoc IN ({ids}) "
            "ORDER BY l.nextdoc ASC, l.previousdoc ASC"
        )
        for row in self.ctx.netsuite.suiteql(query):
            applied.setdefault(str(row["nextdoc"]), []).append(
                (str(row["previousdoc"]), abs(Decimal(row["foreignamount"])))
            )
        return applied

    def _mapped_methods(self) -> dict[str, int]:
        if self._mapped is None:
            self._mapped = {
                m.netsuite_id: int(m.billing_id)
                for m in session().scalars(
                    select(Mapping).where(Mapping.kind == "payment_method").order_by(Mapping.billing_id)
                )
            }
        return self._mapped

    def _methods_by_account(self) -> dict[str, int]:
        if self._methods is None:
            self._methods = self._mapped_methods()
            active = [m.id for m in self.ctx.billing.payment_methods() if m.is_active]
            self._default_method = min(active) if active else 1
        return self._methods

    def bank_accounts(self) -> list[str]:
        """The NetSuite bank accounts payment methods are mapped to (the method depends on them)."""
        return sorted(a for a in self._mapped_methods() if a.isdigit())

    def _method_for(self, payment: NetSuitePayment) -> int:
        methods = self._methods_by_account()
        if len(methods) > 1 and payment.account in methods:
            return methods[payment.account]
        if len(methods) == 1:
            return next(iter(methods.values()))
        assert self._default_method is not None  # set with the methods above
        return self._default_method

    def _statement_for(self, day: date, method_id: int) -> int:
        title = f"NetSuite payments {day:%Y-%m-%d}" if self.ctx.setting("statement_grouping") == "day" else (
            f"NetSuite payments {day:%Y-%m}"
        )  # fmt: skip
        if title not in self.statements:
            found = next(iter(self.ctx.billing.payment_statements(title=title)), None)
            self.statements[title] = (
                found.id if found else self.ctx.billing.create_payment_statement(title, method_id)
            )
        self.statements_used.add(title)
        return self.statements[title]

    # -- the batch ------------------------------------------------------------------------------

    def run_batch(self, batch: list[NetSuitePayment]) -> None:
        ids = [p.id for p in batch]
        own = _links_by_netsuite_id("payment", ids)
        customers = _links_by_netsuite_id("customer", sorted({p.customer for p in batch}))
        applications = self._applications(ids)
        invoice_links = _links_by_netsuite_id(
            "invoice", sorted({doc for apps in applications.values() for doc, _ in apps})
        )
        plans = [
            (
                payment,
                self._plan(
                    payment,
                    own.get(payment.id, []),
                    customers.get(payment.customer, []),
                    applications.get(payment.id, []),
                    invoice_links,
                ),
            )
            for payment in batch
        ]
        jobs = []
        for payment, plan in plans:
            if isinstance(plan, _Todo):
                # Intents left by an earlier run, not found in billing when this run began.
                left = {link.external_id: link for link in own.get(payment.id, []) if link.status == PENDING}
                jobs.append(self._job(payment, plan, left))
                for stale in left.values():
                    session().delete(stale)  # a piece no longer planned: never created
            else:
                self._record(payment, plan.outcome, plan.message, plan.cause)
        if jobs:
            self._import_batch(jobs)

    def _record(
        self, payment: NetSuitePayment, outcome: str, message: str, cause: Cause | None = None
    ) -> None:
        self.ledger.record(
            entity="payment",
            billing_id=payment.key,
            outcome=outcome,
            action="import",
            netsuite_id=payment.id,
            direction="import",
            message=message,
            cause=cause,
            label=f"NetSuite payment {payment.tranid or payment.id}",
        )

    def _plan(self, payment, links, customer_links, applications, invoice_links) -> _Verdict | _Todo:
        if payment.external_id.startswith(external_prefix(entities.PAYMENT.name)) or any(
            link.origin == "billing" for link in links
        ):
            return _Verdict("skipped", "Exported from billing: never imported back")
        if self.import_from and payment.date < self.import_from:
            return _Verdict("skipped", f"Dated before the import-from date {self.import_from}")
        done = {link.external_id for link in links if link.status != PENDING}
        pieces = self._pieces(payment, applications, invoice_links, done)
        todo = [piece for piece in pieces if self._piece_key(payment, piece) not in done]
        if not todo:
            return _Verdict("unchanged", "Already imported")
        if not customer_links:
            return _Verdict(
                "skipped", f"NetSuite customer {payment.customer} is not linked to a billing customer",
                UNKNOWN_CUSTOMER,
            )  # fmt: skip
        self._spend(todo)
        if self.ledger.dry_run:
            return _Verdict("would_import", self._describe(payment, todo))
        return _Todo(int(customer_links[0].billing_id), todo)

    def _pieces(self, payment: NetSuitePayment, applications, invoice_links, done: set[str]) -> list[Piece]:
        """The payment's pieces: per applied invoice, what fits its due amount in billing, and
        what exceeds it (created first: it leaves the due amount as it is, so a rerun after a
        crash between the two computes the same split); then the unapplied rest."""
        pieces, rest = [], payment.amount
        for doc, amount in applications:
            linked = invoice_links.get(doc)
            if not linked or amount <= 0:
                continue
            rest -= amount
            invoice_id = int(linked[0].billing_id)
            if self._key(payment, doc) in done:
                continue  # on the invoice already, and any excess went before it
            due = self._remaining_due(invoice_id)
            fits = amount if due is None else max(min(amount, due), Decimal("0"))
            if amount > fits:
                pieces.append(Piece(f"{doc}+", amount - fits, None, paid_invoice_id=invoice_id))
            if fits > 0:
                pieces.append(Piece(doc, fits, invoice_id))
        if rest > 0:
            pieces.append(Piece("rest", rest, None))
        return pieces

    def _remaining_due(self, invoice_id: int) -> Decimal | None:
        """The invoice's due amount less what this run has planned for it already: the payments
        of a batch are planned before any is sent."""
        if invoice_id not in self._due:
            self._due[invoice_id] = self._invoice_due(invoice_id)
        return self._due[invoice_id]

    def _spend(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            due = self._due.get(piece.billing_invoice_id) if piece.billing_invoice_id is not None else None
            if piece.billing_invoice_id is not None and due is not None:
                self._due[piece.billing_invoice_id] = due - piece.amount

    def _invoice_due(self, invoice_id: int) -> Decimal | None:
        """What billing still expects on the invoice (None: billing does not say)."""
        try:
            invoice = self.ctx.billing.get_document("invoice", invoice_id)
        except BillingNotFound:
            return Decimal("0")
        return Decimal("0") if invoice.is_deleted else invoice.amount_due

    @staticmethod
    def _key(payment: NetSuitePayment, suffix: str) -> str:
        return f"ns-payment-{payment.id}:{suffix}"

    @classmethod
    def _piece_key(cls, payment: NetSuitePayment, piece: Piece) -> str:
        return cls._key(payment, piece.suffix)

    def _describe(self, payment: NetSuitePayment, pieces: list[Piece]) -> str:
        parts = []
        for piece in pieces:
            why = f" (invoice {piece.paid_invoice_id} is paid in billing)" if piece.paid_invoice_id else ""
            if piece.billing_invoice_id is not None:
                parts.append(f"{piece.amount} on invoice {piece.billing_invoice_id}")
            elif self.on_account:
                parts.append(f"{piece.amount} on the customer's account{why}")
            else:
                parts.append(f"{piece.amount} as a payment statement line{why}")
        return f"Payment {payment.tranid} of {payment.date}: " + "; ".join(parts)

    # -- creating the batch's pieces --------------------------------------------------------------

    def _import_batch(self, jobs: list[_Job]) -> None:
        """Create the batch's pieces: every intent in one commit, then billing's writes side by
        side (at most the configured concurrency), then every link in one commit.

        Payments that touch the same billing invoice form one chain, sent in plan order by one
        worker, as are the pieces of a payment (what exceeds an invoice's due before what fits
        it): the due amounts the plan was made with then hold when each write lands."""
        for job in jobs:
            for step in job.steps:
                session().add(step.intent)
        # Durable before any billing write: a run killed after billing's commit leaves them behind.
        self.ledger.commit()
        chains = _chains(jobs)
        sends = [[_Send.of(job) for job in chain] for chain in chains]
        stop: BaseException | None = None
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.ctx.concurrency, len(sends))), thread_name_prefix="payment-import"
        ) as pool:
            halt: list[BaseException] = []  # a stopping error seen by any worker halts them all
            futures = [pool.submit(_send_chain, self.ctx.billing, chain, halt) for chain in sends]
            for send_chain, future in zip(sends, futures, strict=True):
                for send, outcome in zip(send_chain, future.result(), strict=True):
                    stop = stop or outcome.stop
                    send.outcome = outcome
        for chain, chain_sends in zip(chains, sends, strict=True):
            for job, send in zip(chain, chain_sends, strict=True):
                assert send.outcome is not None  # every send of a chain got its outcome above
                self._settle(job, send.outcome)
        # Durable before the next batch: a rerun must see these pieces as done.
        self.ledger.commit()
        if stop is not None:
            raise stop

    def _settle(self, job: _Job, outcome: _Outcome) -> None:
        """Link what billing created, drop the intents of what was never sent or was refused;
        an ambiguous answer keeps its intent for the next run to look up."""
        for step in job.steps:
            created = outcome.created.get(step.key)
            if created is not None:
                step.intent.billing_id, step.intent.status = created, "synced"
                step.intent.synced_at = utcnow()
                continue
            if outcome.stop is not None or (step.key == outcome.failed_key and not outcome.refused):
                continue  # billing may hold it, or it is still to do: the next run looks it up first
            session().delete(step.intent)
            invoice = step.piece.billing_invoice_id
            due = self._due.get(invoice) if invoice is not None else None
            if invoice is not None and due is not None:
                self._due[invoice] = due + step.piece.amount  # not on the invoice after all
        if outcome.stop is not None and not outcome.created and outcome.failed_key is None:
            return  # never attempted: the run stops, the payment stays to be imported next time
        if outcome.error is not None:
            self._record(job.payment, "failed", f"Billing refused it: {outcome.error}")
        elif outcome.stop is None:
            self._record(job.payment, "imported", self._describe(job.payment, job.todo.pieces))

    def _job(self, payment: NetSuitePayment, todo: _Todo, left: dict[str | None, Link]) -> _Job:
        method_id = self._method_for(payment)
        reference = payment.tranid or f"NS-{payment.id}"
        comment = f"Imported from NetSuite payment {reference}"
        steps = []
        for piece in todo.pieces:
            key = self._piece_key(payment, piece)
            as_payment = piece.billing_invoice_id is not None or self.on_account
            statement_id = None if as_payment else self._statement_for(payment.date, method_id)
            intent = left.pop(key, None) or Link(
                entity="payment", billing_id=f"{PENDING}:{key}", netsuite_id=payment.id, external_id=key,
                origin="netsuite", status=PENDING,
            )  # fmt: skip
            if as_payment:
                write = _Write(key, piece, statement_id, None)
            else:
                if piece.paid_invoice_id is not None:
                    status = ALREADY_PAID
                    why = (
                        f"applied in NetSuite to invoice {piece.paid_invoice_id}, which is paid here already"
                    )
                else:
                    status, why = UNMATCHED, "applied in NetSuite to no invoice known here"
                line = PaymentStatementLine(
                    amount=piece.amount, payment_date=payment.date, customer_id=todo.customer_id,
                    reference=key, status=status, comment=f"{comment}: {why}. Pair it by hand.",
                )  # fmt: skip
                write = _Write(key, piece, statement_id, line)
            steps.append(_Step(key, piece, intent, write))
        return _Job(payment, todo, steps, method_id, comment)


@dataclass(frozen=True)
class _Write:
    """One billing create, as plain data a worker thread can send."""

    key: str
    piece: Piece
    statement_id: int | None
    line: PaymentStatementLine | None  # None: a billing payment


@dataclass
class _Step:
    key: str
    piece: Piece
    intent: Link  # touched on the calling thread only
    write: _Write


@dataclass
class _Job:
    payment: NetSuitePayment
    todo: _Todo
    steps: list[_Step]
    method_id: int
    comment: str

    def invoices(self) -> set[int]:
        return {
            i for s in self.steps if (i := s.piece.billing_invoice_id or s.piece.paid_invoice_id) is not None
        }


@dataclass
class _Outcome:
    created: dict[str, str] = field(default_factory=dict)  # piece key -> billing id
    failed_key: str | None = None
    error: BillingError | None = None
    refused: bool = False  # billing refused outright: nothing was created
    stop: BaseException | None = None  # the run must stop (e.g. billing unreachable)


@dataclass
class _Send:
    """What a worker needs of a job (no ORM objects), and what came of it."""

    customer_id: int
    date: date
    method_id: int
    comment: str
    writes: list[_Write]
    outcome: _Outcome | None = None

    @classmethod
    def of(cls, job: _Job) -> _Send:
        return cls(
            job.todo.customer_id, job.payment.date, job.method_id, job.comment, [s.write for s in job.steps]
        )


def _chains(jobs: list[_Job]) -> list[list[_Job]]:
    """Jobs grouped so that two jobs touching one billing invoice share a chain, in plan order."""
    owner: dict[int, int] = {}  # invoice -> chain index
    parent = list(range(len(jobs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for index, job in enumerate(jobs):
        for invoice in job.invoices():
            if invoice in owner:
                parent[root(index)] = root(owner[invoice])
            else:
                owner[invoice] = index
    chains: dict[int, list[_Job]] = {}
    for index, job in enumerate(jobs):
        chains.setdefault(root(index), []).append(job)
    return sorted(chains.values(), key=lambda chain: jobs.index(chain[0]))


def _send_chain(billing, chain: list[_Send], halt: list[BaseException]) -> list[_Outcome]:
    """Worker thread: send a chain's creates in order; no database access."""
    from addon.sync.operations import STOPPING_ERRORS

    outcomes: list[_Outcome] = []
    for send in chain:
        outcome = _Outcome()
        outcomes.append(outcome)
        if halt:
            outcome.stop = halt[0]
            continue
        for write in send.writes:
            try:
                outcome.created[write.key] = _create(billing, send, write)
            except BillingError as exc:
                outcome.failed_key, outcome.error = write.key, exc
                outcome.refused = isinstance(exc, BillingValidationError)
                if isinstance(exc, STOPPING_ERRORS):
                    outcome.stop, outcome.error = exc, None
                    halt.append(exc)
                break
    return outcomes


def _create(billing, send: _Send, write: _Write) -> str:
    if write.line is None:
        return str(
            billing.create_payment(
                send.customer_id, write.piece.amount, send.date, send.method_id,
                invoice_id=write.piece.billing_invoice_id, reference=write.key, comment=send.comment,
            )
        )  # fmt: skip
    line_id = billing.add_payment_statement_line(write.statement_id, write.line)
    return f"statement:{write.statement_id}:{line_id}"
