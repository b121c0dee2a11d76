"""Frappe's exceptions as the sandbox raises them, and the v1 error envelope (ERPNEXT.md §2).

FrappeError                      500, exc_type = class name
├── ValidationError              417  (frappe.throw's default)
│   ├── MandatoryError, LinkValidationError, UniqueValidationError, CannotChangeConstantError,
│   ├── TimestampMismatchError, LinkExistsError, InvalidEmailAddressError, InvalidPhoneNumberError, DataError,
│   └── CharacterLengthExceededError, NestedSetRecursionError, NestedSetChildExistsError
├── DoesNotExistError            404
├── DuplicateEntryError, NameError   409
├── PermissionError              403
├── AuthenticationError          401
├── InvalidAuthorizationToken    400
├── TooManyRequestsError         429
├── SessionStopped               503
├── QueryDeadlockError           500
└── PythonError                  500, a non-Frappe exception named by `exc_type` (AttributeError, ...)
"""

from __future__ import annotations

import json
import secrets

TRACEBACK_HEAD = (
    "Traceback (most recent call last):\n"
    '  File "apps/frappe/frappe/app.py", line 114, in application\n'
    "    response = frappe.api.handle(request)\n"
    '  File "apps/frappe/frappe/api/__init__.py", line 49, in handle\n'
    "    data = endpoint(**arguments)\n"
)


class FrappeError(Exception):
    """Base of every error the sandbox answers with a Frappe JSON envelope."""

    http_status = 500
    module = "frappe.exceptions"

    def __init__(self, text: str = "", *, messages: list[dict] | None = None, error_message: str = ""):
        super().__init__(text)
        self.text = text
        self.messages = messages or []
        self.error_message = error_message

    @property
    def exc_type(self) -> str:
        return type(self).__name__

    def exception_line(self) -> str:
        prefix = f"{self.module}.{self.exc_type}" if self.module else self.exc_type
        return f"{prefix}: {self.text}" if self.text else prefix


class ValidationError(FrappeError):
    """A controller or framework check refused the document (frappe.throw's default)."""

    http_status = 417


class MandatoryError(ValidationError):
    """`reqd` fields are empty."""


class LinkValidationError(ValidationError):
    """A Link field names a record that does not exist."""


class UniqueValidationError(ValidationError):
    """A `unique` field (other than the name) collides."""


class CannotChangeConstantError(ValidationError):
    """A set_only_once field was changed on save."""


class TimestampMismatchError(ValidationError):
    """The `modified` sent with a PUT is not the stored one."""


class LinkExistsError(ValidationError):
    """A delete was refused because another document links to this one."""


class InvalidEmailAddressError(ValidationError):
    """An Email field holds something that is not an address."""


class DataError(ValidationError):
    """A list query names a field that is not on the DocType (reportview.validate_args)."""


class InvalidPhoneNumberError(ValidationError):
    """A Data field with options Phone holds something that is not a phone number."""


class CharacterLengthExceededError(ValidationError):
    """A Data/Link/Select value is longer than its 140-character column."""


class NestedSetRecursionError(ValidationError):
    """A tree node was moved under itself or one of its descendants."""


class NestedSetChildExistsError(ValidationError):
    """A tree node with children was deleted."""


class DoesNotExistError(FrappeError):
    """Missing document, DocType or route."""

    http_status = 404


class DuplicateEntryError(FrappeError):
    """The primary key (name) already exists on insert."""

    http_status = 409


class NameError(FrappeError):  # noqa: A001 - Frappe's own class name, shown as exc_type
    """A name is invalid, or clashes in a way a controller forbids."""

    http_status = 409


class PermissionError(FrappeError):  # noqa: A001 - Frappe's own class name
    """The caller may not do this (Guest on a resource, non-whitelisted method, wrong verb)."""

    http_status = 403


class AuthenticationError(FrappeError):
    """The Authorization header did not authenticate a user."""

    http_status = 401


class InvalidAuthorizationToken(FrappeError):
    """`Basic` credentials that are not valid base64."""

    http_status = 400


class TooManyRequestsError(FrappeError):
    """Site-wide rate limit exhausted."""

    http_status = 429


class SessionStopped(FrappeError):
    """Site in maintenance mode."""

    http_status = 503


class QueryDeadlockError(FrappeError):
    """Database deadlock; transient."""


class PythonError(FrappeError):
    """A plain Python (or driver) exception escaping a controller, reported as Frappe does (500)."""

    def __init__(self, exc_type: str, text: str, module: str = ""):
        super().__init__(text)
        self._exc_type = exc_type
        self.module = module

    @property
    def exc_type(self) -> str:
        return self._exc_type


def message(
    text: str, *, title: str | None = None, indicator: str | None = None, raised: bool = False,
    alert: bool = False,
) -> dict:
    """One entry of `_server_messages`, keyed in the order frappe.msgprint writes them (`alert`: a
    toast, `msgprint(..., alert=True)`)."""
    out: dict = {"message": text, "title": title or "Message"}
    if indicator or raised:
        out["indicator"] = indicator or "red"
    if alert:
        out["alert"] = 1
    if raised:
        out["raise_exception"] = 1
        out["__frappe_exc_id"] = secrets.token_hex(28)
    return out


def throw(text: str, exc: type[FrappeError] = ValidationError, *, title: str | None = None) -> None:
    """Raise like frappe.throw: the message goes to `_server_messages` and becomes the exception text."""
    raise exc(text, messages=[message(text, title=title, raised=True)])


def duplicate_entry(doctype: str, name: str) -> DuplicateEntryError:
    """What db_insert raises for an existing primary key (ERPNEXT.md §2.4)."""
    note = message(
        f"{doctype} <strong>{name}</strong> already exists", title="Duplicate Name", indicator="red"
    )
    integrity = f"IntegrityError(1062, \"Duplicate entry '{name}' for key 'PRIMARY'\")"
    return DuplicateEntryError(f"({doctype!r}, {name!r}, {integrity})", messages=[note])


def encode_messages(messages: list[dict]) -> str:
    """`_server_messages`: a JSON string of a list of JSON strings (clients decode twice)."""
    return json.dumps([json.dumps(m) for m in messages])


def traceback_of(error: FrappeError) -> str:
    """The traceback Frappe shows for `error` (System Settings `allow_error_traceback`, on by default)."""
    return TRACEBACK_HEAD + error.exception_line() + "\n"


def error_body(error: FrappeError, messages: list[dict]) -> dict:
    """The v1 error envelope; tracebacks are shown (Frappe's default) except for 404."""
    body: dict = {}
    if error.http_status != 404:
        body["exception"] = error.exception_line()
    body["exc_type"] = error.exc_type
    if error.http_status != 404:
        body["exc"] = json.dumps([traceback_of(error)])
    if messages:
        body["_server_messages"] = encode_messages(messages)
    if error.error_message:
        body["_error_message"] = error.error_message
    return body
