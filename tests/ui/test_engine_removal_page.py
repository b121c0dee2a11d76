"""Removing a mistyped engine from the Engines page (after a confirmation; refused while a tenant
uses it), and the alert banner: one line however many alerts are open, every message in full once
opened."""

from __future__ import annotations

import pytest
from nicegui import app, ui
from nicegui.testing import User
from ui_helpers import sign_in

from engine.alerting import Alerting
from engine.services import audit, engines, tenants
from engine.services.alerts import open_alerts
from engine.validation import EngineCreate, TenantCreate
from storage.tables import Alert

pytestmark = pytest.mark.nicegui_main_file('main.py')

SLOW = 100  # x 0.1 s
LONG_MESSAGE = ('Engine is offline (last check 2026-01-01 10:00 UTC: ERPNext at https://erp.example.com did not '
                'answer within 10 s, the connection was refused, check the URL, the firewall and the site). '
                'Its queued runs wait until it answers again.')


def add_engine(name: str, url: str = 'https://typo.example.com') -> int:
    data = EngineCreate(name=name, base_url=url, api_key='k', api_secret='s')
    return engines.create_engine(app.state.db, app.state.secrets, data, actor='tests').id


def add_alert(rule: str, subject: str, message: str, severity: str = 'critical') -> None:
    with app.state.db.session() as session:
        session.add(Alert(rule=rule, severity=severity, subject=subject, message=message))


def element(user: User, marker: str) -> ui.element:
    [found] = user.find(marker=marker).elements
    return found


async def test_an_admin_deletes_a_mistyped_engine_and_its_alert_goes(user: User) -> None:
    typo = add_engine('Typo ERP', 'https://erp.exmaple.com')
    await engines.check_engine(app.state.db, app.state.secrets, typo)  # the name does not resolve: offline
    await Alerting(app.state.db).evaluate()
    assert [(a.rule, a.subject) for a in open_alerts(app.state.db)] == [('engine_offline', 'Typo ERP')]
    await sign_in(user, 'admin', next_path='/engines')
    await user.should_see(marker='alert-titles', content='Engine offline: Typo ERP')

    user.find(marker=f'engine-delete-{typo}').click()
    await user.should_see("Delete engine 'Typo ERP'?")
    user.find(marker='confirm-cancel').click()
    await user.should_not_see(marker='confirm-dialog')
    assert any(e.id == typo for e in engines.list_engines(app.state.db))  # kept

    user.find(marker=f'engine-delete-{typo}').click()
    await user.should_see(marker='confirm-ok')
    user.find(marker='confirm-ok').click()

    await user.should_see("Engine 'Typo ERP' deleted.", retries=SLOW)
    await user.should_not_see(marker=f'engine-{typo}')
    assert [e.name for e in engines.list_engines(app.state.db)] == ['Sandbox']
    assert open_alerts(app.state.db) == []
    [event] = audit.list_events(app.state.db, action='engine.deleted').items
    assert event.actor == 'admin' and event.details['name'] == 'Typo ERP'
    await user.open('/engines')
    await user.should_not_see(marker='alert-summary')


async def test_an_engine_a_tenant_uses_is_kept_with_the_reason(user: User) -> None:
    tenants.create_tenant(app.state.db, TenantCreate(name='Acme Retail', country='US', currency='USD',
                                                     admin_email='ada@example.com', engine='Sandbox'),
                          actor='tests')
    sandbox = next(e for e in engines.list_engines(app.state.db) if e.name == 'Sandbox')
    await sign_in(user, 'admin', next_path='/engines')

    user.find(marker=f'engine-delete-{sandbox.id}').click()
    await user.should_see(marker='confirm-ok')
    user.find(marker='confirm-ok').click()

    await user.should_see("engine 'Sandbox' is used by 1 tenant", retries=SLOW)
    assert [e.name for e in engines.list_engines(app.state.db)] == ['Sandbox']
    assert audit.list_events(app.state.db, action='engine.deleted').total == 0


async def test_several_alerts_take_one_line_that_opens_into_every_message_in_full(user: User) -> None:
    add_alert('success_rate_low', 'all', 'Only 84.6% of provisioning runs succeeded in the last 1 hour.')
    for name in ('Typo ERP', 'Old ERP', 'Test ERP'):
        add_alert('engine_offline', name, f"Engine '{name}': {LONG_MESSAGE}")
    await sign_in(user, 'support', next_path='/tenants')

    await user.should_see(marker='alert-count', content='4 open alerts')
    [summary] = user.find(marker='alert-summary').elements
    assert len(user.find(marker='alert-banner').elements) == 1
    assert summary.value is False  # closed: the banner is one line
    titles = element(user, 'alert-titles')
    assert 'truncate' in titles.classes  # cut to the width of the screen, phone too
    assert sorted(titles.text.split(', ')) == ['Engine offline: Old ERP', 'Engine offline: Test ERP',
                                               'Engine offline: Typo ERP', 'Success rate below target']

    summary.value = True  # a click on the line

    messages = [label.text for label in user.find(marker='alert-message').elements]
    assert len(messages) == 4 and f"Engine 'Old ERP': {LONG_MESSAGE}" in messages  # whole, never clipped
    for label in user.find(marker='alert-message').elements:
        assert not any('clamp' in c or 'truncate' in c or 'ellipsis' in c for c in label.classes)
    await user.open('/tenants')  # another page: the banner starts closed again, still one line
    await user.should_see(marker='alert-count', content='4 open alerts')


async def test_one_alert_is_one_line_too_and_the_count_covers_more_than_are_listed(user: User) -> None:
    add_alert('queue_depth_high', 'queue', '150 runs are waiting in the queue.', severity='warning')
    await sign_in(user, 'support', next_path='/tenants')
    await user.should_see(marker='alert-count', content='1 open alert')
    assert element(user, 'alert-titles').text == 'Queue too long'

    for number in range(25):
        add_alert('run_stuck', f'run {number}', f'Run {number} has been RUNNING for 45 min.', severity='warning')
    await user.open('/tenants')

    await user.should_see(marker='alert-count', content='26 open alerts')
    await user.should_see(marker='alert-more', content='and 6 older alerts')


# ---- the embedded sandbox's desk: the tenant page's document links open a page -------------------

async def test_every_document_link_of_a_provisioned_tenant_opens_its_sandbox_page(user: User) -> None:
    from engine.services import runs  # noqa: PLC0415 (only this test provisions)

    tenant_id = tenants.create_tenant(app.state.db, TenantCreate(
        name='Acme Retail', country='US', currency='USD', admin_email='ada@example.com', engine='Sandbox',
        stores=2), actor='tests').id
    runs.request_provision(app.state.db, tenant_id, actor='tests')
    await app.state.dispatcher.tick()
    await sign_in(user, 'admin', next_path=f'/tenants/{tenant_id}')
    await user.should_see(marker='run-status', content='SUCCEEDED', retries=SLOW)
    for doctype in ('Company', 'Warehouse', 'Customer', 'User'):  # the documents list fills as it is re-read
        await user.should_see(marker=f'doc-{doctype}', retries=SLOW)
    sandbox = next(e for e in engines.list_engines(app.state.db) if e.name == 'Sandbox')
    links = [el for el in user.find(kind=ui.link).elements if el.props.get('href', '').startswith(sandbox.base_url)]
    assert len(links) >= 8  # company, warehouses, POS profiles, price list, customer, user, ...

    for link in links:
        page = await user.http_client.get(link.props['href'].removeprefix(sandbox.base_url.removesuffix('/sandbox')))
        assert page.status_code == 200, (link.props['href'], page.status_code)
        assert page.headers['content-type'].startswith('text/html')
        assert f': {link.text}</h1>' in page.text.replace('&#x27;', "'").replace('&amp;', '&')
        assert "script-src" not in page.headers['content-security-policy']  # the desk's own policy: no script
        assert page.headers['x-frame-options'] == 'DENY'  # and the app's other headers
    missing = await user.http_client.get('/sandbox/app/company/Nobody%20Ltd')
    assert missing.status_code == 404 and 'Company Nobody Ltd not found' in missing.text
