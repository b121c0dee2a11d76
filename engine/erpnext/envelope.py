"""Reading Frappe's answers: success envelopes and error envelopes, defensively.

Frappe puts error texts in `_server_messages` (a JSON string holding a list of JSON strings),
in `_error_message` (permission errors) or only in `exception` (the last traceback line).
Messages carry HTML (`<strong>`, `<a href>`, `<details>`); we keep the text only.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from engine.erpnext import errors

MAX_MESSAGE = 600
_TAG = re.compile(r'<[^>]+>')
_SPACE = re.compile(r'\s+')

_BY_EXC_TYPE: dict[str, type[errors.ERPNextError]] = {
    'TimestampMismatchError': errors.TimestampMismatchError,
    'QueryDeadlockError': errors.UnavailableError,
    'QueryTimeoutError': errors.UnavailableError,
    'TooManyRequestsError': errors.RateLimitedError,
    'DuplicateEntryError': errors.DuplicateError,
    'AuthenticationError': errors.AuthError,
    'PermissionError': errors.AuthError,
    'DoesNotExistError': errors.NotFoundError,
    'NameError': errors.ValidationError,  # 409, but a refusal of the name ("Name of Company cannot be Company")
    'OutgoingEmailError': errors.OutgoingEmailError,  # 501, and no retry will send the e-mail
}
QUERY_REFUSED = 'DataError'  # reportview.validate_args: "Field not permitted in query: <field>"


def plain_text(value: str) -> str:
    """Frappe message HTML → one line of plain text."""
    return _SPACE.sub(' ', html.unescape(_TAG.sub(' ', value))).strip()


def parse_json(content: bytes) -> Any:
    """The decoded body, or raise ValueError for anything that is not JSON."""
    if not content.strip():
        raise ValueError('empty body')
    return json.loads(content)


def server_messages(body: dict[str, Any]) -> list[str]:
    """Decode `_server_messages` (a JSON list of JSON objects, encoded twice) into plain texts."""
    raw = body.get('_server_messages')
    if not raw:
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return [text] if (text := plain_text(str(raw))) else []
    texts = []
    for item in items if isinstance(items, list) else [items]:
        texts.append(_message_text(item))
    return [t for t in texts if t]


def _message_text(item: Any) -> str:
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            return plain_text(item)
    if isinstance(item, dict):
        return plain_text(str(item.get('message', '')))
    return plain_text(str(item))


def error_message(body: Any, status: int) -> str:
    """The most useful human text in an error answer."""
    if isinstance(body, dict):
        texts = server_messages(body)
        if texts:
            return '; '.join(texts)
        candidates = (str(body.get('_error_message') or ''),
                      body['exception'].split(': ', 1)[-1] if isinstance(body.get('exception'), str) else '',
                      str(body.get('exc_type') or ''))
        for candidate in candidates:  # the first that is not empty once the HTML is gone
            if text := plain_text(candidate):
                return text
    return f'HTTP {status}'


def error_class(status: int, exc_type: str | None, method: str | None = None) -> type[errors.ERPNextError]:
    """Map a status code and Frappe's `exc_type` (and the request's verb) onto our error tree."""
    if exc_type == QUERY_REFUSED and method == 'GET':
        return errors.QueryRefusedError
    if exc_type in _BY_EXC_TYPE:
        return _BY_EXC_TYPE[exc_type]
    if status in (401, 403):
        return errors.AuthError
    if status == 404:
        return errors.NotFoundError
    if status == 409:
        return errors.DuplicateError
    if status == 429:
        return errors.RateLimitedError
    if status >= 500:
        return errors.UnavailableError
    return errors.ValidationError


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unreadable."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + '…'
