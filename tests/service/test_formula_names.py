"""QA finding 26: a tenant name is sent to ERPNext as a Company name and shows up in every export,
so a name a spreadsheet would run as a formula is refused when the tenant is created."""

from __future__ import annotations

import pytest
from api_helpers import tenant_body


@pytest.mark.parametrize('name', ['=HYPERLINK("http://evil.example","x")', '+Shop', '-Shop', '@Shop', '  =Shop'])
async def test_the_api_refuses_a_formula_like_name_with_a_clear_422(api, admin, sandbox_engine, name) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(name, engine='Sandbox'))

    assert answer.status_code == 422, answer.text
    assert 'formula' in str(answer.json()['detail'])
    assert (await api.get('/api/v1/tenants', headers=admin)).json()['total'] == 0


@pytest.mark.parametrize('name', ['Shop = Good', 'A+B Retail', 'Rock-n-Roll', 'ops@home Shop', '7-Eleven'])
async def test_those_signs_inside_a_name_are_fine(api, admin, sandbox_engine, name) -> None:
    answer = await api.post('/api/v1/tenants', headers=admin, json=tenant_body(name, engine='Sandbox'))

    assert answer.status_code == 201, answer.text
