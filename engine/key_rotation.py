"""`python main.py rotate-secret-key`: re-encrypt every engine API secret under a new key.

With the key in `<data_dir>/secret.key` (the default) the command does it all, crash-safely:

1. the new key is written to `secret.key.new` (0600), or taken from there when an earlier
   rotation was interrupted;
2. one database transaction re-encrypts every engine's secret (Fernet's MultiFernet.rotate
   accepts a secret under the old or already under the new key, so a rerun is harmless) and
   audits the rotation;
3. `secret.key.new` is renamed over `secret.key`.

With PROVISIONER_SECRET_KEY set, the process cannot rewrite the environment: the command
re-encrypts under a freshly generated key and prints it once; set it as PROVISIONER_SECRET_KEY
on every process before starting them again.

Stop the service (every process) first: a running process keeps the key it started with. The
dashboard's session cookies are signed with a value derived from the key, so everyone signs in
again afterwards. Backups taken before the rotation need the old key.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlmodel import select

from engine.security import SECRET_KEY_FILE, SecretBox, SecretKeyError, ensure_secret_key
from engine.settings import Settings
from storage import audit_log
from storage.db import Database, is_postgres
from storage.tables import Engine

PENDING_SUFFIX = '.new'
ACTOR = 'cli'


class KeyRotationError(RuntimeError):
    """The rotation could not be done; nothing was changed in the database. str() is one line."""


@dataclass(frozen=True)
class RotationResult:
    engines: int
    key_file: Path | None
    new_key: str | None = None  # only when the key lives in PROVISIONER_SECRET_KEY

    def describe(self) -> str:
        done = f're-encrypted the API secrets of {self.engines} engine(s) under a new key'
        if self.key_file is not None:
            return f'{done}; the new key is in {self.key_file}. Start the service again.'
        return (f'{done}.\nSet this on every process, then start them again (it is shown only now):\n'
                f'PROVISIONER_SECRET_KEY={self.new_key}')


def rotate_secret_key(settings: Settings) -> RotationResult:
    """Re-encrypt every engine secret under a new key and make that key the process key."""
    try:
        old = SecretBox(ensure_secret_key(settings))
    except (SecretKeyError, OSError) as exc:
        raise KeyRotationError(str(exc)) from None
    key_file = None if settings.secret_key is not None else Path(settings.data_dir) / SECRET_KEY_FILE
    new_key = pending_key(key_file) if key_file is not None else Fernet.generate_key()
    engines = reencrypt_engine_secrets(settings.database_url, old, SecretBox(new_key))
    if key_file is not None:
        os.replace(_pending_path(key_file), key_file)
        return RotationResult(engines=engines, key_file=key_file)
    return RotationResult(engines=engines, key_file=None, new_key=new_key.decode('ascii'))


def reencrypt_engine_secrets(database_url: str, old: SecretBox, new: SecretBox) -> int:
    """One transaction: every engine's secret re-encrypted under `new`; the rotation audited."""
    db = Database.from_url(database_url)
    try:
        with db.session() as session:
            query = select(Engine).order_by(Engine.id)
            if is_postgres(db.engine):
                query = query.with_for_update()
            engines = session.exec(query).all()
            for engine in engines:
                try:
                    engine.api_secret_encrypted = SecretBox.rotate(old, new, engine.api_secret_encrypted)
                except SecretKeyError:
                    raise KeyRotationError(
                        f"engine '{engine.name}': its API secret matches neither the current nor the new key; "
                        'nothing was changed (is PROVISIONER_SECRET_KEY or secret.key the key in use?)') from None
                session.add(engine)
            audit_log.record(session, actor=ACTOR, action='secret_key.rotated', details={'engines': len(engines)})
            return len(engines)
    finally:
        db.dispose()


def pending_key(key_file: Path) -> bytes:
    """The key an interrupted rotation left in `secret.key.new`, else a new one written there (0600)."""
    pending = _pending_path(key_file)
    if pending.exists():
        key = pending.read_bytes().strip()
        with contextlib.suppress(ValueError, TypeError):
            Fernet(key)
            return key
        pending.unlink()  # unreadable leftovers: no secret was ever encrypted under it
    key = Fernet.generate_key()
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _pending_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + PENDING_SUFFIX)


def undecryptable_engines(settings: Settings) -> list[str]:
    """Names of the engines whose API secret the current key cannot decrypt (e.g. after a restore)."""
    box = SecretBox(ensure_secret_key(settings))
    db = Database.from_url(settings.database_url)
    try:
        with db.session() as session:
            engines = session.exec(select(Engine).order_by(Engine.id)).all()
    finally:
        db.dispose()
    unreadable = []
    for engine in engines:
        try:
            box.decrypt(engine.api_secret_encrypted)
        except SecretKeyError:
            unreadable.append(engine.name)
    return unreadable
