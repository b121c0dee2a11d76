"""Step 1: ERPNext is reachable and the API key pair works."""

from __future__ import annotations

from typing import Any

from engine.erpnext import errors as erp
from engine.errors import CriticalProvisioningError
from engine.steps.base import Step, StepContext


class CheckEngine(Step):
    """ERPNext answers and the credentials are accepted (one request: the logged-in user).

    `frappe.auth.get_logged_user` needs a valid key pair, so its answer proves both reachability and
    the credentials. ERPNext's versions are not asked per run: the engine health check records them."""

    key = 'check_engine'
    title = 'Check ERPNext'
    critical = True

    async def run(self, ctx: StepContext) -> dict[str, Any]:
        try:
            user = await ctx.erp.logged_user()
        except erp.AuthError as exc:
            raise CriticalProvisioningError(
                f'ERPNext at {ctx.erp.base_url} rejected the API key pair ({exc.message}). Check the engine\'s API '
                'key and secret (the user needs System Manager rights), then retry.') from exc
        return {'user': user}

    async def plan(self, ctx: StepContext) -> dict[str, Any]:
        output = await self.run(ctx)
        # Shown as 'exists: an API key that acts as Administrator'.
        return {**output, 'exists': [f"an API key that acts as {output['user']}"], 'create': []}
