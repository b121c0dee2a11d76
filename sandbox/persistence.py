"""Keeps a sandbox's documents in a JSON file, so a restarted process finds what it created before
(as a real ERPNext would). Writes are coalesced: at most one save per `delay` seconds, plus one
when the app shuts down; a crash (kill -9) loses at most that last moment of writes, where a real
ERPNext keeps every committed write. Saving before each write's answer was measured and not chosen:
a save rewrites the whole file on the event loop (the embedded sandbox shares the app's), 13-19 ms
for the 1.6 MB of some 70 tenants and growing with every tenant, and a run makes some 30 writes.

A file that cannot be used (not JSON, an unknown format) is renamed `<name>.broken-<UTC time>`
before the sandbox starts from the seed, so nothing is overwritten that someone may want to look
at or repair."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from .store import Store

logger = logging.getLogger("sandbox")

FORMAT_VERSION = 1


class StateFile:
    """The file one sandbox's store is saved to and loaded from."""

    def __init__(self, path: Path | str, *, delay: float = 0.2) -> None:
        self.path = Path(path)
        self.delay = delay
        self._pending: asyncio.TimerHandle | None = None

    def load_into(self, store: Store) -> bool:
        """Fill `store` from the file; False (store untouched) when there is no usable file."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            self._set_aside(f"it is unreadable ({exc})")
            return False
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            self._set_aside("its format is unknown")
            return False
        store.restore(data["documents"], data["clock"])
        return True

    def _set_aside(self, why: str) -> None:
        """Rename the unusable file out of the way of the fresh seed's first save, and say where."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.name}.broken-{stamp}-{number}")
        try:
            self.path.rename(aside)
        except OSError as exc:
            logger.warning("sandbox: state file %s is not usable: %s; it could not be kept aside (%s), so "
                           "starting from the seed will overwrite it", self.path.name, why, exc)
            return
        logger.warning("sandbox: state file %s is not usable: %s; kept it as %s and starting from the seed",
                       self.path.name, why, aside.name)

    def save(self, store: Store) -> None:
        """Write the whole store now (atomically: a temporary file renamed over the old one)."""
        self.cancel()
        documents, clock = store.snapshot()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".sandbox-", suffix=".json")
        try:
            # dumps, then one write: json.dump's many small writes took 3x as long (60 ms for 1.6 MB)
            text = json.dumps({"version": FORMAT_VERSION, "clock": clock, "documents": documents})
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        store.dirty = False

    def save_soon(self, store: Store) -> None:
        """Schedule a save on the running loop unless one is already pending (no loop: save now)."""
        if not store.dirty or self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.save(store)
            return
        self._pending = loop.call_later(self.delay, self._save_pending, store)

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _save_pending(self, store: Store) -> None:
        self._pending = None
        try:
            self.save(store)
        except OSError as exc:
            logger.warning("sandbox: could not save state to %s: %s", self.path.name, exc)
