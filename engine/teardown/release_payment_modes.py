"""Teardown: take this company's rows out of the shared Modes of Payment, and delete a Mode of
Payment we created once no company uses it any more.

Each row goes by `frappe.client.delete` of the row itself: ERPNext removes it from the stored
document, so other companies' rows are neither sent nor received and cannot be lost."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import TransientProvisioningError
from engine.steps.base import StepContext
from engine.steps.configure_payment_modes import MAX_SAVE_RACES, ROW_DOCTYPE
from engine.steps.shared_writes import SharedWrites
from engine.teardown.base import Preview, TeardownRecord, TeardownStep
from engine.teardown.common import our_company, refused


class ReleasePaymentModes(TeardownStep):
    key = 'release_payment_modes'
    title = 'Release payment modes'
    doctype = 'Mode of Payment'  # what its output's deleted / already_gone / kept / rows_removed name
    critical = True
    after = ('delete_pos_profiles',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        company = our_company(ctx)
        released = []
        if company:
            for mode, row in (await _our_rows(ctx, company)).items():
                await _drop_row(ctx, mode, row, company, self.title)
                released.append(mode)
        deleted, gone, kept = [], [], []
        for mode in ctx.recorded('Mode of Payment'):
            doc = await ctx.erp.find_doc('Mode of Payment', mode)
            if doc is None:
                gone.append(mode)
                continue
            if doc.get('accounts'):
                continue  # another company uses it now: it stays
            if doc.get('owner') != (user := await ctx.api_user()):  # made by somebody after our insert got no answer
                ctx.warn(f"Mode of Payment '{mode}' was left in ERPNext: it was created by {doc.get('owner')}, not by "
                         f"Provisioner's API user {user}.")
                if mode not in released:  # (one whose row went reads so)
                    kept.append(mode)
                continue
            try:
                await ctx.erp.delete('Mode of Payment', mode)
                deleted.append(mode)
            except erp.NotFoundError:
                gone.append(mode)
            except erp.ValidationError as exc:
                raise refused('Mode of Payment', mode, exc, self.title) from exc
        return {'rows_removed': released, 'deleted': deleted, 'already_gone': gone, 'kept': kept}

    @classmethod
    def preview(cls, record: TeardownRecord) -> Preview:
        """The company's row in each mode it was configured on goes; a mode we created is listed for
        deletion (the run deletes it only if no other company uses it by then)."""
        modes = record.payment_modes if record.company else ()
        change = [{'step': cls.key, 'doctype': cls.doctype, 'name': mode,
                   'change': f'remove the account row of {record.company}'} for mode in modes]
        return Preview(delete=cls.deleting(record.recorded(cls.doctype)), change=change)


async def _our_rows(ctx: StepContext, company: str) -> dict[str, str]:
    """Mode → the name of this company's row in it (one look-up, only this company's rows)."""
    rows = await ctx.erp.get_list('Mode of Payment', fields=['name', f'`tab{ROW_DOCTYPE}`.name as row_name'],
                                  filters=[[ROW_DOCTYPE, 'company', '=', company]])
    return {row['name']: row['row_name'] for row in sorted(rows, key=lambda row: row['name'])}


async def _drop_row(ctx: StepContext, mode: str, row: str, company: str, title: str) -> None:
    for attempt in range(MAX_SAVE_RACES):
        try:
            async with SharedWrites.of(ctx.erp.base_url).turn:
                await ctx.erp.call('frappe.client.delete', http_method='POST',
                                   json={'doctype': ROW_DOCTYPE, 'name': row})
            return
        except erp.NotFoundError:
            return  # gone already
        except erp.TimestampMismatchError:  # another tenant saved the mode at the same moment
            await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        except erp.ValidationError as exc:
            raise refused(f'the row of {company} in Mode of Payment', mode, exc, title) from exc
    raise TransientProvisioningError(f"Mode of Payment '{mode}' kept changing while we removed company "
                                     f"'{company}' from it: retry.")
