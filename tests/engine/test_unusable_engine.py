"""A run whose engine cannot be used (a URL Provisioner refuses, stored before the rule; a secret this
process cannot decrypt) fails at its first step saying why, and sends nothing. Before, building the
client raised, the run crashed, its lease expired and it was claimed and crashed again, forever."""

from __future__ import annotations

import pytest

from storage.tables import Engine
from tests.engine.helpers import provision, stats, steps, tenant


def set_engine(db, engine_id: int, **fields) -> None:
    with db.session() as session:
        engine = session.get(Engine, engine_id)
        for name, value in fields.items():
            setattr(engine, name, value)
        session.add(engine)


@pytest.mark.parametrize('fields, says', [
    ({'base_url': 'http://169.254.169.254'},
     "Provisioner refuses the URL of engine 'Sandbox', so no request was sent"),
    ({'base_url': 'http://erp-admin:s3cret@erp.example.com'},
     "Provisioner refuses the URL of engine 'Sandbox', so no request was sent"),
    ({'api_secret_encrypted': 'not-a-fernet-token'}, "The API secret of engine 'Sandbox' cannot be used"),
])
async def test_a_run_on_an_unusable_engine_fails_at_once_and_sends_nothing(db, runner, make_tenant, engine_row,
                                                                           sandbox, fields, says):
    set_engine(db, engine_row.id, **fields)
    acme = make_tenant('Acme Retail')
    before = (await stats(sandbox))['requests']
    detail = await provision(db, runner, acme.id)
    assert detail['status'] == 'FAILED' and detail['error_category'] == 'critical'
    first = steps(detail)['check_engine']
    assert first['status'] == 'FAILED' and says in first['error'] and 'Engines → Edit' in first['error']
    assert detail['error_message'] == f"{first['title']}: {first['error']}"
    assert (await stats(sandbox))['requests'] == before
    assert tenant(db, acme.id).status == 'FAILED'
    assert 's3cret' not in first['error']  # a URL is not repeated: it may hold a password
