"""When ERPNext takes two names for one: how its database compares text.

ERPNext stores documents in MariaDB with the `utf8mb4_unicode_ci` collation, and a document's
name is its primary key. Under that collation case, accents, compatibility forms (full-width
letters, ligatures) and trailing spaces do not count, and 'ß' is 'ss'. So `GET Company/globex ltd`
answers the company "GLOBEX LTD", a look-up filtered on "Café" returns "CAFE", and inserting
"Straße GmbH" where "STRASSE GMBH" exists is a duplicate.

The steps match ERPNext's answers to the names they want with `fold`, as ERPNext does, and adopt
a document only when its exact name is one this tenant recorded the intent to create: a document
that differs only in case or accents is somebody else's.

It lives in `storage` (it needs nothing but the standard library) because the name keys
(storage/name_keys.py) and the engine's steps both fold names, and `storage` must not import
`engine`; `engine/erpnext/collation.py` re-exports it.
"""

from __future__ import annotations

import unicodedata


def fold(name: object) -> str:
    """The text MariaDB compares under utf8mb4_unicode_ci (close enough for names): compatibility
    decomposition without its combining marks, case-folded, trailing spaces dropped."""
    # sandbox/store.py's fold is a deliberate copy (the simulator depends on nothing of ours): change
    # both together; tests/engine/test_name_collation.py checks that they agree.
    text = str(name)
    if text.isascii():  # nearly every name: no accents to drop (lower() is casefold() on ASCII)
        return text.lower().rstrip(' ')
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(char for char in decomposed if not unicodedata.combining(char)).casefold().rstrip(' ')
