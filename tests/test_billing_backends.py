"""A billing system is a registered backend: a toy one, declared in this module only, is
configured on the settings page, tested and exported to the NetSuite sandbox through the CLI.

The toy offers none of the optional capabilities (count, payment statements, accounting-id
write-back) and does not even have their methods, so an engine that called them without
checking the declaration would fail here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from addon import billing_backends
from addon.billing import (
    BillingConfigError,
    BillingCustomer,
    BillingDocument,
    BillingDocumentLine,
    BillingNotFound,
    BillingPayment,
    DocumentKind,
    Partner,
    PaymentMethod,
    TaxRate,
    TransactionCategory,
)
from addon.billing_backends import BillingBackend, register_backend
from addon.settings import SettingSpec, parse_str

CATEGORY, TAX = 7, 3


def _line(description: str, net: str) -> BillingDocumentLine:
    net_total = Decimal(net)
    tax = (net_total * Decimal("0.20")).quantize(Decimal("0.01"))
    return BillingDocumentLine(
        description=description,
        quantity=Decimal("1"),
        price=net_total,
        tax_percent=Decimal("20"),
        tax_rate_id=TAX,
        category_id=CATEGORY,
        net_total=net_total,
        tax_amount=tax,
    )


def _invoice(number: int, customer_id: int, *nets: str) -> BillingDocument:
    lines = tuple(_line(f"Fibre 100 ({i + 1})", net) for i, net in enumerate(nets))
    return BillingDocument(
        kind="invoice",
        id=number,
        number=f"TOY-{number}",
        customer_id=customer_id,
        date=date(2025, 3, number % 28 + 1),
        total=sum((line.gross_total for line in lines), Decimal("0")),
        tax_total=sum((line.tax_amount for line in lines), Decimal("0")),
        lines=lines,
        status="not_paid",
    )


class ToyBilling:
    """Two customers and three invoices in memory; nothing optional."""

    name = "Toy ledger"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, address: str):
        self.address = address
        self.customers_by_id = {
            c.id: c
            for c in (
                BillingCustomer(1, "ada", "Ada Lovelace", "ada@example.com", phone="+44 20 7946 0001",
                                street="12 Analytical Row", city="London", zip="N1 9GU"),
                BillingCustomer(2, "grace", "Grace Hopper", "grace@example.com", phone="+1 202 555 0102",
                                street="1 Compiler Way", city="Arlington", zip="22201"),
            )
        }  # fmt: skip
        self.documents_by_id = {d.id: d for d in (_invoice(10, 1, "40.00"), _invoice(11, 2, "25.50", "4.50"))}
        self.created: list[BillingPayment] = []  # payments imported from NetSuite

    def test_connection(self) -> str:
        return f"Connected to the toy ledger at {self.address}"

    def partners(self) -> Iterator[Partner]:
        return iter(())

    def customers(
        self,
        partner_ids_excluded: Iterable[int] = (),
        updated_since: datetime | None = None,
        id_above: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> Iterator[BillingCustomer]:
        wanted = set(ids) if ids is not None else None
        for key in sorted(self.customers_by_id):
            if (wanted is None or key in wanted) and (id_above is None or key > id_above):
                yield self.customers_by_id[key]

    def get_customer(self, customer_id: int) -> BillingCustomer:
        try:
            return self.customers_by_id[customer_id]
        except KeyError:
            raise BillingNotFound(f"no customer {customer_id}") from None

    def documents(self, kind: DocumentKind, **filters: Any) -> Iterator[BillingDocument]:
        wanted = set(filters["ids"]) if filters.get("ids") is not None else None
        since = filters.get("date_from")
        for key in sorted(self.documents_by_id):
            doc = self.documents_by_id[key]
            if doc.kind != kind or (wanted is not None and key not in wanted):
                continue
            if since is not None and doc.date is not None and doc.date < since:
                continue
            if filters.get("customer_id") not in (None, doc.customer_id):
                continue
            if filters.get("id_above") is not None and key <= filters["id_above"]:
                continue
            yield doc

    def get_document(self, kind: DocumentKind, document_id: int) -> BillingDocument:
        doc = self.documents_by_id.get(document_id)
        if doc is None or doc.kind != kind:
            raise BillingNotFound(f"no {kind} {document_id}")
        return doc

    def document_totals(
        self, kind: DocumentKind, date_from: date | None = None
    ) -> Iterator[tuple[date | None, Decimal]]:
        return ((doc.date, doc.total) for doc in self.documents(kind, date_from=date_from))

    def payments(self, **filters: Any) -> Iterator[BillingPayment]:
        return iter(())

    def get_payment(self, payment_id: int) -> BillingPayment:
        raise BillingNotFound(f"no payment {payment_id}")

    def create_payment(
        self, customer_id: int, amount: Decimal, date: date, method_id: int, **rest: Any
    ) -> int:
        payment_id = len(self.created) + 1
        self.created.append(
            BillingPayment(payment_id, customer_id, date, Decimal(amount), method_id,
                           invoice_id=rest.get("invoice_id"), receipt_number=rest.get("reference", ""))
        )  # fmt: skip
        return payment_id

    def find_payment(self, reference: str, customer_id: int | None = None) -> BillingPayment | None:
        return next((p for p in self.created if p.receipt_number == reference), None)

    def payment_methods(self) -> Iterator[PaymentMethod]:
        return iter((PaymentMethod(1, "Bank transfer"),))

    def transaction_categories(self) -> Iterator[TransactionCategory]:
        return iter((TransactionCategory(CATEGORY, "Internet"),))

    def tax_rates(self) -> Iterator[TaxRate]:
        return iter((TaxRate(TAX, "Standard 20%", Decimal("20")),))


LEDGERS: dict[str, ToyBilling] = {}  # one ledger per address, as a real system keeps its records


def _build(values: Mapping[str, Any]) -> ToyBilling:
    address = values["toy_ledger_address"]
    if not address:
        raise BillingConfigError("Toy ledger address: not set")
    return LEDGERS.setdefault(address, ToyBilling(address))


TOY = BillingBackend(
    name="toy",
    label="Toy ledger",
    settings=(
        SettingSpec("toy_ledger_address", "Toy ledger address", parse_str, "", group="billing"),
        SettingSpec("toy_ledger_token", "Toy ledger token", parse_str, "", secret=True, group="billing"),
        # Named, but the toy does not declare ACCOUNTING_IDS: nothing may be written back.
        SettingSpec(
            "toy_ledger_ref_field", "Toy ledger field for the NetSuite ID", parse_str, "", group="billing"
        ),
    ),
    accounting_id_setting="toy_ledger_ref_field",
    build=_build,
    external_id_prefix="toy",
    credential_keys=("toy_ledger_address", "toy_ledger_token"),
    destination_keys=("toy_ledger_address",),
)


@pytest.fixture
def toy(app, app_ctx, netsuite_sandbox):
    """The toy backend registered and selected, NetSuite configured, the toy's lists mapped."""
    from addon import settings
    from addon.sync.context import SyncContext
    from tests.plugins.exports import load_lists

    register_backend(TOY)
    app.config[billing_backends.CONFIG_KEY] = "toy"
    try:
        ns = netsuite_sandbox
        settings.put_many(
            {
                "netsuite_account_id": ns.account_id,
                "netsuite_auth_mode": "tba",
                "netsuite_consumer_key": ns.consumer_key,
                "netsuite_consumer_secret": ns.consumer_secret,
                "netsuite_token_id": ns.token_id,
                "netsuite_token_secret": ns.token_secret,
                "netsuite_base_url": ns.url,
                "tax_mode": "suitetax_override" if ns.state.profile.suitetax else "legacy",
            }
        )
        load_lists(SimpleNamespace(context=SyncContext.from_settings))
        yield ns
    finally:
        app.config.pop(billing_backends.CONFIG_KEY, None)
        billing_backends.unregister_backend("toy")


def _ns_id(store, record_type: str, name: str) -> str:
    for record in store.records(record_type):
        if name in (record.get("itemId"), record.get("name"), record.get("acctName")):
            return record["id"]
    raise KeyError(name)


def _map_toy_lists(store) -> None:
    from addon.extension import session
    from addon.models import Mapping

    for kind, billing_id, netsuite_id in (
        ("category", str(CATEGORY), _ns_id(store, "serviceSaleItem", "Internet Plans")),
        ("tax_rate", str(TAX), _ns_id(store, "salesTaxItem", "VAT 20%")),
        ("default_bank_account", "", _ns_id(store, "account", "Operating Checking")),
    ):
        session().add(Mapping(kind=kind, billing_id=billing_id, netsuite_id=netsuite_id))
    session().commit()


def test_the_settings_page_shows_the_selected_backends_settings(toy, client, auth):
    auth.login()
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert "Toy ledger connection" in page
    for key in ("toy_ledger_address", "toy_ledger_token", "toy_ledger_ref_field"):
        assert f'id="{key}"' in page, key
    for key in ("splynx_url", "splynx_api_key", "splynx_api_secret", "splynx_accounting_id_attribute"):
        assert f'id="{key}"' not in page, key
    assert "Splynx connection" not in page
    assert "Toy ledger → NetSuite" in page  # the payment direction, in the backend's words


def test_a_toy_backend_is_configured_tested_and_exported_through_the_cli(toy, runner):
    store = toy.state.store

    def cli(*args: str):
        return runner.invoke(args=["netsuite", *args], catch_exceptions=False)

    # Unconfigured, the backend's own builder says what is missing, labelled with its name.
    unset = cli("test-connection", "--system", "billing")
    assert unset.exit_code == 2
    assert unset.output.strip() == "billing: Toy ledger is not configured: Toy ledger address: not set"

    assert cli("config", "set", "toy_ledger_address", "memory://ledger").exit_code == 0
    assert cli("config", "set", "toy_ledger_token", "t0y-s3cret").exit_code == 0
    assert cli("config", "set", "toy_ledger_ref_field", "netsuite_id").exit_code == 0
    shown = cli("config", "show").output
    assert "toy_ledger_address" in shown and "t0y-s3cret" not in shown and "splynx_url" not in shown
    tested = cli("test-connection", "--system", "billing")
    assert tested.output.strip() == "billing: Connected to the toy ledger at memory://ledger"

    if toy.state.profile.oneworld:
        assert (
            cli("config", "set", "subsidiary", _ns_id(store, "subsidiary", "ISP Holdings Inc.")).exit_code
            == 0
        )
    assert (
        cli("config", "set", "rounding_item", _ns_id(store, "otherChargeSaleItem", "Rounding")).exit_code == 0
    )
    _map_toy_lists(store)

    customers = cli("export-customers")
    assert customers.exit_code == 0, customers.output
    exported = {c["externalId"]: c for c in store.records("customer")}
    assert set(exported) == {"toy-customer-1", "toy-customer-2"}
    [address] = exported["toy-customer-2"]["addressBook"]
    got = address["addressBookAddress"]
    assert (got["addr1"], got["city"], got["zip"]) == ("1 Compiler Way", "Arlington", "22201")

    invoices = cli("export-invoices")
    assert invoices.exit_code == 0, invoices.output
    by_eid = {i["externalId"]: i for i in store.records("invoice")}
    assert set(by_eid) == {"toy-invoice-10", "toy-invoice-11"}
    second = by_eid["toy-invoice-11"]
    assert second["entity"] == exported["toy-customer-2"]["id"]
    assert [line["amount"] for line in second["item"]] == [Decimal("25.50"), Decimal("4.50")]
    assert second["total"] == Decimal("36.00") and second["otherRefNum"] == "TOY-11"
    assert second["memo"] == "Toy ledger invoice TOY-11"  # the backend's label, not Splynx's


def test_without_payment_statements_unmatched_netsuite_money_lands_on_the_customers_account(toy):
    """Splynx would hold it on a payment statement for pairing; the toy declares none, so the
    import never asks for one and books the money to the customer's account."""
    from addon import settings
    from addon.extension import session
    from addon.models import Link
    from addon.sync.operations import run_operation

    LEDGERS.pop("memory://payments", None)
    settings.put_many(
        {"toy_ledger_address": "memory://payments", "payment_direction": "netsuite_to_splynx",
         "import_from": "2025-01-01"}
    )  # fmt: skip
    assert settings.get("payments_without_documents") is False
    store = toy.state.store
    customer = store.create("customer", {"companyName": "Ada Lovelace", "subsidiary": {"id": "1"},
                                         "currency": {"id": "1"}}).id  # fmt: skip
    session().add(Link(entity="customer", billing_id="1", netsuite_id=customer))
    session().commit()
    store.create(
        "customerPayment",
        {"customer": {"id": customer}, "tranDate": "2025-03-07", "payment": Decimal("15"),
         "undepFunds": False, "account": {"id": "1"}, "autoApply": False},
    )  # fmt: skip
    run = run_operation("import_payments")
    assert run.counts == {"imported": 1}, run.message
    [payment] = LEDGERS["memory://payments"].created
    assert (payment.customer_id, payment.amount, payment.invoice_id) == (1, Decimal("15"), None)


def test_a_backend_name_registers_once_and_an_unknown_selection_is_refused(app_ctx, app):
    register_backend(TOY)
    try:
        assert register_backend(TOY) is TOY  # the same declaration again is harmless
        with pytest.raises(ValueError, match="registered already"):
            register_backend(BillingBackend("toy", "Other toy", (), _build, "other"))
    finally:
        billing_backends.unregister_backend("toy")
    app.config[billing_backends.CONFIG_KEY] = "toy"
    with pytest.raises(BillingConfigError, match="'toy', which is not registered"):
        billing_backends.selected()


def test_nothing_outside_the_splynx_package_imports_it():
    """The engine, the pages and the jobs reach Splynx only through the registry (lazy imports
    inside functions included)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*root.glob("addon/**/*.py"), *root.glob("jobs/**/*.py")]):
        if path.is_relative_to(root / "addon" / "splynx"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            if any(name == "addon.splynx" or name.startswith("addon.splynx.") for name in names):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == [], found


def _fingerprint_as_stored_before(system: str, values: dict[str, str]) -> str:
    """The digest the add-on stored when the connection was named after Splynx."""
    import hashlib

    digest = hashlib.sha256(f"netsuite-sync credentials {system}".encode())
    for key in ("splynx_url", "splynx_api_key", "splynx_api_secret"):
        text = values[key].encode()
        digest.update(len(text).to_bytes(4, "big") + text)
    return digest.hexdigest()


def test_a_splynx_connection_flag_survives_the_rename_to_billing(tmp_path):
    """A halt stored under the former name 'splynx' is the billing connection's after the
    migration, and the fingerprint of the credentials it was raised for still matches."""
    from sqlalchemy import text

    from addon import migrate, settings
    from addon.extension import engine, session
    from addon.sync import credentials
    from wsgi import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            "SECRET_KEY": "x",
            "TESTING": True,
        }
    )
    with app.app_context():
        migrate.upgrade("0007_deferred_runs")
        values = {"splynx_url": "https://isp.example.com", "splynx_api_key": "k", "splynx_api_secret": "s"}
        with engine().begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO ns_connection_status (system, needs_attention, message, checked_at, "
                    "failed_fingerprint) VALUES ('splynx', true, 'refused', CURRENT_TIMESTAMP, :digest)"
                ),
                {"digest": _fingerprint_as_stored_before("splynx", values)},
            )
        migrate.upgrade()
        halted = credentials.halted(("netsuite", "billing"), {**settings.snapshot(), **values})
        assert halted is not None and (halted.system, halted.message) == ("billing", "refused")
        session().remove()
        engine().dispose()
