"""QA pass 9, finding 4: a plan's steps cannot be retried (409), so a plan that meets a document
someone made by hand advises a new plan (or provisioning), while a run still says to retry the step."""

from __future__ import annotations

from helpers import fault, provision, steps


async def test_a_plan_meeting_a_company_made_by_hand_says_to_ask_for_a_new_plan(db, runner, make_tenant, jane):
    made = await jane.post('/api/resource/Company', json={'company_name': 'Acme Retail', 'abbr': 'AR',
                                                          'default_currency': 'USD', 'country': 'United States'})
    assert made.status_code == 200, made.text
    acme = make_tenant('Acme Retail')

    plan = steps(await provision(db, runner, acme.id, plan=True))['create_company']
    run = steps(await provision(db, runner, acme.id))['create_company']

    assert plan['error'].endswith('Rename or delete it in ERPNext, then ask for a new plan (or provision).')
    assert 'retry' not in plan['error']
    assert run['error'].endswith('Rename or delete it in ERPNext, then retry this step.')


async def test_a_plan_refused_by_erpnext_says_to_ask_for_a_new_plan(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await fault(sandbox, method='GET', doctype='Company', status=403, count=100)

    plan = steps(await provision(db, runner, acme.id, plan=True))['create_company']
    run = steps(await provision(db, runner, acme.id))['create_company']

    assert plan['error'].endswith('(System Manager), then ask for a new plan (or provision).'), plan['error']
    assert run['error'].endswith('(System Manager), then retry the step.'), run['error']
