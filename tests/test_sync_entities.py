"""The entity registry: each type declared once, and a type registered from outside flows through
the same export, the full sync, the log filter, the dashboard and the record pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.billing import BillingNotFound
from addon.extension import session
from addon.models import Link, LogEntry
from addon.sync import entities, links
from addon.sync.entities import EntityType, Words

MISSING_CUSTOMER = 999_999


def test_every_entity_type_is_declared_once_with_its_own_external_id_prefix():
    declared = list(entities.all_types())
    assert [t.name for t in declared] == ["customer", "invoice", "credit_note", "payment"]
    assert links.external_id("credit_note", 7) == "splynx-creditnote-7"
    assert {t.name: t.tran_type for t in entities.reconciled()} == {
        "invoice": "CustInvc",
        "credit_note": "CustCred",
        "payment": "CustPymt",
    }
    with pytest.raises(ValueError, match="declared already"):
        entities.register(entities.INVOICE)
    # Reconciliation reads NetSuite by externalId prefix: one type's prefix may not start another's.
    with pytest.raises(ValueError, match="overlaps"):
        entities.register(_memo_type(_MemoBook([]), item="1", prefix="invoice-x-"))
    with pytest.raises(ValueError, match="letters, digits"):
        entities.register(_memo_type(_MemoBook([]), item="1", prefix="toy memo/"))
    assert "memo" not in entities.labels()


# --------------------------------------------------------------------------- a toy type


@dataclass(frozen=True)
class Memo:
    """A billing document kind of the toy type: one amount, one customer."""

    id: int
    customer_id: int
    number: str
    total: Decimal
    date: date
    is_deleted: bool = False


class _MemoBook:
    """The toy type's billing side: memos in memory, listed and fetched as billing does."""

    def __init__(self, memos: list[Memo]):
        self.memos = {memo.id: memo for memo in memos}

    def list(self, billing, id_above=None, ids=None, customer_id=None, **filters):
        wanted = None if ids is None else set(ids)
        for key, memo in sorted(self.memos.items()):
            if (id_above is None or key > id_above) and (wanted is None or key in wanted):
                if customer_id is None or memo.customer_id == customer_id:
                    yield memo

    def fetch(self, billing, billing_id: int) -> Memo:
        if billing_id not in self.memos:
            raise BillingNotFound(f"no memo {billing_id}")
        return self.memos[billing_id]


def _memo_type(book: _MemoBook, item: str, prefix: str = "toy-memo-") -> EntityType:
    from addon.sync.customers import blocked_by_customer, ensure_customer, prepare_customers
    from addon.sync.exporter import Export, Write, by_ids, run_export

    def write(run, memo: Memo):
        label = f"Memo {memo.number}"
        customer_id, block = ensure_customer(run, memo.customer_id)
        if customer_id is None:
            return blocked_by_customer(label, block)
        line = {"item": {"id": item}, "quantity": Decimal("1"), "rate": memo.total, "amount": memo.total}
        payload = {
            "entity": {"id": customer_id},
            "tranDate": memo.date.isoformat(),
            "item": {"items": [line]},
        }
        return Write(payload=payload, label=label, replace=("item",))

    def export(run):
        return Export(
            entity="memo",
            prepare=lambda memo, link: write(run, memo),
            before_page=lambda page: prepare_customers(run, [memo.customer_id for memo in page]),
            is_deleted=lambda memo: memo.is_deleted,
        )

    def records(run, ids):
        return by_ids(lambda chunk: book.list(run.ctx.billing, ids=chunk), ids)

    return EntityType(
        name="memo",
        noun="memo",
        label="Memos",
        record_type="invoice",
        external_prefix=prefix,
        list=book.list,
        fetch=book.fetch,
        export=export,
        records=records,
        export_records=lambda run, ids: run_export(run, export(run), records(run, ids), only=ids),
        describe=lambda memo: Words(
            title=memo.number, detail="", amount=memo.total, date=memo.date, customer_id=memo.customer_id
        ),  # fmt: skip
        is_deleted=lambda memo: memo.is_deleted,
    )


@pytest.fixture
def memos(export_ready):
    """The toy type registered over a ready export set-up, and unregistered after the test."""
    setup = export_ready
    manifest = setup.env.splynx.dataset.manifest
    bad = set(manifest["incomplete_customers"]) | set(manifest["malformed_addresses"])
    customer = next(c["id"] for c in setup.env.splynx.state.all("customers") if c["id"] not in bad)
    book = _MemoBook(
        [
            Memo(1, customer, "M-1", Decimal("12.50"), date(2026, 3, 1)),
            Memo(2, customer, "M-2", Decimal("40.00"), date(2026, 3, 2)),
            Memo(3, MISSING_CUSTOMER, "M-3", Decimal("5.00"), date(2026, 3, 3)),
        ]
    )
    item = next(r["id"] for r in setup.ns_records("serviceSaleItem"))
    entities.register(_memo_type(book, item))
    yield book
    entities.unregister("memo")


def _memo_rows(run) -> dict[str, LogEntry]:
    query = select(LogEntry).where(LogEntry.run_id == run.id, LogEntry.entity == "memo")
    return {row.billing_id: row for row in session().scalars(query)}


def test_a_registered_type_is_exported_by_the_full_sync_with_its_customers(export_ready, memos):
    setup = export_ready
    run = setup.run("sync")
    assert run.status in ("succeeded", "partial"), run.message
    assert run.result["memos"] == {"created": 2, "skipped": 1}
    rows = _memo_rows(run)
    assert {key: row.outcome for key, row in rows.items()} == {"1": "created", "2": "created", "3": "skipped"}
    # The memo whose customer billing does not have waits on that customer, in the customer's words.
    assert rows["3"].message == f"customer {MISSING_CUSTOMER} does not exist in billing"
    customer_links = links.links_for("customer", [str(memos.memos[1].customer_id)])
    for key in ("1", "2"):
        record = setup.store.get("invoice", rows[key].netsuite_id)
        assert record["externalId"] == f"splynx-toy-memo-{key}"  # the billing backend's prefix first
        assert record["subtotal"] == memos.memos[int(key)].total  # NetSuite adds the item's tax
        # Its customer went through the customer type's export and hooks in the same run.
        assert str(record["entity"]) == customer_links[str(memos.memos[1].customer_id)].netsuite_id
    link = session().scalar(select(Link).where(Link.entity == "memo", Link.billing_id == "1"))
    assert link is not None and link.external_id == "splynx-toy-memo-1" and link.status == "synced"

    again = setup.run("sync")
    assert again.result["memos"] == {"unchanged": 2, "skipped": 1}


def test_a_registered_type_shows_in_the_log_filter_dashboard_and_record_pages(
    client, auth, export_ready, memos
):
    auth.login()
    run = export_ready.run("export_record", params={"entity": "memo", "billing_id": "2"})
    assert run.status == "succeeded", run.message
    assert _memo_rows(run)["2"].outcome == "created"

    logs = client.get("/netsuite/logs").get_data(as_text=True)
    assert re.search(r'<option value="memo"[^>]*>Memos</option>', logs)
    filtered = client.get("/netsuite/logs?entity=memo").get_data(as_text=True)
    assert "<p>1 row.</p>" in filtered  # the run's customer row is filtered out
    assert 'href="/netsuite/records/memo/2"' in filtered and "<td>Memos</td>" in filtered
    dashboard = client.get("/netsuite/").get_data(as_text=True)
    counts = re.search(r'<tr id="counts-memo">.*?</tr>', dashboard, flags=re.S)
    assert counts is not None and ">Memos</a>" in counts.group(0)
    assert '<td class="ns-num">1</td>' in counts.group(0)  # memo 2 synced

    listing = client.get("/netsuite/records/memo").get_data(as_text=True)
    assert "Records: Memos" in listing
    row_2 = re.search(r"<tr[^>]*>\s*<th scope=\"row\"[^>]*><a [^>]*>2</a>.*?</tr>", listing, flags=re.S)
    assert row_2 is not None and "Synced" in row_2.group(0) and "M-2" in row_2.group(0)
    row_1 = re.search(r"<tr[^>]*>\s*<th scope=\"row\"[^>]*><a [^>]*>1</a>.*?</tr>", listing, flags=re.S)
    assert row_1 is not None and "Not synced yet" in row_1.group(0)

    page = client.get("/netsuite/records/memo/2")
    assert page.status_code == 200
    assert "M-2" in page.get_data(as_text=True)
    missing = client.get("/netsuite/records/memo/77").get_data(as_text=True)
    assert "Billing has no memo 77" in missing
