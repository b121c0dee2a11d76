"""Step 1: ERPNext is reachable and the API key pair works."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext


class CheckEngine(Step):
    """ERPNext answers, the credentials are accepted, and its versions are recorded."""

    key = 'check_engine'
    title = 'Check ERPNext'
    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        await ctx.erp.ping()
        try:
            user = await ctx.erp.logged_user()
        except erp.AuthError as exc:
            raise CriticalProvisioningError(
                f'ERPNext at {ctx.erp.base_url} rejected the API key pair ({exc.message}). Check the engine\'s API '
                'key and secret (the user needs System Manager rights), then retry.') from exc
        versions = await ctx.erp.versions()
        return {'user': user, 'versions': _versions(versions)}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        output = await self.run(ctx)
        return {**output, 'exists': [f"ERPNext as {output['user']}"], 'create': []}


def _versions(raw: dict[str, Any]) -> dict[str, str]:
    return {app: str(info.get('version', '?')) for app, info in raw.items() if isinstance(info, dict)}
