"""QA pass 5 in the engine: the admin invite on a site without an outgoing e-mail account, a look-up
ERPNext refuses (DataError on a GET) and NameError (409) as a refusal, against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp
from sandbox import create_app
from tests.engine.helpers import diff, documents, fault, provision, stats, steps

NO_INVITATION = ('ERPNext has no outgoing e-mail account, so no invitation e-mail was sent to {}: set one up in '
                 'ERPNext (Settings > Email Account), then send the user a password reset from ERPNext.')


async def no_email_account(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post('/__sandbox__/email-account', json={'present': False})
    assert response.json() == {'present': False}


async def test_without_an_account_the_invite_succeeds_with_a_warning_and_the_same_requests(
        db, runner, make_tenant, sandbox):
    """v15: the user is created (200) with an alert instead of "Welcome email sent"; the operator is told."""
    before = (await stats(sandbox))['requests']
    normal = await provision(db, runner, make_tenant('Acme Retail', admin_email='ada@acme.test').id)
    assert normal['status'] == 'SUCCEEDED' and normal['warnings'] == 0
    between = (await stats(sandbox))['requests']
    await no_email_account(sandbox)
    detail = await provision(db, runner, make_tenant('Beta Foods', admin_email='bob@beta.test').id)
    step = steps(detail)['invite_tenant_admin']
    assert detail['status'] == 'SUCCEEDED' and step['status'] == 'SUCCEEDED' and detail['warnings'] == 1
    assert step['output']['warnings'] == [NO_INVITATION.format('bob@beta.test')]
    assert step['output']['created'] is True and step['attempts'] == 1
    assert [p['for_value'] for p in await documents(sandbox, 'User Permission') if p['user'] == 'bob@beta.test'] \
        == ['Beta Foods']
    after = (await stats(sandbox))['requests']
    assert diff(after, between) == diff(between, before)  # not one request more than with an account


@pytest.mark.parametrize('committed', [True, False])
async def test_an_outgoing_email_error_is_not_retried_and_the_user_is_made_without_the_email(
        db, runner, make_tenant, sandbox, committed):
    """A site whose hooks let OutgoingEmailError (501) escape: the user may be committed (adopt it) or
    rolled back (insert it again without the welcome e-mail); never retried as transient."""
    await fault(sandbox, method='POST', doctype='User', status=501, exc_type='OutgoingEmailError', count=1,
                after_commit=committed)
    before = (await stats(sandbox))['requests']
    detail = await provision(db, runner, make_tenant('Acme Retail', admin_email='ada@acme.test').id)
    step = steps(detail)['invite_tenant_admin']
    assert detail['status'] == 'SUCCEEDED' and step['status'] == 'SUCCEEDED', step
    assert step['attempts'] == 1 and step['output']['warnings'] == [NO_INVITATION.format('ada@acme.test')]
    [user] = [u for u in await documents(sandbox, 'User') if u['name'] == 'ada@acme.test']
    assert user['send_welcome_email'] == (1 if committed else 0)
    assert diff((await stats(sandbox))['requests'], before).get('POST User') == (1 if committed else 2)
    assert [p['user'] for p in await documents(sandbox, 'User Permission')] == ['ada@acme.test']


async def test_a_refusal_of_the_user_made_again_without_the_email_is_the_invite_steps_own_message(
        db, runner, make_tenant, sandbox):
    """Review 3: the second insert's refusal escaped the step's handler and read as a generic one."""
    await fault(sandbox, method='POST', doctype='User', status=501, exc_type='OutgoingEmailError', count=1)
    await fault(sandbox, method='POST', doctype='User', status=417, count=2)  # the 2nd match is the retry
    detail = await provision(db, runner, make_tenant('Acme Retail', admin_email='ada@acme.test').id)
    step = steps(detail)['invite_tenant_admin']
    assert (detail['status'], step['status'], step['error_category']) == ('SUCCEEDED', 'FAILED', 'non_critical')
    assert step['error'].startswith("ERPNext refused to create user 'ada@acme.test': ")
    assert step['error'].endswith("Correct the tenant's admin e-mail or create the user in ERPNext, then retry "
                                  "'Invite tenant admin'.")


def sandbox_client(app) -> ERPNextClient:
    return ERPNextClient('http://sandbox', 'sandbox', 'sandbox', transport=httpx.ASGITransport(app=app))


async def test_a_look_up_erpnext_refuses_is_a_provisioner_bug_not_a_refusal_or_an_outage():
    async with sandbox_client(create_app()) as client:
        with pytest.raises(erp.QueryRefusedError) as refused:
            await client.get_list('Company', fields=['name', 'abbrev'])
    assert not isinstance(refused.value, erp.TransientError | erp.ValidationError)
    assert refused.value.exc_type == 'DataError' and refused.value.status == 417
    assert refused.value.message == (
        'Provisioner sent a query ERPNext refuses (GET Company): Field not permitted in query: abbrev. This is a '
        'Provisioner bug: report it with the correlation id of the run')


async def test_a_data_error_on_a_write_stays_a_refusal():
    app = create_app()
    async with sandbox_client(app) as client, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url='http://sandbox') as control:
        await control.post('/__sandbox__/faults', json={'method': 'POST', 'doctype': 'Customer', 'status': 417,
                                                         'exc_type': 'DataError', 'count': 1})
        with pytest.raises(erp.ValidationError):
            await client.insert('Customer', {'customer_name': 'Walk-in'})


async def test_name_error_is_a_refusal_with_erpnexts_reason():
    async with sandbox_client(create_app()) as client:
        with pytest.raises(erp.ValidationError) as refused:
            await client.insert('Company', {'company_name': 'Company', 'abbr': 'CO', 'default_currency': 'USD',
                                            'country': 'United States'})
    assert refused.value.status == 409 and refused.value.exc_type == 'NameError'
    assert refused.value.message == 'Name of Company cannot be Company'


async def test_a_tenant_named_company_fails_with_erpnexts_reason(db, runner, make_tenant):
    detail = await provision(db, runner, make_tenant('Company').id)
    step = steps(detail)['create_company']
    assert detail['status'] == 'FAILED' and step['status'] == 'FAILED' and step['attempts'] == 1
    assert 'Name of Company cannot be Company' in step['error'], step['error']


async def test_a_refused_look_up_fails_the_step_as_our_bug_not_as_something_to_fix_in_erpnext(
        db, runner, make_tenant, sandbox):
    await fault(sandbox, method='GET', doctype='Warehouse', status=417, exc_type='DataError', count=100)
    detail = await provision(db, runner, make_tenant('Acme Retail').id)
    step = steps(detail)['create_warehouses']
    assert (step['status'], step['error_category'], step['attempts']) == ('FAILED', 'critical', 1)
    assert 'Provisioner bug: report it' in step['error'] and 'Fix this in ERPNext' not in step['error']
