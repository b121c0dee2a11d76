"""User, Has Role and Role (frappe/core/doctype/user/user.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ..context import Context
from ..errors import InvalidEmailAddressError, throw
from ..meta import DocType, check, data, email, link, phone, select, table
from ..store import fold
from .base import Controller

STANDARD_USERS = ("Administrator", "Guest")
# User.send_password_notification's alert when the welcome e-mail finds no outgoing Email Account (v15):
# QueueBuilder raises OutgoingEmailError while building the queue, inside the request; the controller
# catches it, logs "Unable to send new password notification" and the insert goes on (200, user created).
NO_EMAIL_ACCOUNT = "Please setup default outgoing Email Account from Settings > Email Account"
AUTOMATIC_ROLES = ("Administrator", "Guest", "All", "Desk User")
EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    re.IGNORECASE,
)

ROLE_META = DocType(
    "Role",
    (
        data("role_name", "Role Name", reqd=True, unique=True),
        check("disabled", "Disabled"),
        check("is_custom", "Is Custom"),
        check("desk_access", "Desk Access", default=1),
    ),
    autoname="field:role_name",
)
HAS_ROLE_META = DocType("Has Role", (link("role", "Role", "Role"),), istable=True)

META = DocType(
    "User",
    (
        check("enabled", "Enabled", default=1),
        email("email", "Email", reqd=True),
        data("first_name", "First Name", reqd=True),
        data("middle_name", "Middle Name"),
        data("last_name", "Last Name"),
        data("full_name", "Full Name"),
        data("username", "Username", unique=True),
        data("language", "Language"),
        data("time_zone", "Time Zone"),
        check("send_welcome_email", "Send Welcome Email", default=1),
        select("user_type", "User Type", "System User\nWebsite User", default="System User"),
        phone("mobile_no", "Mobile No"),
        table("roles", "Roles Assigned", HAS_ROLE_META),
        data("api_key", "API Key"),
    ),
)


class Role(Controller):
    meta = ROLE_META


class User(Controller):
    """Named by the lower-cased email; creation is throttled; a welcome-email note on insert (or, on a
    site without an outgoing e-mail account, an alert that none was sent)."""

    meta = META

    def autoname(self, doc: dict, ctx: Context) -> str | None:
        doc["email"] = doc["email"].strip().lower()  # None fails like ERPNext (AttributeError, 500)
        return doc["email"]

    def before_insert(self, doc: dict, ctx: Context) -> None:
        throttle_user_creation(ctx)

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if not doc["enabled"] and doc["name"] in STANDARD_USERS:
            throw(f"User {doc['name']} cannot be disabled")
        if doc["name"] not in STANDARD_USERS:
            validate_email_address(doc["email"])
            validate_email_address(doc["name"])
        doc["user_type"] = "System User" if _has_desk_access(doc, ctx) else "Website User"
        doc["full_name"] = " ".join(p for p in (doc["first_name"], doc["middle_name"], doc["last_name"]) if p)
        if before is None and not doc["username"] and doc["first_name"]:
            doc["username"] = _free_username(ctx, doc["first_name"])

    def on_update(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if before is None and doc["send_welcome_email"] and doc["name"] not in STANDARD_USERS:
            if ctx.settings.email_account:
                ctx.msgprint("Welcome email sent")
            else:
                ctx.msgprint(NO_EMAIL_ACCOUNT, alert=True)

    def on_trash(self, doc: dict, ctx: Context) -> None:
        if doc["name"] in STANDARD_USERS:
            throw(f"User {doc['name']} cannot be deleted")
        for permission in ctx.store.by_field("User Permission", "user", doc["name"]):
            ctx.store.remove("User Permission", permission["name"])


def validate_email_address(value: str | None) -> None:
    """frappe.utils.validate_email_address(throw=True)."""
    if not value or not EMAIL.fullmatch(value.strip()):
        throw(f"{value} is not a valid Email Address", InvalidEmailAddressError)


def throttle_user_creation(ctx: Context) -> None:
    """More than `user_throttle_limit` users created in the last 60 minutes → "Throttled"."""
    since = str(datetime.now() - timedelta(minutes=60))
    recent = sum(1 for user in ctx.store.all("User") if user["creation"] > since)
    if recent > ctx.settings.user_throttle_limit:
        throw("Throttled")


def _has_desk_access(doc: dict, ctx: Context) -> bool:
    for row in doc["roles"]:
        role = ctx.store.get("Role", row["role"])
        if role and role["desk_access"] and role["name"] not in AUTOMATIC_ROLES:
            return True
    return False


def _free_username(ctx: Context, first_name: str) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", first_name.strip().lower())
    taken = {fold(user["username"]) for user in ctx.store.all("User") if user["username"]}
    candidate, counter = base, 1
    while fold(candidate) in taken:
        candidate, counter = f"{base}{counter}", counter + 1
    return candidate
