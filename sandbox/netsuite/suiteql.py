"""SuiteQL over a SQLite mirror of the store (docs/netsuite-rest.md §6).

Queries are parsed as Oracle SQL with sqlglot, rewritten for SuiteQL's functions
(``TO_DATE``/``TO_TIMESTAMP``/``TO_CHAR``/``BUILTIN.DF``/``SYSDATE``) and executed by SQLite.
Dates are stored as text with a leading marker so that date columns compare correctly with
``TO_DATE(...)`` values and can still be rendered in the account's date format on output.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp

from . import errors
from .profile import AccountProfile
from .schema import ITEM_TYPES, NON_SALE_ITEM_TYPES, RECORD_TYPES, TAX_TYPES, TRANSACTION_TYPES

MAX_ROWS = 100_000  # docs/netsuite-rest.md §6.1: rows reachable through paging
DATE_MARK = "\x01"
DF_SUFFIX = "__df"
# Columns by which mirror rows are replaced on every write (see SuiteQLIndex._create).
MIRROR_KEYS = frozenset({"id", "transaction", "nextdoc"})

# table → (source record types, columns, {ref column: target record types})
_GENERIC: dict[str, tuple[tuple[str, ...], str, dict[str, tuple[str, ...]]]] = {
    "customer": (
        ("customer",),
        "id entityid companyname firstname lastname isperson email phone terms currency subsidiary parent "
        "externalid isinactive datecreated lastmodifieddate receivablesaccount",
        {
            "terms": ("term",),
            "currency": ("currency",),
            "subsidiary": ("subsidiary",),
            "parent": ("customer",),
            "receivablesaccount": ("account",),
        },
    ),
    # SuiteQL's `item` lists every item subtype, tax codes and non-sale items included.
    "item": (
        ITEM_TYPES + TAX_TYPES + NON_SALE_ITEM_TYPES,
        "id itemid displayname fullname itemtype description isinactive externalid subsidiary incomeaccount",
        {"subsidiary": ("subsidiary",), "incomeaccount": ("account",)},
    ),
    "account": (
        ("account",),
        "id acctnumber acctname fullname accountsearchdisplayname accountsearchdisplaynamecopy "
        "displaynamewithhierarchy accttype sspecacct currency subsidiary parent issummary isinactive externalid",
        {"currency": ("currency",), "subsidiary": ("subsidiary",), "parent": ("account",)},
    ),
    "salestaxitem": (
        ("salesTaxItem",),
        "id itemid name fullname rate description taxtype parent taxaccount saleaccount isinactive externalid",
        {"taxtype": ("taxType",)},
    ),
    # SuiteTax only ("Tax Code Records in SuiteTax": a tax code belongs to a tax type).
    "taxtype": (("taxType",), "id name description country isinactive externalid", {}),
    # docs/netsuite-rest.md §6.2: taxgroup as a SuiteQL table is unconfirmed; served so a mapping page can try
    # it.
    "taxgroup": (("taxGroup",), "id itemid rate description isinactive taxitem1 taxitem2", {}),
    "classification": (
        ("classification",),
        "id name fullname externalid subsidiary isinactive",
        {"subsidiary": ("subsidiary",)},
    ),
    "department": (
        ("department",),
        "id name fullname parent subsidiary externalid isinactive",
        {"subsidiary": ("subsidiary",)},
    ),
    "location": (
        ("location",),
        "id name fullname parent externalid subsidiary isinactive",
        {"subsidiary": ("subsidiary",)},
    ),
    "term": (
        ("term",),
        # `name` on the SuiteQL table is unconfirmed (docs/netsuite-rest.md §6.2); served here.
        "id name daysuntilnetdue dayofmonthnetdue duenextmonthifwithindays discountpercent daysuntilexpiry "
        "preferred externalid isinactive",
        {},
    ),
    "subsidiary": (
        ("subsidiary",),
        "id name fullname legalname parent currency country iselimination isinactive externalid lastmodifieddate",
        {"currency": ("currency",), "parent": ("subsidiary",)},
    ),
    "currency": (
        ("currency",),
        "id name symbol displaysymbol exchangerate isbasecurrency currencyprecision isinactive externalid",
        {},
    ),
    "accountingperiod": (
        ("accountingPeriod",),
        "id periodname startdate enddate closed isquarter isyear isadjust isposting",
        {},
    ),
}
_TRANSACTION_COLUMNS = (
    "id type recordtype tranid transactionnumber trandate duedate entity status foreigntotal currency "
    "exchangerate memo otherrefnum externalid postingperiod createddate lastmodifieddate foreignamountpaid "
    "foreignamountunpaid foreignpaymentamountused foreignpaymentamountunused voided posting"
)
# Posting lines of customer payments (docs/netsuite-oauth2-and-payments.md): the deposit account
# is debited, A/R credited.
_ACCOUNTING_LINE_COLUMNS = "transaction transactionline account debit credit amount posting accountingbook"
_TRANSACTION_REFS = ("entity", "status", "currency", "postingperiod")
_LINE_COLUMNS = (
    "id transaction linesequencenumber item itemtype quantity rate netamount foreignamount memo mainline "
    "taxline transactiondiscount class department location subsidiary entity createdfrom linelastmodifieddate"
)
_LINE_REFS = ("item", "class", "department", "location", "entity")
_LINK_COLUMNS = (
    "previousdoc previousline previoustype nextdoc nextline nexttype linktype foreignamount lastmodifieddate"
)
# A customer's address book (docs/netsuite-rest.md §6.2): one row per address, the address itself
# in the second table by `nkey`.
_ADDRESSBOOK_COLUMNS = (
    "internalid entity addressbookaddress defaultbilling defaultshipping isresidential label"
)
_ENTITY_ADDRESS_COLUMNS = (
    "nkey addr1 addr2 addr3 addressee attention addrphone city state zip country addrtext"
)
# Text however it looks: SQLite's NUMERIC affinity would turn the postcode "01234" into 1234.
_TEXT_COLUMNS = frozenset(_ENTITY_ADDRESS_COLUMNS.split()) - {"nkey"} | {"label"}
_DATE_COLUMNS = {"trandate", "duedate", "startdate", "enddate"}
_DATETIME_COLUMNS = {"datecreated", "createddate", "lastmodifieddate", "linelastmodifieddate"}
_INTEGER_COLUMNS = {
    "id", "transaction", "entity", "nextdoc", "previousdoc", "item", "class", "department", "location",
    "subsidiary", "currency", "terms", "parent", "postingperiod", "linesequencenumber", "nextline", "previousline",
    "transactionline", "account", "accountingbook", "internalid", "addressbookaddress", "nkey",
}  # fmt: skip


def _columns(spec: str, refs) -> list[str]:
    names = spec.split()
    return names + [name + DF_SUFFIX for name in refs]


class SuiteQLIndex:
    """An in-memory SQLite copy of the store, refreshed on every committed write."""

    def __init__(self, profile: AccountProfile | None = None):
        self.profile = profile or AccountProfile()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute("PRAGMA case_sensitive_like = ON")  # Oracle LIKE is case-sensitive
        for name, fn in (("ns_to_date", _to_date), ("ns_to_char", _to_char), ("ns_now", _now)):
            self._conn.create_function(name, -1, fn, deterministic=name != "ns_now")
        self._tables: dict[str, list[str]] = {}
        hidden = self.profile.hidden_tables()
        for table, (_, spec, refs) in _GENERIC.items():
            if table not in hidden:
                self._create(table, _columns(spec, refs))
        self._create("transaction", _columns(_TRANSACTION_COLUMNS, _TRANSACTION_REFS))
        self._create("transactionline", _columns(_LINE_COLUMNS, _LINE_REFS))
        for table in ("nexttransactionlinelink", "previoustransactionlinelink"):
            self._create(table, _LINK_COLUMNS.split())
        self._create("transactionaccountingline", _ACCOUNTING_LINE_COLUMNS.split())
        self._next_nkey = 0
        if "customeraddressbook" not in hidden:
            self._create("customeraddressbook", _ADDRESSBOOK_COLUMNS.split())
            self._create("customeraddressbookentityaddress", _ENTITY_ADDRESS_COLUMNS.split())
            self._conn.execute('CREATE INDEX "ix_addressbook_entity" ON "customeraddressbook" ("entity")')
            self._conn.execute(
                'CREATE INDEX "ix_entityaddress_nkey" ON "customeraddressbookentityaddress" ("nkey")'
            )
        self._source_tables: dict[str, list[str]] = {}
        for table, (types, _, _) in _GENERIC.items():
            for record_type in types:
                if table in self._tables:
                    self._source_tables.setdefault(record_type, []).append(table)

    def _create(self, table: str, columns: list[str]) -> None:
        hidden = self.profile.hidden_columns(table)
        columns = [c for c in columns if c.removesuffix(DF_SUFFIX) not in hidden]

        def sql_type(column: str) -> str:
            base = column.removesuffix(DF_SUFFIX)
            if column.endswith(DF_SUFFIX) or base in _TEXT_COLUMNS:
                return "TEXT"
            if base in _INTEGER_COLUMNS:
                return "INTEGER"
            return "NUMERIC" if base not in _DATE_COLUMNS | _DATETIME_COLUMNS else "TEXT"

        self._tables[table] = columns
        definitions = ", ".join(f'"{column}" {sql_type(column)}' for column in columns)
        self._conn.execute(f'CREATE TABLE "{table}" ({definitions})')
        # Every write replaces a record's mirror rows by these keys: without an index each
        # write scans the table, and a sync of N records costs N² (the scale-10 benchmark).
        for column in MIRROR_KEYS.intersection(columns):
            self._conn.execute(f'CREATE INDEX "ix_{table}_{column}" ON "{table}" ("{column}")')

    def _insert(self, table: str, row: dict) -> None:
        columns = self._tables[table]
        placeholders = ", ".join("?" for _ in columns)
        self._conn.execute(
            f'INSERT INTO "{table}" VALUES ({placeholders})',  # noqa: S608 (our own table names)
            [_to_sql(c, row.get(c)) for c in columns],
        )

    # -- mirror maintenance ------------------------------------------------------------------------

    def remove(self, record_type: str, record_id: str) -> None:
        if record_type in TRANSACTION_TYPES:
            self._conn.execute('DELETE FROM "transaction" WHERE id = ?', (int(record_id),))
            self._conn.execute('DELETE FROM "transactionline" WHERE "transaction" = ?', (int(record_id),))
            self._conn.execute(
                'DELETE FROM "transactionaccountingline" WHERE "transaction" = ?', (int(record_id),)
            )
            for table in ("nexttransactionlinelink", "previoustransactionlinelink"):
                self._conn.execute(f'DELETE FROM "{table}" WHERE nextdoc = ?', (int(record_id),))  # noqa: S608
        for table in self._source_tables.get(record_type, ()):
            self._conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (int(record_id),))  # noqa: S608
        if record_type == "customer" and "customeraddressbook" in self._tables:
            self._conn.execute(
                'DELETE FROM "customeraddressbookentityaddress" WHERE nkey IN '
                '(SELECT addressbookaddress FROM "customeraddressbook" WHERE entity = ?)',
                (int(record_id),),
            )
            self._conn.execute('DELETE FROM "customeraddressbook" WHERE entity = ?', (int(record_id),))

    def refresh(self, store, record_type: str, record: dict) -> None:
        """Replace the rows mirroring ``record`` (called under the store lock)."""
        self.remove(record_type, record["id"])
        if record_type in TRANSACTION_TYPES:
            self._insert_transaction(store, record_type, record)
            return
        for table in self._source_tables.get(record_type, ()):
            _, spec, refs = _GENERIC[table]
            lower = {key.lower(): value for key, value in record.items()}
            row = {column: lower.get(column) for column in spec.split()}
            for column, targets in refs.items():
                if row.get(column) is not None:
                    target = store.ref_type(targets, str(row[column]))
                    row[column + DF_SUFFIX] = store.display_name(target, str(row[column])) if target else None
            self._insert(table, row)
        if record_type == "customer" and "customeraddressbook" in self._tables:
            self._insert_address_book(record)

    def _insert_address_book(self, customer: dict) -> None:
        """One address-book row and one address row per entry; a new `nkey` on every write, as
        NetSuite gives a replaced address book new addresses."""
        for entry in customer.get("addressBook") or []:
            self._next_nkey += 1
            address = {key.lower(): value for key, value in (entry.get("addressBookAddress") or {}).items()}
            self._insert(
                "customeraddressbook",
                {"internalid": self._next_nkey, "entity": customer["id"], "addressbookaddress": self._next_nkey,
                 "defaultbilling": bool(entry.get("defaultBilling")),
                 "defaultshipping": bool(entry.get("defaultShipping")),
                 "isresidential": bool(entry.get("isResidential")), "label": entry.get("label")},
            )  # fmt: skip
            self._insert("customeraddressbookentityaddress", {**address, "nkey": self._next_nkey})

    def _insert_transaction(self, store, record_type: str, record: dict) -> None:
        code = RECORD_TYPES[record_type].tran_code
        derived = store.derived(record_type, record)
        entity = record.get("entity") or record.get("customer")
        total = record["payment"] if record_type == "customerPayment" else record["total"]
        row = {
            "id": record["id"],
            "type": code,
            "recordtype": record_type.lower(),
            "tranid": record.get("tranId"),
            "transactionnumber": record.get("tranId"),
            "trandate": record.get("tranDate"),
            "duedate": record.get("dueDate"),
            "entity": entity,
            "status": derived.get("status"),
            # Header totals are positive for all three types; the sign NetSuite uses for credit
            # memos and payments in `foreigntotal` is not recorded in the reference (unconfirmed).
            "foreigntotal": total,
            "currency": record.get("currency"),
            "exchangerate": record.get("exchangeRate"),
            "memo": record.get("memo"),
            "otherrefnum": record.get("otherRefNum"),
            "externalid": record.get("externalId"),
            "postingperiod": record.get("postingPeriod"),
            "createddate": record.get("createdDate"),
            "lastmodifieddate": record.get("lastModifiedDate"),
            "voided": "T" if record.get("voided") else "F",
            # An unapproved payment does not post until it is approved.
            "posting": "F" if record.get("approved") is False else "T",
            "entity__df": store.display_name("customer", entity),
            "status__df": store.status_name(record_type, derived.get("status")),
            "currency__df": store.display_name("currency", record.get("currency") or ""),
            "postingperiod__df": store.display_name("accountingPeriod", record.get("postingPeriod") or ""),
        }
        if record_type == "invoice":
            row["foreignamountpaid"] = derived["amountPaid"]
            row["foreignamountunpaid"] = derived["amountRemaining"]
        else:
            row["foreignpaymentamountused"] = derived["applied"]
            row["foreignpaymentamountunused"] = derived["unapplied"]
        self._insert("transaction", row)
        if record_type == "customerPayment":
            posting = row["posting"]
            for account, debit, credit in (
                (record.get("account"), total, None),
                (record.get("arAcct") or store.receivables_account(), None, total),
            ):
                self._insert(
                    "transactionaccountingline",
                    {"transaction": record["id"], "transactionline": 0, "account": account, "debit": debit,
                     "credit": credit, "amount": debit or -credit, "posting": posting, "accountingbook": 1},
                )  # fmt: skip
        common = {"transaction": record["id"], "subsidiary": record.get("subsidiary"), "entity": entity}
        self._insert(
            "transactionline",
            {**common, "id": 0, "linesequencenumber": 0, "mainline": "T", "taxline": "F", "foreignamount": total,
             "linelastmodifieddate": record.get("lastModifiedDate")},
        )  # fmt: skip
        # docs/netsuite-rest.md §6.2: sales lines carry a negative sign in transactionline; a credit memo
        # reverses them.
        sign = Decimal("-1") if record_type == "invoice" else Decimal("1")
        for line in record.get("item") or []:
            self._insert(
                "transactionline",
                {
                    **common,
                    "id": line["line"],
                    "linesequencenumber": line["line"],
                    "item": line["item"],
                    "itemtype": line.get("itemType"),
                    "quantity": sign * line["quantity"],
                    "rate": line.get("rate"),
                    "netamount": sign * line["amount"],
                    "foreignamount": sign * line["amount"],
                    "memo": line.get("description"),
                    "mainline": "F",
                    "taxline": "F",
                    "transactiondiscount": "F",
                    "class": line.get("class"),
                    "department": line.get("department"),
                    "location": line.get("location"),
                    "linelastmodifieddate": record.get("lastModifiedDate"),
                    "item__df": store.display_name(store.ref_type(ITEM_TYPES, line["item"]), line["item"]),
                },
            )
        for line in record.get("apply") or []:
            # docs/netsuite-rest.md §6.2: applications are link rows; `linktype` for invoice → payment is
            # unconfirmed.
            link = {
                "previousdoc": line["doc"],
                "previousline": 0,
                "previoustype": "CustInvc",
                "nextdoc": record["id"],
                "nextline": 0,
                "nexttype": code,
                "linktype": "Payment",
                "foreignamount": line["amount"],
                "lastmodifieddate": record.get("lastModifiedDate"),
            }
            self._insert("nexttransactionlinelink", link)
            self._insert("previoustransactionlinelink", link)

    # -- queries ---------------------------------------------------------------------------------

    def query(self, suiteql: str) -> list[dict]:
        """Run a SuiteQL SELECT; rows follow docs/netsuite-rest.md §6.1 output rules (lower-case keys,
        strings, no nulls)."""
        sql = translate(suiteql, self._tables)
        try:
            cursor = self._conn.execute(sql)
            names = [column[0].lower() for column in cursor.description]
            raw_rows = cursor.fetchmany(MAX_ROWS)
        except sqlite3.Error as exc:
            raise errors.invalid_search(_netsuite_wording(str(exc))) from None
        rows = []
        for raw in raw_rows:
            row = {"links": []}
            for name, value in zip(names, raw, strict=True):
                if value is None or name.endswith(DF_SUFFIX):
                    continue
                row[name] = _render(value)
            rows.append(row)
        return rows


_MISSING = re.compile(r"^no such (table|column): (?:\w+\.)?(\w+)$")


def _netsuite_wording(message: str) -> str:
    """SQLite's unknown table/column in the words NetSuite uses (docs/netsuite-accounts.md)."""
    match = _MISSING.match(message)
    if match is None:
        return message
    kind, name = match.groups()
    if kind == "table":
        return f"Record '{name}' was not found."
    return f"Field '{name}' was not found. Reason: UNKNOWN - Field is not known."


# -- translation ---------------------------------------------------------------------------------


def translate(suiteql: str, tables: dict[str, list[str]] | None = None) -> str:
    """SuiteQL (Oracle dialect) → SQLite SQL, or NetSuite's 400 "Invalid search query".

    With ``tables`` (table → columns) an unknown table or column is refused as NetSuite refuses
    it; SQLite alone would read an unknown double-quoted column as a string literal.
    """
    try:
        statements = [s for s in sqlglot.parse(suiteql, read="oracle") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise errors.invalid_search(str(exc).splitlines()[0]) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise errors.invalid_search("Only a single SELECT statement is supported.")
    tree = statements[0]
    # docs/netsuite-rest.md §6.1: `LIMIT n` is rejected; `FETCH FIRST n ROWS ONLY` is the supported form.
    if any(isinstance(node, exp.Limit) for node in tree.find_all(exp.Limit)):
        raise errors.invalid_search("LIMIT is not supported; use FETCH FIRST n ROWS ONLY.")
    if tables is not None:
        _check_names(tree, tables)
    tree = tree.transform(_rewrite)
    if isinstance(tree, exp.Select):
        for position, projection in enumerate(list(tree.expressions), start=1):
            if not isinstance(projection, exp.Column | exp.Alias | exp.Star):
                projection.replace(exp.alias_(projection.copy(), f"expr{position}"))
    try:
        return tree.sql(dialect="sqlite", identify=True)
    except sqlglot.errors.SqlglotError as exc:
        raise errors.invalid_search(str(exc)) from None


def _check_names(tree: exp.Expression, tables: dict[str, list[str]]) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    aliases: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name in ctes:
            continue
        if name not in tables:
            raise errors.invalid_search(_netsuite_wording(f"no such table: {name}"))
        aliases[(table.alias or table.name).lower()] = name
    if not aliases or ctes or any(True for _ in tree.find_all(exp.Subquery)):
        return  # derived tables: leave their columns to SQLite
    projected = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    known = {alias: {c.removesuffix(DF_SUFFIX) for c in tables[name]} for alias, name in aliases.items()}
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if not name or name == "*" or name in projected:
            continue
        scope = [known[column.table.lower()]] if column.table.lower() in known else known.values()
        if not any(name in columns for columns in scope):
            raise errors.invalid_search(_netsuite_wording(f"no such column: {name}"))


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.StrToDate | exp.StrToTime):
        return exp.Anonymous(this="ns_to_date", expressions=[node.this, node.args.get("format")])
    if isinstance(node, exp.ToChar | exp.TimeToStr):
        fmt = node.args.get("format")
        return exp.Anonymous(this="ns_to_char", expressions=[node.this] + ([fmt] if fmt else []))
    if isinstance(node, exp.CurrentTimestamp | exp.CurrentDate):
        return exp.Anonymous(this="ns_now", expressions=[])
    if (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier | exp.Column)
        and node.this.name.upper() == "BUILTIN"
        and isinstance(node.expression, exp.Anonymous)
        and node.expression.name.upper() == "DF"
    ):
        # BUILTIN.DF(col) → the mirror's display-text column next to `col`.
        (argument,) = node.expression.expressions
        if isinstance(argument, exp.Column):
            return exp.column(argument.name + DF_SUFFIX, table=argument.table or None)
        return argument
    return node


# -- value conversion ----------------------------------------------------------------------------


def _to_sql(column: str, value):
    if value is None or value == "":
        return None  # Oracle: the empty string is NULL
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, Decimal):
        return float(value)
    base = column.removesuffix(DF_SUFFIX)
    if base in _DATE_COLUMNS | _DATETIME_COLUMNS and not column.endswith(DF_SUFFIX):
        text = str(value).replace("T", " ").removesuffix("Z")
        return DATE_MARK + (text if len(text) > 10 else text + " 00:00:00")
    return value


def _render(value) -> str:
    if isinstance(value, str):
        if value.startswith(DATE_MARK):
            # docs/netsuite-rest.md §6.1: dates and datetimes come back in the account's date format, time
            # dropped.
            moment = datetime.fromisoformat(value[1:])
            return f"{moment.month}/{moment.day}/{moment.year}"
        return value
    if isinstance(value, float):
        text = format(Decimal(repr(round(value, 8))).normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


_ORACLE_TOKENS = re.compile(r'"[^"]*"|YYYY|HH24|HH12|HH|MI|SS|MM|DD|YY|AM|PM|.', re.IGNORECASE)
_STRFTIME = {
    "YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "HH24": "%H", "HH12": "%I", "HH": "%I",
    "MI": "%M", "SS": "%S", "AM": "%p", "PM": "%p",
}  # fmt: skip


def _strftime_pattern(oracle_format: str) -> str:
    if "%" in oracle_format:  # sqlglot already translated an upper-case Oracle format
        return oracle_format
    out = []
    for token in _ORACLE_TOKENS.findall(oracle_format):
        if token.startswith('"'):
            out.append(token[1:-1].replace("%", "%%"))
        else:
            out.append(_STRFTIME.get(token.upper(), token.replace("%", "%%")))
    return "".join(out)


def _to_date(value, fmt="YYYY-MM-DD"):
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(DATE_MARK):
        return value
    moment = datetime.strptime(str(value), _strftime_pattern(str(fmt)))
    return DATE_MARK + moment.strftime("%Y-%m-%d %H:%M:%S")


def _to_char(value, fmt=None):
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(DATE_MARK):
        moment = datetime.fromisoformat(value[1:])
        return moment.strftime(_strftime_pattern(fmt or "MM/DD/YYYY"))
    return _render(value)


def _now():
    return DATE_MARK + datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
