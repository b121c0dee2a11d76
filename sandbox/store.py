"""The in-memory database: documents per DocType, a `modified` clock, per-request transactions.

Names and indexed values are compared as MariaDB's default collation does, without case or accents
(`GET /api/resource/Company/acme retail` finds "Acme Retail"; a second "ACME Retail" or "Acmé Retail"
is a duplicate).
Stored documents are never mutated in place: callers copy, change and `put` them back, which is what
lets `rollback` restore the previous objects.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

# Fields whose equality look-ups are served from an index instead of a scan (per DocType).
INDEXED_FIELDS = (
    "company",
    "abbr",
    "user",
    "customer_name",
    "parent_account",
    "parent_cost_center",
    "parent_warehouse",
    "parent_company",
    "parent_customer_group",
    "parent_territory",
    "parent_item_group",
)


def fold(value: object) -> str:
    """Collation key of MariaDB's utf8mb4_unicode_ci (PAD SPACE), near enough for names: case, accents
    and compatibility forms (full-width letters, ligatures) ignored, 'ß' = 'ss', trailing spaces ignored."""
    # A deliberate copy of storage/collation.py's fold (the sandbox depends on nothing of ours): change
    # both together; tests/engine/test_name_collation.py checks that they agree.
    text = str(value)
    if text.isascii():  # nearly every name: no accents to drop (lower() is casefold() on ASCII)
        return text.lower().rstrip(" ")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold().rstrip(" ")


class Clock:
    """Server-local timestamps that strictly increase, so every save gets a distinct `modified`."""

    def __init__(self, start: datetime | None = None):
        self._last = start or datetime.min

    @property
    def last(self) -> datetime:
        return self._last

    def now(self) -> str:
        current = datetime.now()
        if current <= self._last:
            current = self._last + timedelta(microseconds=1)
        self._last = current
        return str(current)  # Frappe's str(datetime): "2024-05-01 10:20:30.123456"

    def tick(self) -> str:
        """Next timestamp after the last one, ignoring the wall clock (used for seed data)."""
        self._last += timedelta(microseconds=1)
        return str(self._last)


class Store:
    """All documents of one sandbox, keyed by DocType and folded name."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, dict]] = defaultdict(dict)
        self._index: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._undo: list[tuple[str, str, dict | None]] | None = None
        self.clock = Clock()
        self.dirty = False  # changed since the last save (see persistence.py)

    def get(self, doctype: str, name: object) -> dict | None:
        if name is None or name == "":
            return None
        return self._tables[doctype].get(fold(name))

    def exists(self, doctype: str, name: object) -> bool:
        return self.get(doctype, name) is not None

    def all(self, doctype: str) -> list[dict]:
        return list(self._tables[doctype].values())

    def count(self, doctype: str) -> int:
        return len(self._tables[doctype])

    def by_field(self, doctype: str, fieldname: str, value: object) -> list[dict]:
        """Documents whose `fieldname` equals `value` (collation rules); indexed when possible."""
        table = self._tables[doctype]
        key = fold(value)
        if fieldname in INDEXED_FIELDS:
            return [table[name] for name in self._index[(doctype, fieldname)].get(key, ())]
        return [
            doc for doc in table.values() if doc.get(fieldname) is not None and fold(doc[fieldname]) == key
        ]

    def put(self, doc: dict) -> None:
        """Insert or replace `doc` (a fresh object; never mutate it afterwards)."""
        doctype, key = doc["doctype"], fold(doc["name"])
        previous = self._tables[doctype].get(key)
        self._remember(doctype, key, previous)
        self._write(doctype, key, previous, doc)

    def remove(self, doctype: str, name: object) -> None:
        key = fold(name)
        previous = self._tables[doctype].get(key)
        if previous is not None:
            self._remember(doctype, key, previous)
            self._write(doctype, key, previous, None)

    def snapshot(self) -> tuple[dict[str, list[dict]], str]:
        """Every document per DocType, and the clock's last timestamp (for persistence)."""
        return {doctype: list(table.values()) for doctype, table in self._tables.items() if table}, str(
            self.clock.last
        )

    def restore(self, documents: dict[str, list[dict]], clock: str) -> None:
        """Replace every document with `documents` (as `snapshot` gave them)."""
        self._tables.clear()
        self._index.clear()
        for docs in documents.values():
            for doc in docs:
                self._write(doc["doctype"], fold(doc["name"]), None, doc)
        self.clock = Clock(datetime.fromisoformat(clock))
        self.dirty = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One request = one transaction: any exception restores every document it touched."""
        self._undo = []
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        finally:
            self._undo = None

    def _remember(self, doctype: str, key: str, previous: dict | None) -> None:
        if self._undo is not None:
            self._undo.append((doctype, key, previous))

    def _rollback(self) -> None:
        for doctype, key, previous in reversed(self._undo or []):
            self._write(doctype, key, self._tables[doctype].get(key), previous)

    def _write(self, doctype: str, key: str, old: dict | None, new: dict | None) -> None:
        self.dirty = True
        table = self._tables[doctype]
        if old is not None:
            self._unindex(doctype, key, old)
        if new is None:
            table.pop(key, None)
            return
        table[key] = new
        self._reindex(doctype, key, new)

    def _reindex(self, doctype: str, key: str, doc: dict) -> None:
        for fieldname in INDEXED_FIELDS:
            value = doc.get(fieldname)
            if value is not None and value != "":
                self._index[(doctype, fieldname)][fold(value)].add(key)

    def _unindex(self, doctype: str, key: str, doc: dict) -> None:
        for fieldname in INDEXED_FIELDS:
            value = doc.get(fieldname)
            if value is not None and value != "":
                self._index[(doctype, fieldname)][fold(value)].discard(key)
