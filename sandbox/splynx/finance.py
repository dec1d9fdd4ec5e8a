"""Money arithmetic shared by the sandbox store and the dataset generator.

Splynx prints money as 4-decimal strings ("533.6000", docs/splynx-api.md §1) while amounts are
cents; document totals follow docs/splynx-api.md §10.8: per line, net and tax each rounded to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FOUR = Decimal("0.0001")


def money(value) -> Decimal:
    """Any Splynx money value (str, int, Decimal, float) as a Decimal."""
    if value in (None, ""):
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(str(value))
    return Decimal(str(value).strip())


def fmt4(value) -> str:
    """Splynx's wire form for money and rates: 4 decimals, as a string."""
    return str(money(value).quantize(FOUR, rounding=ROUND_HALF_UP))


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent (MySQL DECIMAL rounding, which Splynx inherits)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amounts(quantity, price, tax_percent) -> tuple[Decimal, Decimal]:
    """(net, tax) of one item, each rounded to the cent."""
    net = cents(money(quantity) * money(price))
    tax = cents(net * money(tax_percent) / 100)
    return net, tax


def document_total(items: list[dict]) -> Decimal:
    """Gross total of an invoice or credit note: the sum of each item's net plus tax."""
    total = Decimal(0)
    for item in items:
        net, tax = line_amounts(item.get("quantity"), item.get("price"), item.get("tax"))
        total += net + tax
    return total
