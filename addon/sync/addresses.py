"""Addresses compared as a person would: the same street and postcode, however they are written.

"12 High Street" and "12, High St." are one street; "sw1a 1aa" and "SW1A1AA" one postcode, and a
US ZIP+4 is its first five digits. Only street and postcode count: the city is often spelt
differently (a district, a suburb) while street and postcode together already name a door.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words written out or abbreviated, one spelling kept ("Straße", "Str." and "Street" alike).
_STREET_WORDS = {
    "street": "st", "str": "st", "strasse": "st", "road": "rd", "avenue": "ave", "av": "ave",
    "drive": "dr", "lane": "ln", "boulevard": "blvd", "place": "pl", "court": "ct", "square": "sq",
    "terrace": "ter", "highway": "hwy", "parkway": "pkwy", "north": "n", "south": "s", "east": "e",
    "west": "w", "apartment": "apt", "suite": "ste",
}  # fmt: skip
# German streets are one word: "Hauptstraße" / "Hauptstr." is "Haupt" + street.
_COMPOUND_STREET = re.compile(r"^(\w{2,}?)(strasse|str)$")
_ZIP_PLUS_FOUR = re.compile(r"^(\d{5})-?\d{4}$")


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    zip: str

    def __str__(self) -> str:
        return ", ".join(part for part in (self.street, f"{self.zip} {self.city}".strip()) if part)


def street_key(street: str | None) -> str:
    text = unicodedata.normalize("NFKD", (street or "").casefold())  # casefold: "ß" becomes "ss"
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words: list[str] = []
    for word in re.sub(r"[^\w]+", " ", text).split():
        compound = _COMPOUND_STREET.match(word)
        words += [compound.group(1), "st"] if compound else [_STREET_WORDS.get(word, word)]
    return " ".join(words)


def zip_key(postcode: str | None) -> str:
    text = (postcode or "").strip().upper()
    plus_four = _ZIP_PLUS_FOUR.match(text)
    return plus_four.group(1) if plus_four else re.sub(r"[^0-9A-Z]", "", text)


def netsuite_address(row: dict) -> dict:
    """The cache's address fields of one SuiteQL customer row (columns ``addr1``, ``city``, ``zip``):
    ``address`` (shown) and ``address_key`` (compared), both None for a customer without one."""
    street, city, postcode = (str(row.get(column) or "").strip() for column in ("addr1", "city", "zip"))
    shown = str(Address(street, city, postcode)) if street or postcode else None
    return {"address": shown, "address_key": address_key(street, postcode)}


def address_key(street: str | None, postcode: str | None) -> str | None:
    """One text for street + postcode, or None when either is missing (nothing to compare)."""
    street_part, zip_part = street_key(street), zip_key(postcode)
    return f"{street_part}|{zip_part}" if street_part and zip_part else None


def billing_address(customer) -> Address | None:
    """A billing customer's address: the service address an export sends, else (none, or one an
    export would refuse as unparsed) the street and zip of the billing record."""
    # Imported here: the NetSuite list cache reads addresses too, and customers imports the exporter.
    from addon.sync.customers import SERVICE_ADDRESS_ATTRIBUTE, parse_service_address

    parsed = parse_service_address((customer.additional or {}).get(SERVICE_ADDRESS_ATTRIBUTE, "").strip())
    if parsed:
        return Address(*parsed)
    street, city, postcode = (
        (value or "").strip() for value in (customer.street, customer.city, customer.zip)
    )
    return Address(street, city, postcode) if street or postcode else None
