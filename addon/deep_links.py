"""Where a record lives in each product's own UI: NetSuite's record pages, Splynx's admin.

The URL templates are settings (``link_netsuite_<entity>``, ``link_splynx_<entity>``) so an
operator whose account uses other paths can change them; the defaults and their public
sources are in docs/deep-links.md. ``{host}`` is the UI host (NetSuite: derived from the
account id; Splynx: the configured Splynx URL), ``{id}`` the record's id in that system.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

ENTITIES = ("customer", "invoice", "credit_note", "payment")

DEFAULT_TEMPLATES = {
    "netsuite": {
        "customer": "{host}/app/common/entity/custjob.nl?id={id}",
        "invoice": "{host}/app/accounting/transactions/custinvc.nl?id={id}",
        "credit_note": "{host}/app/accounting/transactions/custcred.nl?id={id}",
        "payment": "{host}/app/accounting/transactions/custpymt.nl?id={id}",
    },
    "splynx": {
        "customer": "{host}/admin/customers/view?id={id}",
        "invoice": "{host}/admin/finance/invoices/view?id={id}",
        "credit_note": "{host}/admin/finance/credit-notes/view?id={id}",
        "payment": "{host}/admin/finance/payments/view?id={id}",
    },
}
SYSTEMS = {"netsuite": "NetSuite", "splynx": "Splynx"}


def setting_key(system: str, entity: str) -> str:
    return f"link_{system}_{entity}"


def netsuite_ui_host(account_id: str | None) -> str | None:
    """https://<account>.app.netsuite.com; a sandbox id '123_SB1' is written '123-sb1' in hosts."""
    account = (account_id or "").strip().lower().replace("_", "-")
    if not account or not all(c.isalnum() or c == "-" for c in account):
        return None
    return f"https://{account}.app.netsuite.com"


def splynx_ui_host(splynx_url: str | None) -> str | None:
    """The Splynx installation's origin (scheme and host), whatever path the API URL carries."""
    parts = urlsplit((splynx_url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def render(template: str | None, host: str | None, record_id: str | int | None) -> str | None:
    """The URL, or None when a part is missing or the template yields no http(s) URL."""
    if not template or record_id in (None, "") or (host is None and "{host}" in template):
        return None
    try:
        url = template.format(host=host or "", id=quote(str(record_id), safe=""))
    except (KeyError, IndexError, ValueError):
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


class Links:
    """The URL builder of one request: settings read once, then one call per id."""

    def __init__(self, values: dict[str, str | None]):
        self.hosts = {
            "netsuite": netsuite_ui_host(values.get("netsuite_account_id")),
            "splynx": splynx_ui_host(values.get("splynx_url")),
        }
        self.templates = {
            system: {
                entity: values.get(setting_key(system, entity)) or DEFAULT_TEMPLATES[system][entity]
                for entity in ENTITIES
            }
            for system in DEFAULT_TEMPLATES
        }

    @classmethod
    def from_settings(cls) -> Links:
        from addon import settings

        keys = ["netsuite_account_id", "splynx_url"] + [
            setting_key(system, entity) for system in DEFAULT_TEMPLATES for entity in ENTITIES
        ]
        return cls({key: settings.get(key) for key in keys})

    def url(self, system: str, entity: str, record_id: str | int | None) -> str | None:
        if entity not in ENTITIES or system not in self.templates:
            return None
        return render(self.templates[system][entity], self.hosts[system], record_id)

    def netsuite(self, entity: str, record_id) -> str | None:
        return self.url("netsuite", entity, record_id)

    def splynx(self, entity: str, record_id) -> str | None:
        return self.url("splynx", entity, record_id)
