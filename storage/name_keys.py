"""The one rule by which tenant and engine names are the same name: case and spacing aside.

`name_key('  Acme   RETAIL ')` == `name_key('acme retail')`: trimmed, each run of spaces one space,
then compared as ERPNext's database compares names (storage/collation.py: so 'École',
'ECOLE' and 'ecole', 'Straße' and 'STRASSE' are one name). The key is
stored beside the name with a unique index (storage/tables.py), so the database refuses a
duplicate as well as the services do, also when two requests race. It is computed here, in Python,
never by SQL: SQLite's `lower()` is a function this process registers (storage/db.py), and an index
built with it would disagree with any tool that opens the file without it.
"""

from __future__ import annotations

import re

from storage.collation import fold

# Unicode's space separators (category Zs): the space, no-break, en/em/thin and ideographic spaces.
SPACE_RUN = re.compile('[\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+')
KEY_LENGTH = 500  # casefold() can triple a 140-character name; room left for a collision suffix


def single_spaces(value: str) -> str:
    """A run of spaces of any kind (two spaces, a no-break space, ...) becomes one plain space, so
    that 'Acme  Retail' and 'Acme Retail' are one name. Tabs and line breaks are left alone: inside
    a name they are a pasting mistake the input rules refuse, not a separator."""
    return SPACE_RUN.sub(' ', value)


def name_key(name: str) -> str:
    """What two names must differ in to be two names: the trimmed, single-spaced text as ERPNext's
    database compares it (case, accents and full-width forms aside, 'ß' = 'ss': a tenant's company
    is named after it, and ERPNext cannot hold two companies whose names compare equal)."""
    return fold(single_spaces(name).strip())


def collision_key(name: str, row_id: int) -> str:
    """A key for a row stored before the rule whose name collides with an older row's: no name can
    ever produce it (a key never holds two spaces in a row), so it blocks nothing."""
    return f'{name_key(name)}  #{row_id}'
