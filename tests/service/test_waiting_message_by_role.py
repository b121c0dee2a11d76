"""What a run waiting for an offline engine tells the API's caller to do depends on the caller's role,
as on the tenant page: an admin reads 'Fix it on Engines'; support and managers, who cannot open that
page, read whom to ask (the API gave every role the admin's words)."""

from __future__ import annotations

import asyncio

import pytest
from api_helpers import make_user, tenant_body
from test_waiting_for_engine import bad_engine

ADMIN_WORDS = 'Fix it on Engines; the run starts by itself once the engine answers.'
OTHER_WORDS = ('Ask an admin to fix it (on Engines, a page for admins); the run starts by itself once the engine '
               'answers.')


@pytest.mark.parametrize(('role', 'words'), [('admin', ADMIN_WORDS), ('support', OTHER_WORDS),
                                             ('manager', OTHER_WORDS)])
async def test_the_waiting_message_is_worded_for_the_callers_role(api, admin, provisioning, role, words):
    await bad_engine(api, admin)
    tenant_id = (await api.post('/api/v1/tenants', headers=admin,
                                json=tenant_body('Badcred Co', engine='SB Bad'))).json()['id']
    run_id = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=admin)).json()['id']
    await asyncio.sleep(0.3)
    await provisioning.tick()  # the dispatcher holds it: still QUEUED
    caller = admin if role == 'admin' else await make_user(api, admin, f'a-{role}', role)

    run = (await api.get(f'/api/v1/runs/{run_id}', headers=caller)).json()
    tenant = (await api.get(f'/api/v1/tenants/{tenant_id}', headers=caller)).json()

    messages = [run['waiting_for_engine']['message'], tenant['waiting_for_engine']['message'],
                tenant['current_run']['waiting_for_engine']['message'],
                tenant['latest_run']['waiting_for_engine']['message']]
    assert all(message.startswith("Waiting: engine 'SB Bad' is offline: ") for message in messages), messages
    assert all(message.endswith(words) for message in messages), messages


async def test_a_support_users_provision_answer_is_worded_for_support(api, admin, provisioning):
    """Every route answering with a run speaks to its caller: a support user's provision request too."""
    await bad_engine(api, admin)
    support = await make_user(api, admin, 'sam', 'support')
    tenant_id = (await api.post('/api/v1/tenants', headers=support,
                                json=tenant_body('Badcred Co', engine='SB Bad'))).json()['id']
    await provisioning.tick()  # the engine is known offline: a new run waits at once

    run = (await api.post(f'/api/v1/tenants/{tenant_id}/provision', headers=support)).json()

    assert run['waiting_for_engine']['message'].endswith(OTHER_WORDS), run['waiting_for_engine']
