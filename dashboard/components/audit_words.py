"""An audit event's details as one line of words, the same on the audit page and on a tenant's page:
changes read `role: support → admin`, datetimes as the pages write times (`fmt_time`:
`2026-12-31 00:00:00 UTC`) and a renamed key as its new name. Only the words change: the log (and the
API, and `tenant_view.audit_trail`) keep what was stored.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from dashboard.components.formatting import fmt_time

# Detail keys that read backwards, shown as the key that replaced them: a teardown that takes over an
# admin user another tenant's teardown kept named that tenant 'kept_by'.
RENAMED_KEYS = {'admin_user_kept_by': 'admin_user_taken_over_from'}
# Datetimes as the audit log stores them in details (`datetime.isoformat()`), offset optional.
ISO_DATETIME = re.compile(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)?')
SEPARATOR = ' · '


def details_words(details: dict[str, Any] | None) -> str:
    """`key: value · key: value`; a `changes` mapping first, each as `key: old → new`."""
    details = {RENAMED_KEYS.get(key, key): readable(value) for key, value in (details or {}).items()}
    changes = details.get('changes')
    if not isinstance(changes, dict):
        return _pairs(details)
    del details['changes']
    words = [f'{key}: {_word(change[0])} → {_word(change[1])}'
             if isinstance(change, list) and len(change) == 2 else f'{key}: {_word(change)}'
             for key, change in changes.items()]
    rest = _pairs(details)
    return SEPARATOR.join([*words, rest] if rest else words)


def readable(value: Any) -> Any:
    """`value` with every ISO datetime text in it (nested too) written as the pages write times."""
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, str) and ISO_DATETIME.fullmatch(value):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:  # e.g. month 13: not a datetime after all
            return value
        return fmt_time(when.astimezone(UTC) if when.tzinfo else when)  # stored naive = UTC
    return value


def _pairs(details: dict[str, Any]) -> str:
    """Values JSON-encoded when they are not plain text."""
    return SEPARATOR.join(f'{key}: {value if isinstance(value, str) else _json(value)}'
                          for key, value in details.items())


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
