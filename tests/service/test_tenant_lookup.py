"""One tenant look-up for every service: an unknown id, or one beyond what the database's integers
hold, is the same 404 with the same words wherever it is asked for (never a 500)."""

from __future__ import annotations

import pytest

from engine.services import deprovision, runs, tenant_view, tenants
from engine.validation import MAX_ID, NotFound

LOOK_UPS = {
    'tenant': lambda db, tenant_id: tenants.get_tenant(db, tenant_id),
    'provision': lambda db, tenant_id: runs.request_provision(db, tenant_id, actor='tests'),
    'plan': lambda db, tenant_id: runs.request_provision(db, tenant_id, actor='tests', plan=True),
    'deprovision plan': lambda db, tenant_id: deprovision.plan(db, tenant_id),
    'deprovision': lambda db, tenant_id: deprovision.request(db, tenant_id, actor='tests'),
    'tenant page header': lambda db, tenant_id: tenant_view.tenant_header(db, tenant_id),
    'tenant documents': lambda db, tenant_id: tenant_view.created_documents(db, tenant_id),
}


@pytest.mark.parametrize('tenant_id', [9999, 0, MAX_ID + 1, 2**64])
@pytest.mark.parametrize('look_up', sorted(LOOK_UPS))
def test_an_unknown_tenant_is_one_not_found_everywhere(db, look_up, tenant_id) -> None:
    with pytest.raises(NotFound) as missing:
        LOOK_UPS[look_up](db, tenant_id)

    assert str(missing.value) == f'There is no tenant with id {tenant_id}.'
