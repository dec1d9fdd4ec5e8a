"""Which billing tax a document line carries when the line itself names none.

Splynx leaves ``tax_id`` empty on some items (older documents, imports). The billing
layer already fills it from the item's transaction; what is still missing is taken from a
billing tax of the line's rate (the mapped one first, so the document can go out). Only a
taxed line with neither fails, naming the line (docs/splynx-installations.md).
"""

from __future__ import annotations

from decimal import Decimal

from addon.billing import BillingDocumentLine


class LineTaxMissing(ValueError):
    """A taxed line whose tax cannot be told; the message names the line."""


def line_tax_rate_id(run, position: int, line: BillingDocumentLine) -> int | None:
    """The billing tax id of ``line`` (None for an untaxed line without one), or LineTaxMissing."""
    if line.tax_rate_id is not None or line.tax_percent == 0:
        return line.tax_rate_id
    same_rate = _taxes_by_rate(run).get(line.tax_percent.normalize(), [])
    mapped = [tax_id for tax_id in same_rate if run.mapping("tax_rate", tax_id)]
    if mapped or same_rate:
        return (mapped or same_rate)[0]
    raise LineTaxMissing(
        f"line {position} ({line.description[:60]!r}) has tax {line.tax_percent.normalize()}% but no tax id, "
        "and no billing tax has that rate"
    )


def _taxes_by_rate(run) -> dict[Decimal, list[int]]:
    """Active single taxes by rate, lowest id first, loaded once per run."""
    taxes = run.state.lookups.taxes_by_rate
    if taxes is None:
        taxes = {}
        for tax in sorted(run.ctx.billing.tax_rates(), key=lambda t: t.id):
            if not tax.archived and tax.type == "single":
                taxes.setdefault(tax.rate.normalize(), []).append(tax.id)
        run.state.lookups.taxes_by_rate = taxes
    return taxes
