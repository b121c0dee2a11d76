"""Where a sign-in may send the browser afterwards (the `next` of /login)."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

HOME = '/'


def safe_next(target: str | None) -> str:
    """`target` when it is a path of this site, else '/'.

    A path starts with one '/', holds no backslash (browsers read '/\\host' as '//host', another
    site) and no control character (browsers drop tabs and newlines: '/<tab>/host' is '//host'),
    and has no scheme or host once parsed."""
    if not target or not target.startswith('/') or target.startswith('//'):
        return HOME
    if '\\' in target or any(unicodedata.category(c) == 'Cc' for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target
