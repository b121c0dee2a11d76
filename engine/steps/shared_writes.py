"""Writes to documents every tenant of an ERPNext site shares (the Modes of Payment), one request at
a time per site and together (group commit).

One at a time, because ERPNext saves a parent document under optimistic locking: two of our runs
appending to the same Mode of Payment at once would make one of them fail with
TimestampMismatchError. Together, because one at a time alone would let a site take no more than one
tenant per round trip, whatever the concurrency: the runs that arrive while a request is on its way
all go in the next one (`frappe.client.insert_many`: one transaction, at most 200 documents).

A batch whose data ERPNext refuses is sent again run by run, so that one tenant's refusal (an
account of another company, say) stays that tenant's and the others go through. A batch that raced
another tenant's write (a mode created, saved or deleted meanwhile) wrote nothing: every run in it
looks again. Any other failure (ERPNext unreachable, throttling) is every run's, each retrying as
its own step would.
"""

from __future__ import annotations

import asyncio
import copy
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog

from engine.erpnext import errors as erp
from engine.erpnext.client import ERPNextClient

log = structlog.get_logger('engine.shared_writes')

MAX_DOCS = 200  # frappe.client.insert_many refuses more in one request


class LookAgain(Exception):
    """Look these documents up again before sending them: the batch that carried them raced another
    tenant's write (nothing was written; `every_row` when someone created a document the batch
    meant to create), or it ended without an answer (its run was stopped)."""

    def __init__(self, *, every_row: bool = False) -> None:
        super().__init__('look again')
        self.every_row = every_row


@dataclass(eq=False)  # compared by identity: two runs may send equal documents
class _Write:
    docs: list[dict[str, Any]]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    carried_by: str | None = None  # the correlation id of the run whose request carried these documents


class SharedWrites:
    """This process's writes to one site's shared documents (per event loop)."""

    _by_loop: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.turn = asyncio.Lock()  # also taken by other writes to these documents (teardown's deletes)
        self.waiting: list[_Write] = []

    @classmethod
    def of(cls, site: str) -> SharedWrites:
        sites = cls._by_loop.setdefault(asyncio.get_running_loop(), {})
        if site not in sites:
            sites[site] = cls()
        return sites[site]

    async def insert(self, client: ERPNextClient, docs: list[dict[str, Any]]) -> None:
        """Insert `docs`, in one request with the documents of the runs waiting at the same time;
        raises what ERPNext answered to these documents."""
        write = _Write(docs)
        self.waiting.append(write)
        try:
            async with self.turn:
                if not write.done.done():
                    try:
                        await self._send(client, self._take(write))
                    finally:
                        if write.done.done() and not write.done.cancelled():
                            write.done.exception()  # seen: when this run was stopped mid-request, it stops
        finally:
            if write in self.waiting:  # stopped (a timeout, a shutdown) before its turn: never sent
                self.waiting.remove(write)
        write.done.result()
        if write.carried_by != client.request_id:
            log.info('erpnext.batched', doctypes=sorted({doc['doctype'] for doc in docs}), carried_by=write.carried_by)

    def _take(self, mine: _Write) -> list[_Write]:
        """Ours first, then whoever waits, up to MAX_DOCS documents."""
        batch, size = [mine], len(mine.docs)
        for write in self.waiting:
            if write is not mine and size + len(write.docs) <= MAX_DOCS:
                batch.append(write)
                size += len(write.docs)
        self.waiting = [write for write in self.waiting if write not in batch]
        return batch

    async def _send(self, client: ERPNextClient, batch: list[_Write]) -> None:
        try:
            await client.insert_many([doc for write in batch for doc in write.docs])
        except erp.ERPNextError as refused:
            if isinstance(refused, erp.DuplicateError | erp.TimestampMismatchError | erp.NotFoundError):
                for write in batch:  # a race, not a refusal of anyone's data: nothing was written
                    write.done.set_exception(LookAgain(every_row=isinstance(refused, erp.DuplicateError)))
            elif len(batch) == 1:
                batch[0].done.set_exception(refused)
            elif isinstance(refused, erp.ValidationError):
                for write in batch:  # one run's documents may have spoiled it: each on its own
                    await self._send(client, [write])
            else:  # ERPNext unreachable, throttling, refusing the key: the same for every run
                for write in batch:
                    write.done.set_exception(copy.copy(refused))
            return
        except BaseException:
            for write in batch:  # stopped mid-request: the others look again; our run stops anyway
                if not write.done.done():
                    write.done.set_exception(LookAgain())
            raise
        for write in batch:
            write.carried_by = client.request_id
            write.done.set_result(None)
