"""Naming rules shared by DocTypes (frappe/model/naming.py, erpnext.accounts.utils)."""

from __future__ import annotations

from .errors import NameError, throw
from .meta import DocType


def validate_name(doctype: str, name: object) -> str:
    """frappe.model.naming.validate_name: trimmed, not the DocType's name, no '<' or '>'."""
    if not name:
        throw(f"No Name Specified for {doctype}")
    name = str(name)
    if name.startswith("New " + doctype):
        throw("There were some errors setting the name, please contact the administrator", NameError)
    name = name.strip()
    if name == doctype:
        throw(f"Name of {doctype} cannot be {name}", NameError)
    if "<" in name or ">" in name:
        throw("Name cannot contain special characters like '<', '>'", NameError)
    return name


def name_from_field(doc: dict, meta: DocType, fieldname: str) -> str:
    """`field:<fieldname>` naming: the trimmed value, or "<Label> is required" (before mandatory checks)."""
    value = doc.get(fieldname)
    name = ("" if value is None else str(value)).strip()
    if not name:
        throw(f"{meta.label(fieldname)} is required")
    return name


def autoname_with_number(number: object, title: str | None, abbr: str | None) -> str:
    """erpnext.accounts.utils.get_autoname_with_number: "[<number> - ]<title> - <ABBR>", ABBR always appended.

    Written like ERPNext's, so a missing title or company fails the same way (AttributeError /
    TypeError, answered as 500) instead of a tidy validation message.
    """
    parts = [title.strip(), abbr]  # type: ignore[union-attr]
    if number is not None and str(number).strip():
        parts.insert(0, str(number).strip())
    return " - ".join(parts)  # type: ignore[arg-type]
