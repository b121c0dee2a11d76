"""User Permission (frappe/core/doctype/user_permission/user_permission.py)."""

from __future__ import annotations

from ..context import Context
from ..errors import DuplicateEntryError, throw
from ..meta import DocType, Field, check, link
from ..store import fold
from .base import Controller

META = DocType(
    "User Permission",
    (
        link("user", "User", "User", reqd=True),
        link("allow", "Allow", "DocType", reqd=True),
        Field("for_value", "For Value", "Dynamic Link", options="allow", reqd=True),
        check("is_default", "Is Default"),
        check("apply_to_all_doctypes", "Apply To All Document Types", default=1),
        link("applicable_for", "Applicable For", "DocType"),
        check("hide_descendants", "Hide Descendants"),
    ),
    autoname="hash",
)


class UserPermission(Controller):
    """Identical records are 409 duplicates; one default per user and DocType."""

    meta = META

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        others = [
            p
            for p in ctx.store.by_field("User Permission", "user", doc["user"] or "")
            if fold(p["name"]) != fold(doc["name"])
        ]
        if any(_same_grant(p, doc) for p in others):
            throw("User permission already exists", DuplicateEntryError)
        overlap = next((p for p in others if doc["is_default"] and _same_default(p, doc)), None)
        if overlap is not None:
            link_html = (
                f'<a href="/app/user-permission/{overlap["name"]}">User Permission {overlap["name"]}</a>'
            )
            throw(f"{link_html} has already assigned default value for {doc['allow']}.")


def _same_grant(other: dict, doc: dict) -> bool:
    keys = ("allow", "for_value")
    return (
        all(fold(other[k] or "") == fold(doc[k] or "") for k in keys)
        and fold(other["applicable_for"] or "") == fold(doc["applicable_for"] or "")
        and other["apply_to_all_doctypes"] == doc["apply_to_all_doctypes"]
    )


def _same_default(other: dict, doc: dict) -> bool:
    same_scope = (
        fold(other["applicable_for"] or "") == fold(doc["applicable_for"] or "")
        or other["apply_to_all_doctypes"]
    )
    return other["is_default"] and fold(other["allow"] or "") == fold(doc["allow"] or "") and bool(same_scope)
