"""JSON shapes of record GETs and collections (docs/netsuite-rest.md §4.8, §6.1)."""

from __future__ import annotations

from urllib.parse import urlencode

from .schema import RecordType, Sublist
from .store import RecordStore


def record_href(base: str, type_name: str, record_id: str) -> str:
    # docs/netsuite-rest.md §1.2: links and Location headers carry the lower-case record type.
    return f"{base}/record/v1/{type_name.lower()}/{record_id}"


def render_record(
    store: RecordStore, record_type: RecordType, record: dict, base: str, *, expand: bool, simple_enum: bool
) -> dict:
    """A record as GET returns it: self link, references as objects, sublists as links or expanded."""
    href = record_href(base, record_type.name, record["id"])
    data = {**record, **store.derived(record_type.name, record)}
    out: dict = {"links": [{"rel": "self", "href": href}]}
    for name, value in data.items():
        if value is None or value == "":
            continue  # docs/netsuite-rest.md §2: empty fields are omitted
        if name in record_type.refs:
            out[name] = _reference(store, record_type.refs[name], value, base)
        elif name in record_type.sublists:
            out[name] = _sublist(store, record_type.sublists[name], value, f"{href}/{name}", base, expand)
        elif name in record_type.subrecords:
            out[name] = {"links": [{"rel": "self", "href": f"{href}/{name}"}], **(value if expand else {})}
        elif name == "status":
            out[name] = (
                value if simple_enum else {"id": value, "refName": store.status_name(record_type.name, value)}
            )
        elif name == "undepFunds":
            flag = "T" if value else "F"
            out[name] = flag if simple_enum else {"id": flag, "refName": "Yes" if value else "No"}
        else:
            out[name] = value
    return out


def render_sublist(store, record_type: RecordType, record: dict, name: str, base: str) -> dict:
    """``GET /record/v1/<type>/<id>/<sublist>``: the expanded sublist collection."""
    href = f"{record_href(base, record_type.name, record['id'])}/{name}"
    return _sublist(store, record_type.sublists[name], record.get(name) or [], href, base, True)


def _reference(store: RecordStore, targets: tuple[str, ...], record_id: str, base: str) -> dict:
    target = store.ref_type(targets, record_id) or targets[0]
    ref = {"links": [{"rel": "self", "href": record_href(base, target, record_id)}], "id": record_id}
    name = store.display_name(target, record_id)
    if name:
        ref["refName"] = name
    return ref


def _sublist(store, sublist: Sublist, lines: list[dict], href: str, base: str, expand: bool) -> dict:
    if not expand:
        return {"links": [{"rel": "self", "href": href}]}
    items = []
    for index, line in enumerate(lines):
        out = {"links": [{"rel": "self", "href": f"{href}/{line.get('line', index)}"}]}
        for name, value in line.items():
            if value is None or value == "":
                continue
            if name in sublist.refs:
                out[name] = _reference(store, sublist.refs[name], value, base)
            elif name in sublist.subrecords:
                out[name] = {"links": [], **value}
            else:
                out[name] = value
        if sublist.key == "doc" and "doc" in line and store.ref_type(("invoice",), line["doc"]):
            invoice = store.get("invoice", line["doc"])
            out.update(
                due=store.invoice_due(line["doc"]),
                total=invoice["total"],
                refNum=invoice.get("tranId"),
                type="Invoice",
                applyDate=invoice.get("tranDate"),
            )
        items.append(out)
    return {"links": [{"rel": "self", "href": href}], "items": items, "totalResults": len(items)}


def collection(
    items: list[dict], total: int, *, limit: int, offset: int, href: str, extra: dict | None = None
):
    """The paged collection envelope (docs/netsuite-rest.md §4.8, §6.1): links, count, hasMore, offset,
    totalResults, items."""

    def page(at: int) -> str:
        return f"{href}?{urlencode({**(extra or {}), 'limit': limit, 'offset': at})}"

    links = []
    if offset > 0:
        links += [
            {"rel": "previous", "href": page(max(offset - limit, 0))},
            {"rel": "first", "href": page(0)},
        ]
    has_more = offset + len(items) < total
    if has_more:
        last = ((total - 1) // limit) * limit
        links += [{"rel": "next", "href": page(offset + limit)}, {"rel": "last", "href": page(last)}]
    links.append({"rel": "self", "href": page(offset)})
    return {
        "links": links,
        "count": len(items),
        "hasMore": has_more,
        "offset": offset,
        "totalResults": total,
        "items": items,
    }
