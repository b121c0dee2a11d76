"""The request budget of a run (issue 7): a fresh tenant sends at most the documents it writes plus
one look-up per DocType it touches; a re-run writes nothing and reads at most once per DocType.

The budget is derived from what the sandbox saw (its request log and its documents), never from
hard-coded counts, so a new step or a new document keeps the rule and not a number."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from engine.services import runs
from tests.engine.helpers import documents, fault, provision, resume, steps

WRITES = {'POST', 'PUT', 'DELETE'}
BATCH = 'frappe.client.insert_many'  # Modes of Payment: the missing ones and this company's rows, one request
# Doctypes the steps write (and so may look up), plus the one method call of check_engine.
TOUCHED = ('Company', 'Account', 'Cost Center', 'Warehouse', 'Mode of Payment', 'Price List', 'Customer',
           'POS Profile', 'User', 'User Permission')


async def request_log(sandbox) -> list[dict[str, Any]]:
    return (await sandbox.get('/__sandbox__/requests')).json()


async def versions(sandbox) -> dict[tuple[str, str], str]:
    """(doctype, name) → modified, for every document a run may write."""
    return {(doctype, doc['name']): doc['modified'] for doctype in TOUCHED
            for doc in await documents(sandbox, doctype)}


async def measured_run(db, runner, sandbox, tenant_id: int) -> tuple[dict, Counter, Counter, Counter]:
    """Provision once; returns the run, its reads and writes by target, and changed documents by doctype."""
    before_log, before_docs = len(await request_log(sandbox)), await versions(sandbox)
    detail = await provision(db, runner, tenant_id)
    sent = (await request_log(sandbox))[before_log:]
    after_docs = await versions(sandbox)
    reads = Counter(r['doctype'] for r in sent if r['method'] not in WRITES)
    writes = Counter(r['doctype'] for r in sent if r['method'] in WRITES)
    changed = Counter(doctype for key, modified in after_docs.items() if before_docs.get(key) != modified
                      for doctype in [key[0]])
    return detail, reads, writes, changed


@pytest.mark.parametrize('stores', [1, 3])
async def test_fresh_tenant_sends_its_writes_plus_one_look_up_per_doctype(db, runner, make_tenant, sandbox, stores):
    acme = make_tenant('Acme Retail', stores=stores)
    detail, reads, writes, changed = await measured_run(db, runner, sandbox, acme.id)

    assert detail['status'] == 'SUCCEEDED', detail
    assert all(count == 1 for count in reads.values()), reads  # batched: never one GET per document
    for doctype, count in writes.items():  # every write is a document that changed, none written twice
        if doctype != BATCH:  # one request for several documents: counted in the total below
            assert count <= changed[doctype], (doctype, count, changed)
    assert sum(writes.values()) <= sum(changed.values())
    assert sum(reads.values()) + sum(writes.values()) <= sum(writes.values()) + len(set(reads) | set(writes))
    assert writes['Warehouse'] == stores and writes['POS Profile'] == stores


async def test_rerun_writes_nothing_and_reads_each_doctype_at_most_once(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail', stores=2)
    await provision(db, runner, acme.id)

    detail, reads, writes, changed = await measured_run(db, runner, sandbox, acme.id)

    assert detail['status'] == 'SUCCEEDED', detail
    assert not writes and not changed
    assert all(count == 1 for count in reads.values()), reads
    assert set(reads) >= set(TOUCHED)  # every doctype is still looked at: the re-run checks, it does not assume


async def test_check_engine_asks_one_question(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    before = len(await request_log(sandbox))
    detail = await provision(db, runner, acme.id)
    check = [r for r in (await request_log(sandbox))[before:]
             if r['doctype'].startswith('frappe.') and r['doctype'] != BATCH]
    assert [r['doctype'] for r in check] == ['frappe.auth.get_logged_user']
    assert steps(detail)['check_engine']['status'] == 'SUCCEEDED'


async def test_resumed_run_reads_back_and_detects_a_document_deleted_meanwhile(db, runner, make_tenant, sandbox):
    """Verification reuses only what this execution saw: documents of earlier executions are read again."""
    acme = make_tenant('Acme Retail', admin_email='ada@acme.test')
    await fault(sandbox, method='POST', doctype='POS Profile', status=417, count=1)
    first = await provision(db, runner, acme.id)
    assert steps(first)['create_pos_profiles']['status'] == 'FAILED'
    # Someone deletes the tenant admin's user in ERPNext before the run is retried.
    for permission in await documents(sandbox, 'User Permission'):
        assert (await sandbox.delete(f"/api/resource/User Permission/{permission['name']}")).status_code == 202
    assert (await sandbox.delete('/api/resource/User/ada@acme.test')).status_code == 202

    runs.retry_run(db, first['id'], actor='tests')
    before = len(await request_log(sandbox))
    detail = await resume(db, runner, first['id'])
    sent = Counter(r['doctype'] for r in (await request_log(sandbox))[before:] if r['method'] == 'GET')

    verify = steps(detail)['verify_provisioning']
    assert detail['status'] == 'FAILED' and verify['status'] == 'FAILED'
    assert "User 'ada@acme.test' is missing" in verify['error']
    assert sent['User'] == 1 and sent['Company'] == 1  # read back: earlier executions created them
    assert sent['POS Profile'] == 1  # the step's own look-up; its writes are not read again


async def test_rerun_still_sees_a_disabled_warehouse_and_enables_it(db, runner, make_tenant, sandbox):
    acme = make_tenant('Acme Retail')
    await provision(db, runner, acme.id)
    assert (await sandbox.put('/api/resource/Warehouse/Store 1 - AR', json={'disabled': 1})).is_success

    detail = await provision(db, runner, acme.id)

    assert detail['status'] == 'SUCCEEDED', detail.get('error_message')
    warehouse = (await sandbox.get('/api/resource/Warehouse/Store 1 - AR')).json()['data']
    assert not warehouse['disabled']  # its own look-up saw it disabled: the one write of the re-run
