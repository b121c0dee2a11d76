"""A plan's first step says in plain words what it found (QA pass 8): the page shows
'exists: an API key that acts as Administrator', no longer 'exists: ERPNext as Administrator'."""

from __future__ import annotations

from helpers import provision, steps


async def test_the_plan_names_whom_the_api_key_acts_as(db, runner, make_tenant, sandbox):
    detail = await provision(db, runner, make_tenant('Acme Retail').id, plan=True)

    output = steps(detail)['check_engine']['output']
    assert output['exists'] == ['an API key that acts as Administrator']
    assert output['user'] == 'Administrator' and output['create'] == []
