"""The run page of a tenant whose admin invite ERPNext throttled says when the step is retried by itself."""

from __future__ import annotations

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from test_retries_used_up_page import run_to_its_end
from ui_helpers import sign_in

from engine.services import runs, tenants
from engine.validation import TenantCreate
from storage.tables import utcnow

pytestmark = pytest.mark.nicegui_main_file('main.py')

WAIT = 300  # x 0.1 s
ERPNEXT_USERS_AN_HOUR = 60  # the embedded sandbox's throttle_user_limit, as ERPNext's default


async def test_the_run_page_says_when_a_throttled_invite_is_retried(user: User) -> None:
    transport = httpx.ASGITransport(app=app.state.process.sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url='http://sandbox',
                                 headers={'Authorization': 'token sandbox:sandbox'}) as sandbox:
        for n in range(ERPNEXT_USERS_AN_HOUR + 1):  # somebody else filled ERPNext's hour
            (await sandbox.post('/api/resource/User', json={'email': f'clerk{n}@example.com', 'first_name': 'C',
                                                            'send_welcome_email': 0})).raise_for_status()
    data = TenantCreate(name='Acme Retail', country='United States', currency='USD', admin_email='ada@example.com',
                        engine='Sandbox')
    tenant_id = tenants.create_tenant(app.state.db, data, actor='tests').id
    run_id = runs.request_provision(app.state.db, tenant_id, actor='tests').id
    assert (await run_to_its_end(run_id))['status'] == 'SUCCEEDED'

    await app.state.process.auto_retry.tick(now=utcnow())
    at = runs.run_detail(app.state.db, run_id)['next_retry_at']
    assert at is not None
    shown = f'{at:%H:%M} UTC' if at.date() == utcnow().date() else f'{at:%Y-%m-%d %H:%M} UTC'
    await sign_in(user, 'support', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-retry-hint', retries=WAIT, content=(
        f"ERPNext throttles new users: 'Invite tenant admin' is retried automatically at {shown}."))
    [hint] = user.find(marker='run-retry-hint').elements
    assert 'text-blue-900' in hint.classes and 'text-red-800' not in hint.classes  # news, not an error
    await user.should_not_see(marker='run-next-retry')  # the hint says when already
    await user.should_see(marker='error-invite_tenant_admin', content='ERPNext throttles new users: it refused to '
                                                                      "create user 'ada@example.com' for now")
