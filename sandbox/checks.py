"""Framework checks every save runs (frappe/model/document.py and base_document.py).

Links come first (before naming); the others run after the controller's validate, in Frappe's
order: mandatory, data formats, selects, length, autoname sync, set-only-once (ERPNEXT.md §2.5).
"""

from __future__ import annotations

import re

from .doctypes import ALL_DOCTYPES, canonical_doctype
from .doctypes.user import EMAIL
from .errors import (
    CannotChangeConstantError,
    CharacterLengthExceededError,
    DoesNotExistError,
    InvalidEmailAddressError,
    InvalidPhoneNumberError,
    LinkValidationError,
    MandatoryError,
    UniqueValidationError,
    message,
    throw,
)
from .meta import LENGTH_LIMITED, DocType, Field
from .store import Store, fold

MAX_LENGTH = 140
_TAGS = re.compile(r"<[^>]*>")
PHONE = re.compile(r"([0-9\ \+\_\-\,\.\*\#\(\)]){1,20}$")  # frappe.utils PHONE_NUMBER_PATTERN


def validate_links(doc: dict, meta: DocType, store: Store) -> None:
    """Every Link / Dynamic Link names an existing record; values take the record's exact case."""
    invalid = _invalid_links(doc, meta, store, row=None)
    for field in meta.table_fields:
        assert field.child is not None
        for row in doc[field.fieldname]:
            invalid += _invalid_links(row, field.child, store, row=row["idx"])
    if invalid:
        throw("Could not find " + ", ".join(invalid), LinkValidationError)


def _invalid_links(doc: dict, meta: DocType, store: Store, row: int | None) -> list[str]:
    invalid = []
    links = [f for f in meta.fields if f.fieldtype == "Link"] + [
        f for f in meta.fields if f.fieldtype == "Dynamic Link"
    ]
    for field in links:
        value = doc[field.fieldname]
        if not value:
            continue
        canonical = _resolve_link(doc, meta, field, value, store)
        if canonical is None:
            label = field.label or field.fieldname
            invalid.append(f"Row #{row}: {label}: {value}" if row else f"{label}: {value}")
        else:
            doc[field.fieldname] = canonical
    return invalid


def _resolve_link(doc: dict, meta: DocType, field: Field, value: str, store: Store) -> str | None:
    target = field.options
    if field.fieldtype == "Dynamic Link":
        target = doc[field.options]
        if not target:
            throw(f"{meta.label(field.options)} must be set first")
        if target not in ALL_DOCTYPES:
            throw(f"DocType {target} not found", DoesNotExistError)
    if target == "DocType":
        return canonical_doctype(value)
    record = store.get(target, value)
    return record["name"] if record else None


def run_framework_checks(doc: dict, meta: DocType, before: dict | None) -> None:
    """Document._validate: what runs after the controller's validate."""
    validate_mandatory(doc, meta)
    for record, record_meta, row in _records(doc, meta):
        validate_data_fields(record, record_meta)
        validate_selects(record, record_meta, row)
        validate_length(record, record_meta, row, doc["name"])
    sync_autoname_field(doc, meta)
    if before is not None:
        validate_set_only_once(doc, meta, before)


def _records(doc: dict, meta: DocType) -> list[tuple[dict, DocType, int | None]]:
    records: list[tuple[dict, DocType, int | None]] = [(doc, meta, None)]
    for field in meta.table_fields:
        assert field.child is not None
        records += [(row, field.child, row["idx"]) for row in doc[field.fieldname]]
    return records


def validate_mandatory(doc: dict, meta: DocType) -> None:
    """One message per empty `reqd` field, then MandatoryError "[DocType, name]: fieldnames"."""
    missing = []
    for record, record_meta, row in _records(doc, meta):
        missing += [
            (f.fieldname, _missing_message(f, record_meta, row))
            for f in record_meta.fields
            if f.reqd and _is_empty(record[f.fieldname])
        ]
    if missing:
        text = f"[{meta.name}, {doc['name']}]: " + ", ".join(fieldname for fieldname, _ in missing)
        raise MandatoryError(text, messages=[message(msg) for _, msg in missing])


def _is_empty(value: object) -> bool:
    if value is None or value == []:
        return True
    return isinstance(value, str) and not _TAGS.sub("", value).strip()


def _missing_message(field: Field, meta: DocType, row: int | None) -> str:
    if field.is_table:
        return f"Error: Data missing in table: {field.label}"
    if row is not None:
        return f"Error: <strong>{meta.name}</strong> Row #{row}: Value missing for: {field.label}"
    return f"Error: Value missing for {meta.name}: {field.label}"


def validate_data_fields(record: dict, meta: DocType) -> None:
    for field in meta.value_fields:
        if field.is_email and record[field.fieldname]:
            for address in re.split(r"[,\n;]", record[field.fieldname]):
                if address.strip() and not EMAIL.fullmatch(address.strip()):
                    throw(f"{address.strip()} is not a valid Email Address", InvalidEmailAddressError)
        value = record[field.fieldname]
        if field.is_phone and isinstance(value, str) and value and not PHONE.match(value.strip()):
            throw(f"{value.strip()} is not a valid Phone Number", InvalidPhoneNumberError)


def validate_selects(record: dict, meta: DocType, row: int | None) -> None:
    """Select values are stripped strings from the options (an empty option allows "")."""
    for field in meta.value_fields:
        if field.fieldtype != "Select" or not any(field.select_options):
            continue
        value = "" if record[field.fieldname] is None else str(record[field.fieldname]).strip()
        record[field.fieldname] = value
        if value not in field.select_options:
            prefix = f"Row #{row}:" if row else ""
            options = '", "'.join(field.select_options)
            throw(
                f'{prefix} {field.label} cannot be "{value}". It should be one of "{options}"',
                title="Invalid Value",
            )


def validate_length(record: dict, meta: DocType, row: int | None, parent_name: str) -> None:
    for field in meta.value_fields:
        value = record[field.fieldname]
        if field.fieldtype in LENGTH_LIMITED and isinstance(value, str) and len(value) > MAX_LENGTH:
            reference = f"{meta.name}, Row {row}" if row else f"{meta.name} {parent_name}"
            throw(
                f"{reference}: '{field.label}' ({value}) will get truncated, "
                f"as max characters allowed is {MAX_LENGTH}",
                CharacterLengthExceededError,
                title="Value too big",
            )


def sync_autoname_field(doc: dict, meta: DocType) -> None:
    """`field:x` DocTypes keep x equal to the name (an edited company_name is silently reverted)."""
    if meta.autoname.startswith("field:"):
        fieldname = meta.autoname.removeprefix("field:")
        if doc["name"] != doc[fieldname]:
            doc[fieldname] = doc["name"]


def validate_set_only_once(doc: dict, meta: DocType, before: dict) -> None:
    for field in meta.value_fields:
        if field.set_only_once and doc[field.fieldname] != before[field.fieldname]:
            throw(f"Value cannot be changed for <strong>{field.label}</strong>", CannotChangeConstantError)


def validate_unique(doc: dict, meta: DocType, store: Store) -> None:
    """A `unique` column other than the name collides (the database refuses the write)."""
    autoname_field = meta.autoname.removeprefix("field:")
    for field in meta.value_fields:
        value = doc[field.fieldname]
        if not field.unique or value in (None, "") or field.fieldname == autoname_field:
            continue
        if any(
            fold(other["name"]) != fold(doc["name"])
            for other in store.by_field(meta.name, field.fieldname, value)
        ):
            integrity = f"IntegrityError(1062, \"Duplicate entry '{value}' for key '{field.fieldname}'\")"
            raise UniqueValidationError(
                f"({meta.name!r}, {doc['name']!r}, {integrity})",
                messages=[message(f"{field.label} must be unique")],
            )
