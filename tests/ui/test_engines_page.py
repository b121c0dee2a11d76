"""The engines page's request budget: the *Requests per second* field of the add and edit forms
(checked inline with the API's rules), the value on each engine's card, and an edit (from the page
or the API) that the running process's next client for the engine follows."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User
from ui_helpers import ADMIN_PASSWORD, sign_in

from engine.services import engines

pytestmark = pytest.mark.nicegui_main_file('main.py')

SLOW = 100  # x 0.1 s


def engine_named(name: str):
    return next(engine for engine in engines.list_engines(app.state.db) if engine.name == name)


def fill_new_engine(user: User, name: str) -> None:
    user.find(marker='engine-add').click()
    user.find(marker='engine-name').type(name)
    user.find(marker='engine-url').type('https://erp.example.com')
    user.find(marker='engine-key').type('k')
    user.find(marker='engine-secret').type('s')


async def test_a_new_engine_gets_its_budget_after_inline_errors_and_shows_it(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    fill_new_engine(user, 'Big ERP')
    for typed, error in (('0', 'must be at least 1'), ('10001', 'must be at most 10000'),
                         (None, 'must be a whole number')):
        field = user.find(marker='engine-rps').clear()
        if typed is not None:  # None: left empty
            field.type(typed)
        user.find(marker='engine-save').click()
        await user.should_see(error)
        assert not any(e.name == 'Big ERP' for e in engines.list_engines(app.state.db))

    user.find(marker='engine-rps').clear().type('400')
    user.find(marker='engine-save').click()

    await user.should_see("Engine 'Big ERP' added.", retries=SLOW)
    created = engine_named('Big ERP')
    assert created.requests_per_second == 400
    await user.should_see(marker=f'engine-requests-per-second-{created.id}', content='400')
    sandbox = engine_named('Sandbox')
    await user.should_see(marker=f'engine-requests-per-second-{sandbox.id}', content='50')  # the default


async def test_an_edit_of_the_budget_on_the_page_reaches_the_next_run(user: User) -> None:
    await sign_in(user, 'admin', next_path='/engines')
    sandbox = engine_named('Sandbox')
    clients = app.state.process.clients
    before = await clients.get(sandbox.id)
    user.find(marker=f'engine-edit-{sandbox.id}').click()
    [field] = user.find(marker='engine-rps').elements
    assert field.value == 50  # the stored value, not a blank

    user.find(marker='engine-rps').clear().type('7')
    user.find(marker='engine-save').click()

    await user.should_see("Engine 'Sandbox' updated.", retries=SLOW)
    await user.should_see(marker=f'engine-requests-per-second-{sandbox.id}', content='7')
    after = await clients.get(sandbox.id)
    assert before.throttle.per_second == 50
    assert after is not before and after.throttle.per_second == 7
    assert engine_named('Sandbox').requests_per_second == 7


async def test_an_edit_through_the_api_reaches_the_next_run_too(user: User) -> None:
    await user.open('/')
    sandbox = engine_named('Sandbox')
    clients = app.state.process.clients
    before = await clients.get(sandbox.id)
    login = await user.http_client.post('/api/v1/auth/token',
                                        json={'username': 'admin', 'password': ADMIN_PASSWORD})
    headers = {'Authorization': f'Bearer {login.json()["access_token"]}'}

    refused = await user.http_client.patch(f'/api/v1/engines/{sandbox.id}', headers=headers,
                                           json={'requests_per_second': 0})
    assert refused.status_code == 422 and await clients.get(sandbox.id) is before

    answer = await user.http_client.patch(f'/api/v1/engines/{sandbox.id}', headers=headers,
                                          json={'requests_per_second': 120})

    assert answer.status_code == 200 and answer.json()['requests_per_second'] == 120
    after = await clients.get(sandbox.id)
    assert after is not before and after.throttle.per_second == 120


async def test_testing_an_engine_saved_with_a_metadata_url_says_to_change_the_url(user: User) -> None:
    from engine.validation import EngineCreate
    from storage.tables import Engine

    cloud = engines.create_engine(app.state.db, app.state.secrets, EngineCreate(
        name='Cloud', base_url='https://erp.example.com', api_key='k', api_secret='s'), actor='tests')
    with app.state.db.session() as session:  # saved before such URLs were refused
        row = session.get(Engine, cloud.id)
        row.base_url = 'http://169.254.169.254'
        session.add(row)
    await sign_in(user, 'admin', next_path='/engines')

    user.find(marker=f'engine-test-{cloud.id}').click()

    await user.should_see(marker=f'engine-check-{cloud.id}', content="'Cloud' was not checked (", retries=SLOW)
    await user.should_see(marker=f'engine-check-{cloud.id}',
                          content="Provisioner refuses this engine's URL, so no request was sent to it")
    await user.should_see(marker=f'engine-error-{cloud.id}', content="Change it in the engine's settings")
    await user.should_see(marker=f'engine-health-{cloud.id}', content='offline')
