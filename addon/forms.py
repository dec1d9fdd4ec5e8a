"""Forms of the admin pages.

The module config form is generated from ``addon.settings.specs()`` so every
setting has exactly one definition: its label, help, choices and secrecy come
from the spec and its validation is the spec's own ``coerce``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from addon import billing_backends, settings, validation
from addon.sync import entities


class ChoiceField(SelectField):
    """A select built from (value, label) pairs, handed to wtforms as ``SelectChoice``."""

    def __init__(self, label=None, validators=None, choices=(), **kwargs):
        super().__init__(label, validators, choices=[SelectChoice(v, text) for v, text in choices], **kwargs)


class MultiChoiceField(SelectMultipleField):
    """A multi-select whose values the setting spec checks (in its own words, not wtforms')."""

    def __init__(self, label=None, validators=None, choices=(), **kwargs):
        choices = [SelectChoice(v, text) for v, text in choices]
        super().__init__(label, validators, choices=choices, validate_choice=False, **kwargs)


GROUP_TITLES = OrderedDict(
    [
        ("netsuite", "NetSuite connection"),
        ("billing", "Billing connection"),  # titled with the backend's label, see field_groups
        ("sync", "Synchronization"),
        ("cron", "Cron (automatic synchronization)"),
        ("live", "Live sync (Splynx webhooks)"),
        ("alerts", "Alerts"),
    ]
)
# Which NetSuite fields belong to which auth mode, so the page can say so.
AUTH_MODE_FIELDS = {
    "tba": (
        "netsuite_consumer_key",
        "netsuite_consumer_secret",
        "netsuite_token_id",
        "netsuite_token_secret",
    ),
    "oauth2": ("netsuite_client_id", "netsuite_certificate_id", "netsuite_private_key"),
}
# Settings that hold a NetSuite internal id from a list 'Load mappings' caches (setting -> list):
# once loaded they are a select of that list, before that the raw id field.
CACHED_LIST_SETTINGS = {"subsidiary": "subsidiary", "currency": "currency", "rounding_item": "item"}
CHOICE_LABELS = {
    "tba": "Token-based authentication (OAuth 1.0a)",
    "oauth2": "OAuth 2.0 client credentials (certificate)",
    # The stored values keep their Splynx names; the words are the billing backend's label.
    "splynx_to_netsuite": "{billing} → NetSuite",
    "netsuite_to_splynx": "NetSuite → {billing}",
    "bidirectional": "Bidirectional",
    "starttls": "STARTTLS (usually port 587)",
    "ssl": "SSL/TLS (usually port 465)",
    "none": "None (a local relay only)",
    "month": "Month",
    "day": "Day",
    "suitetax_override": "SuiteTax with override (the billing document's own tax)",
    "legacy": "Legacy tax codes on each line",
}


def _is_bool(spec: settings.SettingSpec) -> bool:
    return isinstance(spec.default, bool)


def _is_number(spec: settings.SettingSpec) -> bool:
    return isinstance(spec.default, int | Decimal) and not _is_bool(spec)


def _field_for(spec: settings.SettingSpec, options: dict):
    description = spec.help
    if spec.secret:
        description = (description + " " if description else "") + "Leave blank to keep the saved value."
        widget_class = TextAreaField if spec.key == "netsuite_private_key" else PasswordField
        return widget_class(
            spec.label,
            validators=[Optional()],
            description=description,
            render_kw={"autocomplete": "off", "spellcheck": "false"},
        )
    if spec.key in CACHED_LIST_SETTINGS:
        return _cached_list_field(spec)
    if spec.options:
        return _billing_list_field(spec, *options[spec.options])
    if spec.key == "mandatory_segments":
        choices = [(name, name.capitalize()) for name in validation.SEGMENTS]
        return MultiChoiceField(spec.label, choices=choices, description="Hold Ctrl or ⌘ to choose several.")
    if spec.choices:
        label = billing_backends.label()
        choices = [(c, CHOICE_LABELS.get(c, c).format(billing=label)) for c in spec.choices]
        return ChoiceField(spec.label, choices=choices, description=description)
    if _is_bool(spec):
        return BooleanField(spec.label, description=description)
    kw: dict[str, Any] = {}
    if spec.parse is settings._parse_date:
        kw = {"type": "date", "placeholder": "YYYY-MM-DD"}  # the browser's date picker
    elif spec.key == "netsuite_concurrency":
        upper = validation.known_account_limit() or validation.MAX_ACCOUNT_CONCURRENCY
        kw = {"type": "number", "min": 1, "max": upper, "step": 1, "inputmode": "numeric"}
    return StringField(spec.label, validators=[Length(max=2000)], description=description, render_kw=kw)


def _billing_list_field(spec: settings.SettingSpec, rows: list[tuple[str, str]] | None, error: str | None):
    """A multi-select of a billing list; when billing did not answer, of the saved values only."""
    saved = [str(v) for v in settings.get(spec.key) or []]
    if rows is None:
        choices = [(v, f"{v} (saved)") for v in saved]
        description = f"{spec.help}. The list could not be loaded: {error}. The saved choices are kept."
    else:
        choices = [(option_id, f"{name} ({option_id})") for option_id, name in rows]
        known = {option_id for option_id, _ in rows} | {name.casefold() for _, name in rows}
        choices += [
            (v, f"{v} (no longer in billing)") for v in saved if v not in known and v.casefold() not in known
        ]
        description = f"{spec.help}. Hold Ctrl or ⌘ to choose several."
    return MultiChoiceField(spec.label, choices=choices, description=description)


def _load_options(name: str) -> tuple[list[tuple[str, str]] | None, str | None]:
    try:
        return validation.billing_options(name), None
    except validation.OptionsUnavailable as exc:
        return None, str(exc)


def _cached_list_field(spec: settings.SettingSpec):
    from addon.sync.mappings import cached

    rows = cached(CACHED_LIST_SETTINGS[spec.key], active_only=True)
    if not rows:
        description = (spec.help + " " if spec.help else "") + (
            "The NetSuite internal ID; run “Load mappings” on the dashboard to choose it from a list."
        )
        return StringField(spec.label, validators=[Length(max=64)], description=description)
    choices = [("", "— not set —")] + [(row.netsuite_id, f"{row.name} ({row.netsuite_id})") for row in rows]
    saved = settings._format(settings.get(spec.key))
    if saved and saved not in {row.netsuite_id for row in rows}:
        # Keep a saved id the list no longer offers visible (and savable) rather than dropping it.
        choices.append((saved, f"{saved} (not in the loaded list)"))
    description = (spec.help + " " if spec.help else "") + "From the lists loaded by “Load mappings”."
    return ChoiceField(spec.label, choices=choices, description=description)


class _ConfigFormBase(FlaskForm):
    def field_groups(self):
        """(title, [fields]) per settings group, in page order."""
        groups: OrderedDict[str, list] = OrderedDict((key, []) for key in GROUP_TITLES)
        for item in settings.specs():
            groups.setdefault(item.group, []).append(self[item.key])
        titles = {**GROUP_TITLES, "billing": f"{billing_backends.label()} connection"}
        return [(titles.get(key, key.title()), fields) for key, fields in groups.items() if fields]

    def forget_secrets(self) -> None:
        """Empty every secret field, whatever was typed: a page never sends a secret back."""
        for item in settings.specs():
            if item.secret:
                self[item.key].data = ""

    def load_saved(self) -> None:
        """Fill the fields from the effective values; secrets stay empty (never rendered)."""
        self.forget_secrets()
        for item in settings.specs():
            field = self[item.key]
            if item.secret:
                continue
            value = settings.get(item.key)
            if isinstance(field, SelectMultipleField):
                field.data = [str(v) for v in value or []]
            else:
                field.data = value if _is_bool(item) else settings._format(value)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.cleaned = {}
        for item in settings.specs():
            field = self[item.key]
            raw = field.data
            if item.secret and not (raw or "").strip():
                continue  # blank secret: keep what is saved
            if _is_number(item) and not (raw or "").strip():
                raw = settings._format(item.default)  # an emptied number field: back to the default
            try:
                self.cleaned[item.key] = item.validate(
                    raw if raw is not None else "", self._options_for(item)
                )
            except settings.SettingError as exc:
                # The spec prefixes its label; next to the field the label is already shown.
                field.errors = [*field.errors, str(exc).removeprefix(f"{item.label}: ")]
                ok = False
        return ok

    def _options_for(self, item: settings.SettingSpec) -> list[tuple[str, str]] | None:
        """The billing list a setting's values must come from (the saved values when billing
        did not answer, so nothing new slips in unchecked)."""
        if not item.options:
            return None
        rows, _ = self._billing_options[item.options]
        if rows is None:
            return [(str(v), str(v)) for v in settings.get(item.key) or []]
        return rows

    def first_error(self) -> str | None:
        """The id of the first field in error, page order (where focus goes)."""
        for item in settings.specs():
            if self[item.key].errors:
                return self[item.key].id
        return None

    def secret_state(self, key: str) -> str:
        """'set' / 'not set' for a secret, for display next to its empty input."""
        return settings.secret_state(key)


def config_form_class() -> type[FlaskForm]:
    """The module config form: one field per setting spec; billing's lists read once."""
    options = {item.options: _load_options(item.options) for item in settings.specs() if item.options}
    fields = {item.key: _field_for(item, options) for item in settings.specs()}
    return type("ConfigForm", (_ConfigFormBase,), {**fields, "_billing_options": options})


class ActionForm(FlaskForm):
    """A button that changes state: carries only the CSRF token."""


class RunForm(FlaskForm):
    """Start an operation from the dashboard."""

    dry_run = BooleanField("Dry run (show what would happen, change nothing)")


class _PeriodForm(FlaskForm):
    """A GET form (it only reads) with an optional period, each end a YYYY-MM-DD date."""

    class Meta:
        csrf = False

    date_from = StringField("From", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})
    date_to = StringField("To", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})

    def validate_date_from(self, field):
        _parse_date_field(field)

    def validate_date_to(self, field):
        _parse_date_field(field)


class ReconcileForm(_PeriodForm):
    pass


class LogFilterForm(_PeriodForm):
    run = StringField("Run", validators=[Optional(), Length(max=12)])
    entity = ChoiceField("Entity", validators=[Optional()])  # choices: every registered entity type
    outcome = ChoiceField(
        "Outcome",
        choices=[
            ("", "All"),
            ("not_synced", "Failed or skipped"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
            ("created", "Created"),
            ("updated", "Updated"),
            ("matched", "Matched"),
            ("paired", "Paired"),
            ("imported", "Imported"),
            ("unchanged", "Unchanged"),
            ("negative_total", "Should be a credit note"),
            ("held", "Held for confirmation"),
        ],
        validators=[Optional()],
    )
    billing_id = StringField("Billing ID", validators=[Optional(), Length(max=64)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity.choices = [SelectChoice(v, text) for v, text in [("", "All"), *entities.labels().items()]]

    def validate_run(self, field):
        if field.data and not field.data.strip().isdigit():
            raise ValidationError("A run number, e.g. 12")


class CustomerSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)])


class PairForm(FlaskForm):
    billing_id = StringField("Billing customer ID", validators=[Length(min=1, max=64)])
    netsuite_id = StringField("NetSuite customer", validators=[Length(min=1, max=64)])

    def validate_billing_id(self, field):
        if not (field.data or "").strip().isdigit():
            raise ValidationError("Enter the billing customer's number, e.g. 1042")


class ResetForm(FlaskForm):
    confirm = StringField("Type RESET to confirm", validators=[Length(max=10)])

    def validate_confirm(self, field):
        if (field.data or "").strip() != "RESET":
            raise ValidationError("Type RESET (capital letters) to confirm the reset")


def _parse_date_field(field) -> date | None:
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError("Use the form YYYY-MM-DD, e.g. 2024-03-31") from None


def parsed_date(field) -> date | None:
    """The date a validated date field holds (None when empty)."""
    return _parse_date_field(field)
