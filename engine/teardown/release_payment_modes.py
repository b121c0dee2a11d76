"""Teardown: take this company's rows out of the shared Modes of Payment (other companies' rows
stay, under the same `modified` locking as provisioning), and delete a Mode of Payment we created
once no company uses it any more."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from engine.erpnext import errors as erp
from engine.errors import TransientProvisioningError
from engine.steps.base import Step, StepContext
from engine.teardown.common import our_company, refused

MAX_SAVE_RACES = 8


class ReleasePaymentModes(Step):
    key = 'release_payment_modes'
    title = 'Release payment modes'
    critical = True
    after = ('delete_pos_profiles',)

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        company = our_company(ctx)
        released = []
        if company:
            for mode in await _modes_with_row(ctx, company):
                await _drop_row(ctx, mode, company, self.title)
                released.append(mode)
        deleted = []
        for mode in ctx.recorded('Mode of Payment'):
            doc = await ctx.erp.find_doc('Mode of Payment', mode)
            if doc is None or doc.get('accounts'):
                continue  # gone already, or another company uses it now: it stays
            try:
                await ctx.erp.delete('Mode of Payment', mode)
                deleted.append(mode)
            except erp.NotFoundError:
                continue
            except erp.ValidationError as exc:
                raise refused('Mode of Payment', mode, exc, self.title) from exc
        return {'rows_removed': released, 'deleted': deleted}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        company = our_company(ctx)
        modes = await _modes_with_row(ctx, company) if company else []
        return {'change': [f'Mode of Payment {mode}: remove the row of {company}' for mode in modes],
                'delete': [f'Mode of Payment {mode} (only if no other company uses it)'
                           for mode in ctx.recorded('Mode of Payment')]}


async def _modes_with_row(ctx: StepContext, company: str) -> list[str]:
    rows = await ctx.erp.get_list('Mode of Payment', filters=[['Mode of Payment Account', 'company', '=', company]])
    return sorted({row['name'] for row in rows})


async def _drop_row(ctx: StepContext, mode: str, company: str, title: str) -> None:
    for attempt in range(MAX_SAVE_RACES):
        try:
            doc = await ctx.erp.get_doc('Mode of Payment', mode)
        except erp.NotFoundError:
            return
        rows = doc.get('accounts') or []
        kept = [_row(row) for row in rows if row.get('company') != company]
        if len(kept) == len(rows):
            return
        try:
            await ctx.erp.update('Mode of Payment', mode, {'accounts': kept, 'modified': doc['modified']})
            return
        except erp.TimestampMismatchError:
            await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        except erp.ValidationError as exc:
            raise refused(f'the row of {company} in Mode of Payment', mode, exc, title) from exc
    raise TransientProvisioningError(f"Mode of Payment '{mode}' kept changing while we removed company "
                                     f"'{company}' from it: retry.")


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ('name', 'company', 'default_account') if row.get(key) is not None}
