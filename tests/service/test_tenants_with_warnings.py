"""`GET /tenants?warnings=true`: the tenants whose current run (the newest that is not a plan)
succeeded with at least one warning, for support staff to follow up (an admin user ERPNext would
not create, a walk-in customer it refused)."""

from __future__ import annotations

from api_helpers import new_tenant
from test_current_run import add_fault, run_to_end

USER_REFUSED = {'method': 'POST', 'doctype': 'User', 'status': 417, 'count': 1}
USER_UNREADABLE = {'method': 'GET', 'doctype': 'User', 'status': 417, 'count': 1}
POS_PROFILE_REFUSED = {'method': 'POST', 'doctype': 'POS Profile', 'status': 417, 'count': 1}


async def tenant_run(api, admin, sandbox_app, name: str, *faults: dict) -> dict:
    """A new tenant (its own admin e-mail) provisioned once, with `faults` in place."""
    tenant_id = await new_tenant(api, admin, name, admin_email=f"admin@{name.split()[0].lower()}.example.com")
    for rule in faults:
        await add_fault(sandbox_app, rule)
    return await run_to_end(api, admin, tenant_id)


async def listed(api, admin, **params) -> list[str]:
    answer = await api.get('/api/v1/tenants', params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page['total'] == len(page['items'])
    return [item['name'] for item in page['items']]


async def test_only_tenants_whose_current_run_succeeded_with_warnings_are_listed(
        api, admin, provisioning, sandbox_engine, sandbox_app):
    warned = await tenant_run(api, admin, sandbox_app, 'Warned Shop', USER_REFUSED)
    await run_to_end(api, admin, warned['tenant_id'], plan=True)  # a plan does not replace the current run
    clean = await tenant_run(api, admin, sandbox_app, 'Clean Shop')
    await add_fault(sandbox_app, USER_UNREADABLE)
    warned_plan = await run_to_end(api, admin, clean['tenant_id'], plan=True)  # nor does a plan's warning count
    fixed = await tenant_run(api, admin, sandbox_app, 'Fixed Shop', USER_REFUSED)
    again = await run_to_end(api, admin, fixed['tenant_id'])  # the re-run invites the admin: no warning
    failed = await tenant_run(api, admin, sandbox_app, 'Failed Shop', USER_REFUSED, POS_PROFILE_REFUSED)
    await new_tenant(api, admin, 'Never Run')
    assert (warned['status'], warned['warnings']) == ('SUCCEEDED', 1)
    assert (clean['warnings'], warned_plan['status'], warned_plan['warnings']) == (0, 'SUCCEEDED', 1)
    assert (fixed['warnings'], again['status'], again['warnings']) == (1, 'SUCCEEDED', 0)
    assert (failed['status'], failed['warnings']) == ('FAILED', 1)

    assert await listed(api, admin, warnings='true') == ['Warned Shop']
    assert await listed(api, admin, warnings='false') == ['Never Run', 'Failed Shop', 'Fixed Shop', 'Clean Shop']
    assert await listed(api, admin, warnings='true', q='warned', status='PROVISIONED') == ['Warned Shop']
    assert await listed(api, admin, warnings='true', q='clean') == []
    assert len(await listed(api, admin, warnings='')) == 5  # blank: no filter


async def test_a_warnings_value_that_is_not_a_boolean_is_a_422_naming_it(api, admin):
    answer = await api.get('/api/v1/tenants', params={'warnings': 'some'}, headers=admin)

    assert answer.status_code == 422
    assert 'warnings' in answer.text
