"""Deterministic, believable ISP data for the Splynx sandbox (tests, benchmark, demo).

``generate(customers=1000, seed=1)`` gives ~3 invoices, ~0.3 credit notes and ~2.5
payments per customer over the 18 months ending at a fixed reference date, shaped
like a real Splynx installation (records in the sandbox store's wire typing).
With ``bad_inputs=True`` it appends deliberately hostile records and lists each one,
with the reason, in ``Dataset.manifest["bad"]``. With ``quirks`` > 0 a share of the
records takes the shapes real installations hold (docs/splynx-installations.md):
comma-separated emails and phones, items without a tax id, invoices without
transactions, negative totals; ``Dataset.manifest["quirks"]`` lists them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.splynx.entities import ITEM_DEFAULTS, SPECS
from sandbox.splynx.finance import cents, fmt4, line_amounts
from sandbox.splynx.store import settle

REFERENCE_DATE = date(2025, 6, 30)

PARTNERS = [
    "Main",
    "Northern Fibre Ltd",
    "Südnetz GmbH",
    "O'Brien & Daughters Wireless",
    "Riviera Net S.A.R.L.",
]
LOCATIONS = ["Head office", "North depot", "Coastal POP"]
# Splynx defaults 1 Cash, 2 Bank transfer, 3 Credit card, 4 PayPal, 5 Other, 6 Refill card
# (docs/splynx-api.md §7.7).
PAYMENT_METHODS = [
    ("Cash", ("", "", "", "", "")),
    ("Bank transfer", ("Payer", "Reference", "", "", "")),
    ("Credit card", ("Card", "Transaction ID", "", "", "")),
    ("PayPal", ("PayPal ID", "", "", "", "")),
    ("Other", ("", "", "", "", "")),
    ("Refill card", ("Card series", "", "", "", "")),
    ("Direct debit", ("Mandate", "Collection run", "", "", "")),
]
METHOD_WEIGHTS = {1: 15, 2: 35, 3: 25, 7: 25}
# Built-ins 1-5 (docs/splynx-api.md §7.8), then the ISP's own categories.
CATEGORIES = ["Service", "Discount", "Payment", "Refund", "Correction"]
INTERNET, INSTALLATION, EQUIPMENT, LATE_FEES, VOICE = 6, 7, 8, 9, 10
CUSTOM_CATEGORIES = ["Internet plans", "Installation", "Equipment", "Late fees", "Voice"]
UNMAPPED_CATEGORY_NAME = "Promotions (no accounting category)"
TAXES = [("VAT 20%", "20"), ("Reduced rate 7.5%", "7.5"), ("Zero rated", "0"), ("Exempt", "0")]
VAT20, VAT7_5, ZERO, EXEMPT = 1, 2, 3, 4

# Unit prices chosen so that 7.5 % lands on exact half cents (29.80 -> 2.235, 14.60 -> 1.095)
# and 4-decimal per-unit prices round at line level (0.0450 x minutes).
PLANS = [
    ("Fibre 100 Mbit/s", "29.8000"),
    ("Fibre 300 Mbit/s", "44.9900"),
    ("Fibre 1 Gbit/s", "69.0000"),
    ("Wireless 30 Mbit/s", "14.6000"),
    ("Business Fibre 500 Mbit/s", "119.5000"),
    ("Copper 20 Mbit/s", "12.1000"),
]
EXTRAS = [
    (INSTALLATION, "Installation and activation", "pcs", ("49.5000", "99.0000", "0.6000")),
    (EQUIPMENT, "Wi-Fi 6 router", "pcs", ("89.9900", "14.6000")),
    (EQUIPMENT, "ONT power supply", "pcs", ("12.3450",)),
    (LATE_FEES, "Late payment fee", "", ("5.0000", "7.5000")),
    (VOICE, "Outbound calls", "min", ("0.0450", "0.0200")),
]

FIRST = [
    "José",
    "Zoë",
    "Renée",
    "Łukasz",
    "Søren",
    "Anaïs",
    "Mary-Kate",
    "Siobhán",
    "Jürgen",
    "Ngozi",
    "François",
    "Ola",
    "Chloé",
    "Dmitrij",
    "Émile",
    "Ingrid",
    "Tomás",
    "Aoife",
    "Björn",
    "Priya",
]
LAST = [
    "O'Brien",
    "Müller",
    "García Núñez",
    "D'Angelo",
    "Smith-Jones",
    "Øvergaard",
    "Kowalczyk",
    "Ní Bhriain",
    "van der Berg",
    "Okafor",
    "Dubois",
    "Nordström",
    "Patel",
    "Fernández",
    "McAllister",
    "Çelik",
]
COMPANY_STEMS = [
    "Smith & Sons",
    'Café "Le Bon Coin"',
    "Núñez Hermanos",
    "Brewster's Bakery",
    "Acme Widgets",
    "Zürich Dental",
    "A&B Logistics",
    "L'Atelier Créatif",
    "Hill <Top> Farms",
    "North Star",
]
COMPANY_SUFFIX = ["Ltd", "GmbH", "S.L.", "LLC", "& Co.", "S.A.R.L."]
STREETS = ["High Street", "Rue de la Paix", "Hauptstraße", "Calle Mayor", "Church Lane", "Station Road"]
CITIES = [
    ("Leeds", "LS1 4AB"),
    ("Lyon", "69002"),
    ("München", "80331"),
    ("Sevilla", "41001"),
    ("Cork", "T12 X8NP"),
    ("Bristol", "BS1 5TR"),
]

# Fractions of customers deliberately missing a field (stable for a seed).
MISSING_RATES = {"email": 0.10, "phone": 0.12, "zip_code": 0.08, "street_1": 0.05}
MALFORMED_ADDRESS_RATE = 0.06
# Shares of records in each real-installation shape at ``quirks=1`` (drawn from an RNG of their
# own, so the rest of the dataset is the same with or without them).
QUIRK_RATES = {
    "multi_value_contacts": 0.06,  # customers
    "item_tax_on_transaction_only": 0.05,  # items: tax id kept on the transaction only
    "item_tax_nowhere": 0.01,  # items: no tax id on the item nor on its transaction
    "without_transactions": 0.02,  # invoices
    "negative_totals": 0.01,  # invoices
}
LONG_NAME_RATE = 0.01
COMPANY_RATE = 0.25

ADDITIONAL_FIELDS = [
    ("customers", "netsuite_id", "string"),
    ("customers", "service_address", "string"),
    ("invoices", "netsuite_id", "string"),
    ("credit_notes", "netsuite_id", "string"),
    ("payments", "netsuite_id", "string"),
]


@dataclass
class Dataset:
    """Records per sandbox entity plus the manifest of what is deliberately unusual."""

    seed: int
    reference_date: date
    records: dict[str, list[dict]]
    additional_fields: list[tuple[str, str, str]]
    manifest: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of records per entity."""
        return {name: len(rows) for name, rows in self.records.items()}

    def by_id(self, entity: str, record_id: int) -> dict:
        """One generated record by id."""
        return next(r for r in self.records[entity] if r["id"] == record_id)


def _record(entity: str, **values) -> dict:
    record = {
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        for k, v in SPECS[entity].defaults.items()
    }
    record.update(values)
    return record


def _stamp(day: date, rng: random.Random, hour_range=(0, 23)) -> str:
    moment = datetime(
        day.year, day.month, day.day, rng.randint(*hour_range), rng.randint(0, 59), rng.randint(0, 59)
    )
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _month_starts(reference: date, months: int) -> list[date]:
    starts, year, month = [], reference.year, reference.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(starts)


class _Builder:
    def __init__(self, seed: int, reference: date, months: int, partners: int, messiness: float = 1.0):
        self.rng = random.Random(seed)
        self.messiness = messiness
        self.reference = reference
        self.months = _month_starts(reference, months)
        self.records: dict[str, list[dict]] = {name: [] for name in SPECS}
        self.next_item_id = 1
        self.partner_count = max(1, min(partners, len(PARTNERS)))
        self.manifest: dict = {
            "incomplete_customers": {},
            "malformed_addresses": [],
            "long_names": [],
            "bad": [],
            "unmapped_category_id": None,
        }

    def add(self, entity: str, **values) -> dict:
        record = _record(entity, id=len(self.records[entity]) + 1, **values)
        self.records[entity].append(record)
        return record

    # -- reference data ---------------------------------------------------------------------

    def reference_data(self) -> None:
        for name in PARTNERS[: self.partner_count]:
            self.add("partners", name=name)
        for name in LOCATIONS:
            self.add("locations", name=name)
        for name, labels in PAYMENT_METHODS:
            self.add(
                "payment_methods", name=name, **{f"name_{i + 1}": label for i, label in enumerate(labels)}
            )
        for name in CATEGORIES:
            self.add("transaction_categories", name=name, is_base="1")
        for name in CUSTOM_CATEGORIES:
            self.add("transaction_categories", name=name)
        for name, rate in TAXES:
            self.add("taxes", name=name, rate=fmt4(rate))

    # -- customers --------------------------------------------------------------------------

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def company_name(self) -> str:
        return f"{self.rng.choice(COMPANY_STEMS)} {self.rng.choice(COMPANY_SUFFIX)}"

    def customer(self, complete: bool = False) -> dict:
        """A generated customer; ``complete`` leaves out the deliberate gaps (no missing field,
        a well-formed address) so a hostile record is unusual in one way only."""
        rng = self.rng
        company = rng.random() < COMPANY_RATE
        name = self.company_name() if company else self.person_name()
        long_name = rng.random() < LONG_NAME_RATE
        if long_name:
            name = f"{name} — Regional Broadband Cooperative for the Greater Metropolitan Area and Outlying Villages"
        city, zip_code = rng.choice(CITIES)
        street = f"{rng.randint(1, 240)} {rng.choice(STREETS)}"
        first_month = rng.choice(self.months[: max(1, len(self.months) - 2)])
        joined = first_month - timedelta(days=rng.randint(0, 400))
        slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:12] or "customer"
        values = {
            "partner_id": 1 if rng.random() < 0.6 else rng.randint(1, self.partner_count),
            "location_id": rng.randint(1, len(LOCATIONS)),
            "category": "company" if company else "person",
            "name": name,
            "email": f"{slug}{len(self.records['customers']) + 1}@example.net",
            "billing_email": "",
            "phone": f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            "street_1": street,
            "city": city,
            "zip_code": zip_code,
            "status": rng.choices(["active", "new", "blocked", "disabled"], weights=[85, 5, 6, 4])[0],
            "date_add": joined.isoformat(),
            "last_update": _stamp(joined, rng),
        }
        missing = [f for f, rate in MISSING_RATES.items() if rng.random() < rate * self.messiness]
        service_address = f"{street}, {city}, {zip_code}"
        malformed = rng.random() < MALFORMED_ADDRESS_RATE * self.messiness
        if malformed:
            service_address = rng.choice(
                [
                    f"{street} {city}",
                    f"{zip_code}, , ",
                    f"{city},{street},,{zip_code}",
                    f"  {street.upper()};{city}  ",
                ]
            )
        if complete:
            # The same random draws, so later records do not change; only the gaps are dropped.
            missing, malformed, service_address = [], False, f"{street}, {city}, {zip_code}"
        for name_ in missing:
            values[name_] = ""
        record = self.add("customers", **values)
        record["login"] = f"cust{record['id']:06d}"
        record["additional_attributes"] = {"netsuite_id": "", "service_address": service_address}
        if missing:
            self.manifest["incomplete_customers"][record["id"]] = missing
        if malformed:
            self.manifest["malformed_addresses"].append(record["id"])
        if long_name:
            self.manifest["long_names"].append(record["id"])
        return record

    # -- documents --------------------------------------------------------------------------

    def tax_for(self, customer: dict, category: int) -> int:
        if category == LATE_FEES:
            return ZERO
        if customer["partner_id"] == 3:
            return VAT7_5
        if customer["id"] % 17 == 0:
            return EXEMPT
        return VAT20

    def item(
        self,
        document: dict,
        entity: str,
        category: int,
        description: str,
        unit: str,
        quantity,
        price,
        tax_id,
        period: tuple[str, str] | None = None,
    ) -> dict:
        rate = self.records["taxes"][tax_id - 1]["rate"]
        net, tax = line_amounts(quantity, price, rate)
        item = dict(ITEM_DEFAULTS)
        item.update(
            id=self.next_item_id,
            pos=len(document["items"]) + 1,
            description=description,
            quantity=str(quantity),
            unit=unit,
            price=fmt4(price),
            tax=rate,
            tax_id=tax_id,
            tax_amount=fmt4(tax),
        )
        if period:
            item["period_from"], item["period_to"] = period
        self.next_item_id += 1
        transaction = self.add(
            "transactions",
            customer_id=document["customer_id"],
            type="debit" if entity == "invoices" else "credit",
            quantity=item["quantity"],
            unit=unit,
            price=item["price"],
            tax_percent=rate,
            tax_id=tax_id,
            total=fmt4(net + tax),
            date=document["date_created"],
            category=category,
            description=description,
            period_from=item["period_from"],
            period_to=item["period_to"],
            source="auto" if entity == "invoices" and category == INTERNET else "manual",
            **{"invoice_id" if entity == "invoices" else "credit_note_id": document["id"]},
        )
        item["transaction_id"] = transaction["id"]
        document["items"].append(item)
        document["total"] = fmt4(Decimal(document["total"]) + net + tax)
        return item

    def invoice(self, customer: dict, month: date, lines: list[tuple] | None = None) -> dict:
        rng = self.rng
        issued = month + timedelta(days=rng.randint(0, 3))
        invoice = self.add(
            "invoices",
            customer_id=customer["id"],
            date_created=issued.isoformat(),
            real_create_datetime=_stamp(issued, rng, (1, 4)),
            date_updated=issued.isoformat(),
            date_till=(issued + timedelta(days=14)).isoformat(),
            type="recurring",
            is_sent="1",
            items=[],
            additional_attributes={"netsuite_id": ""},
        )
        invoice["number"] = f"{issued:%Y%m}{invoice['id']:06d}"
        if lines is None:
            lines = self.invoice_lines(customer, month)
        for category, description, unit, quantity, price, tax_id in lines:
            period = None
            if category == INTERNET:
                end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                period = (month.isoformat(), end.isoformat())
            self.item(invoice, "invoices", category, description, unit, quantity, price, tax_id, period)
        if rng.random() < 0.08:
            invoice["date_updated"] = min(
                issued + timedelta(days=rng.randint(1, 20)), self.reference
            ).isoformat()
        return invoice

    def invoice_lines(self, customer: dict, month: date) -> list[tuple]:
        rng = self.rng
        plan, price = PLANS[customer["id"] % len(PLANS)]
        lines = [(INTERNET, f"{plan} — {month:%B %Y}", "month", "1", price, self.tax_for(customer, INTERNET))]
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[50, 28, 12, 6, 4])[0]):
            category, description, unit, prices = rng.choice(EXTRAS)
            quantity = str(rng.randint(40, 400)) if unit == "min" else str(rng.choice([1, 1, 1, 2]))
            lines.append(
                (category, description, unit, quantity, rng.choice(prices), self.tax_for(customer, category))
            )
        return lines

    def credit_note(self, invoice: dict) -> dict:
        rng = self.rng
        issued = min(
            date.fromisoformat(invoice["date_created"]) + timedelta(days=rng.randint(3, 40)), self.reference
        )
        note = self.add(
            "credit_notes",
            customer_id=invoice["customer_id"],
            date_created=issued.isoformat(),
            real_create_datetime=_stamp(issued, rng, (8, 18)),
            date_updated=issued.isoformat(),
            status=rng.choices(["not_refunded", "refunded"], weights=[80, 20])[0],
            note=f"Credit for invoice {invoice['number']}",
            items=[],
            additional_attributes={"netsuite_id": ""},
        )
        note["number"] = f"CN{issued:%Y%m}{note['id']:05d}"
        source = rng.choice(invoice["items"])
        transaction = self.records["transactions"][source["transaction_id"] - 1]
        share = rng.choice([Decimal("1"), Decimal("0.5"), Decimal("0.25")])
        price = (
            cents(Decimal(source["price"]) * share)
            if Decimal(source["price"]) >= 1
            else Decimal(source["price"])
        )
        self.item(
            note,
            "credit_notes",
            transaction["category"],
            f"Credit: {source['description']}",
            source["unit"],
            source["quantity"],
            price,
            source["tax_id"],
        )
        note["remind_amount"] = "0.0000" if note["status"] == "refunded" else note["total"]
        if note["status"] == "refunded":
            note["date_payment"] = issued.isoformat()
        return note

    def payment(
        self, customer_id: int, amount: Decimal, day: date, invoice_id: int | None, method: int | None = None
    ) -> dict:
        rng = self.rng
        method = method or rng.choices(list(METHOD_WEIGHTS), weights=list(METHOD_WEIGHTS.values()))[0]
        created = _stamp(day, rng, (7, 21))
        payment = self.add(
            "payments",
            customer_id=customer_id,
            invoice_id=invoice_id,
            payment_type=method,
            date=day.isoformat(),
            amount=fmt4(amount),
            remind_amount="0.0000" if invoice_id else fmt4(amount),
            real_create_datetime=created,
            updated_at=created,
            additional_attributes={"netsuite_id": ""},
        )
        payment["receipt_number"] = f"{day:%Y-%m}-{payment['id']:05d}"
        if method == 2:
            payment["field_1"] = self.records["customers"][customer_id - 1]["name"][:60]
            payment["field_2"] = f"INV {invoice_id}" if invoice_id else "ON ACCOUNT"
        elif method == 3:
            payment["field_1"] = f"**** {rng.randint(1000, 9999)}"
            payment["field_2"] = f"ch_{rng.getrandbits(48):012x}"
        elif method == 7:
            payment["field_1"] = f"MNDT-{customer_id:06d}"
        transaction = self.add(
            "transactions",
            customer_id=customer_id,
            type="credit",
            price=fmt4(amount),
            total=fmt4(amount),
            date=day.isoformat(),
            category=3,
            description=f"Payment {payment['receipt_number']}",
            payment_id=payment["id"],
        )
        payment["transaction_id"] = transaction["id"]
        return payment


def generate(
    customers: int = 40,
    seed: int = 1,
    *,
    invoices_per_customer: float = 3.0,
    credit_notes_per_customer: float = 0.3,
    payments_per_customer: float = 2.5,
    invoices: int | None = None,
    credit_notes: int | None = None,
    payments: int | None = None,
    partners: int = 4,
    months: int = 18,
    reference_date: date = REFERENCE_DATE,
    bad_inputs: bool = False,
    messiness: float = 1.0,
    quirks: float = 0.0,
) -> Dataset:
    """Build a deterministic ISP: the same arguments always give the same records.

    Explicit ``invoices`` / ``credit_notes`` / ``payments`` counts override the
    per-customer ratios. ``messiness`` scales how many customers lack a field or
    have a malformed address (1.0: the test default, rich in problems; the demo
    uses a tidier ISP).
    """
    b = _Builder(seed, reference_date, months, partners, messiness)
    b.reference_data()
    people = [b.customer() for _ in range(customers)]

    n_invoices = invoices if invoices is not None else round(customers * invoices_per_customer)
    n_credit = credit_notes if credit_notes is not None else round(customers * credit_notes_per_customer)
    n_payments = payments if payments is not None else round(customers * payments_per_customer)

    # Invoices: scattered over customers (some have none, some many), one per month each.
    per_customer = [0] * customers
    for _ in range(n_invoices if customers else 0):
        per_customer[b.rng.randrange(customers)] += 1
    plan = []
    for person, count in zip(people, per_customer, strict=True):
        eligible = [
            m for m in b.months if m >= date.fromisoformat(person["date_add"]).replace(day=1)
        ] or b.months
        count = min(count, len(b.months))
        chosen = sorted(b.rng.sample(eligible, min(count, len(eligible))))
        chosen += b.rng.sample([m for m in b.months if m not in chosen], count - len(chosen))
        plan.extend((month, person) for month in chosen)
    plan.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    invoice_rows = [b.invoice(person, month) for month, person in plan]

    for invoice in sorted(
        b.rng.sample(invoice_rows, min(n_credit, len(invoice_rows))), key=lambda i: i["id"]
    ):
        b.credit_note(invoice)

    # Payments: ~60 % settle an invoice in full, ~15 % pay part of one, the rest are on account.
    open_invoices = invoice_rows[:]
    b.rng.shuffle(open_invoices)
    pending = []
    for _ in range(n_payments):
        roll = b.rng.random()
        if roll < 0.75 and open_invoices:
            invoice = open_invoices.pop()
            issued = date.fromisoformat(invoice["date_created"])
            day = min(issued + timedelta(days=b.rng.randint(0, 25)), reference_date)
            total = Decimal(invoice["total"])
            amount = (
                total if roll < 0.60 or total < 1 else cents(total * Decimal(b.rng.randint(20, 80)) / 100)
            )
            pending.append((day, invoice["customer_id"], amount, invoice["id"]))
        elif customers:
            person = people[b.rng.randrange(customers)]
            start = max(date.fromisoformat(person["date_add"]), b.months[0])
            day = min(start + timedelta(days=b.rng.randint(0, 540)), reference_date)
            pending.append((day, person["id"], cents(Decimal(b.rng.randint(1000, 20000)) / 100), None))
    for day, customer_id, amount, invoice_id in sorted(pending, key=lambda p: (p[0], p[1])):
        b.payment(customer_id, amount, day, invoice_id)

    if bad_inputs:
        _add_bad_inputs(b, people)
    if quirks > 0:
        _add_quirks(b, random.Random(f"quirks-{seed}"), quirks)

    by_invoice: dict[int, list[dict]] = {}
    for payment in b.records["payments"]:
        if payment["invoice_id"]:
            by_invoice.setdefault(payment["invoice_id"], []).append(payment)
    for invoice in b.records["invoices"]:
        settle(invoice, by_invoice.get(invoice["id"], []))

    manifest = b.manifest
    manifest.update(
        seed=seed, reference_date=reference_date.isoformat(), bad_inputs=bad_inputs, quirks_scale=quirks
    )
    dataset = Dataset(seed, reference_date, b.records, list(ADDITIONAL_FIELDS), manifest)
    manifest["counts"] = dataset.counts()
    return dataset


def _add_quirks(b: _Builder, rng: random.Random, scale: float) -> None:
    """Reshape a share of the records as real installations hold them (see QUIRK_RATES)."""
    found: dict[str, list[int]] = {name: [] for name in QUIRK_RATES}

    def chosen(name: str) -> bool:
        return rng.random() < QUIRK_RATES[name] * scale

    for customer in b.records["customers"]:
        if customer["email"] and chosen("multi_value_contacts"):
            local, _, domain = customer["email"].partition("@")
            customer["email"] = f"{customer['email']}, {local}.billing@{domain}"
            customer["billing_email"] = f"accounts{customer['id']}@{domain},ap{customer['id']}@{domain}"
            customer["phone"] = (
                f"{customer['phone'] or '+44 20 7946 0000'}, +44 20 7946 {customer['id'] % 10000:04d}"
            )
            found["multi_value_contacts"].append(customer["id"])
    transactions = {t["id"]: t for t in b.records["transactions"]}
    for invoice in b.records["invoices"]:
        if chosen("without_transactions"):
            invoice["use_transactions"] = "0"
            found["without_transactions"].append(invoice["id"])
        elif chosen("negative_totals"):
            refund = b.item(invoice, "invoices", INSTALLATION, "Goodwill refund", "pcs", "1",
                            -(Decimal(invoice["total"]) + 10), ZERO)  # fmt: skip
            transactions[refund["transaction_id"]] = b.records["transactions"][-1]
            found["negative_totals"].append(invoice["id"])
        for item in invoice["items"]:
            if Decimal(item["tax"]) == 0:
                continue
            if chosen("item_tax_on_transaction_only"):
                item["tax_id"] = 0
                found["item_tax_on_transaction_only"].append(item["id"])
            elif chosen("item_tax_nowhere"):
                item["tax_id"] = 0
                transactions[item["transaction_id"]]["tax_id"] = 0
                found["item_tax_nowhere"].append(item["id"])
    b.manifest["quirks"] = found


def _add_bad_inputs(b: _Builder, people: list[dict]) -> None:
    """Append hostile records after the normal ones; each is listed with its reason."""

    def mark(entity: str, record: dict, case: str, reason: str) -> None:
        b.manifest["bad"].append({"entity": entity, "id": record["id"], "case": case, "reason": reason})

    hostile_names = [
        ("script_tag", '<script>alert("x")</script> Robert', "HTML/script markup in the name"),
        ("rtl_text", "شركة الإنترنت \u202eredro\u202c", "right-to-left text with bidi override characters"),
        ("emoji", "Pizza 🍕 Planet 🚀", "emoji outside the Basic Multilingual Plane"),
        ("very_long", "L" + "o" * 4997 + "ng", "name of 5,000 characters"),
        ("backslashes", "C:\\Users\\admin\\ \\\\server\\share", "backslashes in the name"),
        ("bad_email", "Mallory Example", "email address that is not valid"),
    ]
    for case, name, reason in hostile_names:
        customer = b.customer(complete=True)
        customer["name"] = name
        if case == "bad_email":
            customer["email"] = "mallory@@example..net"
        mark("customers", customer, case, reason)

    category = b.add("transaction_categories", name=UNMAPPED_CATEGORY_NAME)
    b.manifest["unmapped_category_id"] = category["id"]
    host = people[0] if people else b.records["customers"][0]
    last_month = b.months[-1]
    documents = [
        ("zero_total", [(INTERNET, "Free month", "month", "1", "0", VAT20)], "invoice total is zero"),
        (
            "negative_total",
            [(INSTALLATION, "Goodwill adjustment", "pcs", "1", "-25.0000", VAT20)],
            "invoice total is negative",
        ),
        (
            "very_large_total",
            [(EQUIPMENT, "Core router chassis", "pcs", "1000", "999999.9900", VAT20)],
            "invoice total above 1 billion",
        ),
        (
            "unmapped_category",
            [(category["id"], "Spring promotion", "", "1", "10.0000", VAT20)],
            "item in a transaction category with no mapping",
        ),
    ]
    for case, lines, reason in documents:
        invoice = b.invoice(host, last_month, lines)
        mark("invoices", invoice, case, reason)

    unknown_method = b.payment(host["id"], Decimal("15.00"), b.reference - timedelta(days=3), None, method=99)
    mark("payments", unknown_method, "unknown_method", "payment_type 99 is not a payment method")
    future = b.payment(host["id"], Decimal("20.00"), b.reference + timedelta(days=45), None)
    mark("payments", future, "future_date", "payment dated after the reference date")
