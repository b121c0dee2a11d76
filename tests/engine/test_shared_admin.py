"""One admin e-mail named by several tenants of an engine (QA finding 4).

The first tenant creates the ERPNext user; the others find it made by Provisioner's API user and
only add their company's User Permission (no warning, no intent on the user). Deprovisioning
removes the tenant's own permission and deletes the user only when no other company's permission
names it: the last tenant to go deletes it, whatever the order. A user somebody else made stays a
warning. The sandbox's engine key acts as Administrator; a second key acts as a person, jane@x.test."""

from __future__ import annotations

import pytest

from engine.services import deprovision, runs
from engine.validation import Conflict
from tests.engine.helpers import documents, names, provision, steps

ADMIN = 'ada@shared.test'




async def admin_companies(sandbox) -> list[str]:
    """The companies the shared admin's User Permissions allow, as ERPNext holds them."""
    return sorted(doc['for_value'] for doc in await documents(sandbox, 'User Permission')
                  if doc['user'] == ADMIN and doc['allow'] == 'Company')


async def deprovision_tenant(db, runner, tenant_id: int) -> dict:
    run = deprovision.request(db, tenant_id, actor='tests')
    await runner.execute(run.id)
    detail = runs.run_detail(db, run.id)
    assert detail['status'] == 'SUCCEEDED', {k: s['error'] for k, s in steps(detail).items() if s['error']}
    return detail


async def two_tenants_one_admin(db, runner, make_tenant) -> tuple[int, int]:
    acme = make_tenant('Acme Retail', admin_email=ADMIN)
    beta = make_tenant('Beta Shops', admin_email=' Ada@Shared.test ')  # as ERPNext names users: lower-cased
    for tenant in (acme, beta):
        detail = await provision(db, runner, tenant.id)
        assert detail['status'] == 'SUCCEEDED' and detail['warnings'] == 0, steps(detail)['invite_tenant_admin']
    return acme.id, beta.id


async def test_two_tenants_with_one_admin_both_get_a_user_permission_and_no_warning(db, runner, make_tenant,
                                                                                   sandbox):
    _, beta_id = await two_tenants_one_admin(db, runner, make_tenant)

    assert await admin_companies(sandbox) == ['Acme Retail', 'Beta Shops']
    assert (await names(sandbox, 'User')).count(ADMIN) == 1
    beta = runs.current_run_detail(db, beta_id)
    invite = steps(beta)['invite_tenant_admin']
    assert invite['status'] == 'SUCCEEDED' and not invite['error']
    assert invite['output']['user_shared'] is True and invite['output']['also_admin_of'] == ['Acme Retail']
    assert invite['output']['created'] is False
    assert ADMIN not in beta['metadata']['intents'].get('User', [])  # its teardown never deletes the user
    assert steps(beta)['verify_provisioning']['status'] == 'SUCCEEDED'


async def test_the_last_tenant_to_go_deletes_the_shared_admin(db, runner, make_tenant, sandbox):
    acme, beta = await two_tenants_one_admin(db, runner, make_tenant)

    first = await deprovision_tenant(db, runner, acme)

    removed = steps(first)['remove_tenant_admin']['output']
    assert removed['deleted'] == [] and removed['kept'] == [ADMIN]
    assert removed['still_admin_of'] == ['Beta Shops']
    assert f"User '{ADMIN}' was left in ERPNext: it is still the admin of company 'Beta Shops'." in \
        removed['warnings']
    assert ADMIN in await names(sandbox, 'User')
    assert await admin_companies(sandbox) == ['Beta Shops']  # only Acme's permission went
    again = await provision(db, runner, beta)  # a repair of Beta: its admin is still fine
    assert again['warnings'] == 0 and steps(again)['invite_tenant_admin']['output']['user_shared'] is True
    assert ('User', ADMIN) in {(item['doctype'], item['name']) for item in deprovision.plan(db, beta)['delete']}

    second = await deprovision_tenant(db, runner, beta)

    assert steps(second)['remove_tenant_admin']['output']['deleted'] == [ADMIN]
    assert ADMIN not in await names(sandbox, 'User')
    assert await admin_companies(sandbox) == []


async def test_the_tenant_sharing_the_admin_goes_first_and_leaves_it_to_the_one_that_made_it(
        db, runner, make_tenant, sandbox):
    acme, beta = await two_tenants_one_admin(db, runner, make_tenant)

    first = await deprovision_tenant(db, runner, beta)

    removed = steps(first)['remove_tenant_admin']['output']
    assert removed['deleted'] == [] and removed['kept'] == [] and first['warnings'] == 0
    assert ADMIN in await names(sandbox, 'User')
    assert await admin_companies(sandbox) == ['Acme Retail']

    second = await deprovision_tenant(db, runner, acme)

    assert steps(second)['remove_tenant_admin']['output']['deleted'] == [ADMIN]
    assert ADMIN not in await names(sandbox, 'User') and await admin_companies(sandbox) == []


async def test_a_user_made_by_another_erpnext_user_still_gives_the_warning(db, runner, make_tenant, sandbox,
                                                                          jane):
    made = await jane.post('/api/resource/User', json={'email': ADMIN, 'first_name': 'Ada',
                                                       'send_welcome_email': 0})
    made.raise_for_status()
    acme = make_tenant('Acme Retail', admin_email=ADMIN)

    detail = await provision(db, runner, acme.id)

    invite = steps(detail)['invite_tenant_admin']
    assert detail['status'] == 'SUCCEEDED' and invite['status'] == 'FAILED'
    assert invite['error_category'] == 'non_critical'
    assert f"ERPNext user '{ADMIN}' already exists and was not created by Provisioner" in invite['error']
    assert await admin_companies(sandbox) == []  # left as it is
    await deprovision_tenant(db, runner, acme.id)
    assert ADMIN in await names(sandbox, 'User')


async def test_the_plan_keeps_the_shared_admin_while_another_tenant_has_it(db, runner, make_tenant, sandbox):
    # QA pass 3, finding 3: the plan listed the user for deletion, and the run then kept it.
    acme, beta = await two_tenants_one_admin(db, runner, make_tenant)
    planned = deprovision.plan(db, acme)
    assert "User is deleted only if ERPNext shows no User Permission of it for another company" in planned['note']
    assert ('User', ADMIN) not in {(item['doctype'], item['name']) for item in planned['delete']}
    assert {'doctype': 'User', 'name': ADMIN,
            'reason': "still the admin of tenant 'Beta Shops': the last of them to go deletes it"} in planned['kept']
    await deprovision_tenant(db, runner, acme)
    last = deprovision.plan(db, beta)  # the last one deletes it
    assert ('User', ADMIN) in {(item['doctype'], item['name']) for item in last['delete']}
    assert not [item for item in last['kept'] if item['doctype'] == 'User']


async def test_no_teardown_beside_a_provisioning_run_of_a_tenant_sharing_the_admin(db, runner, make_tenant,
                                                                                  sandbox):
    # QA pass 3, finding 1: deprovisioning one tenant while another with the same admin was being
    # provisioned deleted the user under it (ERPNext showed no other permission yet).
    acme = make_tenant('Acme Retail', admin_email=ADMIN)
    beta = make_tenant('Beta Shops', admin_email=ADMIN)
    assert (await provision(db, runner, acme.id))['status'] == 'SUCCEEDED'
    queued = runs.request_provision(db, beta.id, actor='tests')
    with pytest.raises(Conflict, match=r"Tenant 'Beta Shops' shares this tenant's admin .* is being provisioned"):
        deprovision.request(db, acme.id, actor='tests')
    await runner.execute(queued.id)
    deprovision.request(db, acme.id, actor='tests')  # once it has ended
    with pytest.raises(Conflict, match=r"Tenant 'Acme Retail' shares this tenant's admin .* being deprovisioned"):
        runs.request_provision(db, beta.id, actor='tests')
    runs.request_provision(db, beta.id, actor='tests', plan=True)  # a plan writes nothing: allowed
