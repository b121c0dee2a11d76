"""Dependencies point one way (dashboard → engine → storage): importing the storage layer, as every
Alembic migration does, loads nothing of the engine's and no HTTP client."""

from __future__ import annotations

import subprocess
import sys

PROBE = '''
import sys
import storage.tables, storage.name_keys, storage.db
leaked = sorted(name for name in sys.modules if name.split('.')[0] in ('engine', 'dashboard', 'httpx', 'aiohttp'))
print(','.join(leaked))
'''


def test_storage_imports_nothing_of_the_engine_nor_an_http_client():
    # a fresh interpreter: this test process has long since imported the engine
    done = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == '', done.stdout
