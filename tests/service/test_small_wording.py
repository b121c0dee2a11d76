"""QA pass 8, finding 8: a 429 that asks to wait one second says "1 second", not "1 seconds"."""

from __future__ import annotations

from api_helpers import make_user

from engine.rate_limits import ProvisionLimiter
from engine.services.users import AccountLocked


async def test_a_429_asking_for_one_second_says_one_second(app, api, admin, make_tenant) -> None:
    app.state.provision_limiter = ProvisionLimiter(per_user='1/second')
    support = await make_user(api, admin, 'sam', 'support')
    tenant = make_tenant('Acme Retail')
    assert (await api.post(f'/api/v1/tenants/{tenant.id}/provision', headers=support)).status_code == 202

    refused = await api.post(f'/api/v1/tenants/{tenant.id}/provision', headers=support)

    assert (refused.status_code, refused.headers['Retry-After']) == (429, '1')
    assert refused.json()['detail'] == 'too many provision requests: try again in 1 second'


def test_a_lock_of_one_second_says_one_second() -> None:
    assert AccountLocked(1).message == 'too many failed logins: try again in 1 second'
    assert AccountLocked(30).message == 'too many failed logins: try again in 30 seconds'
