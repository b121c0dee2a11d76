"""DocType metadata: the field definitions Frappe reads from each DocType's JSON.

Only what the sandbox enforces is modelled: labels (they appear in messages), types (they decide
coercion and filters), `reqd`, defaults, Link/Select/Table options, set_only_once, unique, naming
and the tree parent field. Field order follows the DocType's `field_order`, because mandatory
errors list fields in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

NUMERIC_TYPES = frozenset({"Check", "Int", "Float", "Currency", "Percent"})
LENGTH_LIMITED = frozenset({"Data", "Link", "Select", "Dynamic Link"})
DATETIME_TYPES = frozenset({"Date", "Datetime"})
STANDARD_FIELDS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_FIELDS = ("parent", "parentfield", "parenttype")
STANDARD_TYPES = {"creation": "Datetime", "modified": "Datetime", "docstatus": "Int", "idx": "Int"}


@dataclass(frozen=True)
class Field:
    """One DocField."""

    fieldname: str
    label: str | None = None
    fieldtype: str = "Data"
    options: str = ""
    reqd: bool = False
    default: object = None
    set_only_once: bool = False
    unique: bool = False
    child: DocType | None = None  # the child DocType of a Table field

    @property
    def is_table(self) -> bool:
        return self.fieldtype == "Table"

    @property
    def is_email(self) -> bool:
        return self.fieldtype == "Data" and self.options == "Email"

    @property
    def is_phone(self) -> bool:
        return self.fieldtype == "Data" and self.options == "Phone"

    @property
    def select_options(self) -> list[str]:
        return self.options.split("\n")


@dataclass(frozen=True)
class DocType:
    """A DocType: its fields, how it is named, and whether it is a child table or a tree."""

    name: str
    fields: tuple[Field, ...]
    autoname: str = ""  # "field:<fieldname>", "Prompt", "hash" or "" (controller decides, else hash)
    istable: bool = False
    tree_parent: str | None = None  # nsm_parent_field of NestedSet doctypes

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.fieldname: f for f in self.fields}

    @cached_property
    def table_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_table)

    @cached_property
    def value_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_table)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        """Every column `fields=["*"]` returns, in table order."""
        extra = CHILD_FIELDS if self.istable else ()
        return STANDARD_FIELDS + tuple(f.fieldname for f in self.value_fields) + extra

    def field(self, fieldname: str) -> Field | None:
        return self.by_name.get(fieldname)

    @cached_property
    def column_set(self) -> frozenset[str]:
        return frozenset(self.column_names)

    def has_column(self, fieldname: str) -> bool:
        return fieldname in self.column_set

    def fieldtype(self, fieldname: str) -> str:
        found = self.by_name.get(fieldname)
        return found.fieldtype if found else STANDARD_TYPES.get(fieldname, "Data")

    def label(self, fieldname: str) -> str:
        found = self.by_name.get(fieldname)
        return (found.label if found else None) or fieldname


def data(fieldname: str, label: str, **kw) -> Field:
    return Field(fieldname, label, "Data", **kw)


def email(fieldname: str, label: str, **kw) -> Field:
    return Field(fieldname, label, "Data", options="Email", **kw)


def phone(fieldname: str, label: str, **kw) -> Field:
    return Field(fieldname, label, "Data", options="Phone", **kw)


def link(fieldname: str, label: str, target: str, **kw) -> Field:
    return Field(fieldname, label, "Link", options=target, **kw)


def check(fieldname: str, label: str, default: int = 0) -> Field:
    return Field(fieldname, label, "Check", default=default)


def select(fieldname: str, label: str, options: str, **kw) -> Field:
    return Field(fieldname, label, "Select", options=options, **kw)


def table(fieldname: str, label: str | None, child: DocType, **kw) -> Field:
    return Field(fieldname, label, "Table", options=child.name, child=child, **kw)
