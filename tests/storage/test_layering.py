"""Dependencies point one way (dashboard → engine → storage): importing the storage layer, as every
Alembic migration does, loads nothing of the engine's and no HTTP client."""

from __future__ import annotations

import subprocess
import sys

PROBE = '''
import sys
import storage.tables, storage.name_keys, storage.db, storage.audit_log, storage.run_meta
leaked = sorted(name for name in sys.modules if name.split('.')[0] in ('engine', 'dashboard', 'httpx', 'aiohttp'))
print(','.join(leaked))
'''


def test_storage_imports_nothing_of_the_engine_nor_an_http_client():
    # a fresh interpreter: this test process has long since imported the engine
    done = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == '', done.stdout


CORE_PROBE = '''
import sys
import engine.dispatcher, engine.runner, engine.run_store
print(','.join(sorted(name for name in sys.modules if name.startswith('engine.services'))))
'''


def test_the_engine_core_does_not_import_the_services_above_it():
    """The dispatcher, runner and run store sit below the services the UI and API call (review item
    17: the dispatcher imported engine.services.runs for one constant, a cycle waiting to happen)."""
    done = subprocess.run([sys.executable, '-c', CORE_PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == '', done.stdout
