"""Passwords, API tokens and encryption of engine secrets at rest.

- Passwords: argon2id (argon2-cffi defaults); verification never raises.
- API tokens: random, shown once, stored only as their sha256 hex digest.
- Engine API secrets: Fernet (AES-128-CBC + HMAC) under the process secret key, which comes from
  PROVISIONER_SECRET_KEY or `<data_dir>/secret.key` (generated on first start, mode 0600).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets as _random
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from engine.settings import Settings

SECRET_KEY_FILE = 'secret.key'
_hasher = PasswordHasher()
# Each argon2 operation takes 64 MiB for ~50 ms: bound how many run at once, so a burst of
# logins queues up instead of exhausting memory.
_argon2_slots = threading.BoundedSemaphore(4)


class SecretKeyError(RuntimeError):
    """A stored secret cannot be decrypted with the configured key (or the key file is unusable)."""


def hash_password(password: str) -> str:
    with _argon2_slots:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a mismatch, a malformed hash or unencodable input."""
    try:
        with _argon2_slots:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, UnicodeError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash after login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def spend_dummy_verify(password: str) -> None:
    """Cost as much as a real verify, so an unknown username is not revealed by timing."""
    verify_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    return hash_password(_random.token_urlsafe(16))


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the digest to store: (token, sha256 hex)."""
    token = _random.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode('utf-8', 'surrogatepass')).hexdigest()


def generate_password() -> str:
    """A random first-start admin password (16 url-safe characters)."""
    return _random.token_urlsafe(12)


class SecretBox:
    """Encrypts and decrypts small secrets (engine API secrets) with the process key."""

    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode('ascii')

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode('ascii')).decode()
        except (InvalidToken, UnicodeError):
            raise SecretKeyError('a stored secret cannot be decrypted: PROVISIONER_SECRET_KEY (or secret.key in '
                                 'PROVISIONER_DATA_DIR) is not the key it was encrypted with') from None

    @staticmethod
    def rotate(old: SecretBox, new: SecretBox, ciphertext: str) -> str:
        """Re-encrypt `ciphertext` (made under `old` or already under `new`) under `new`."""
        try:
            return MultiFernet([new._fernet, old._fernet]).rotate(ciphertext.encode('ascii')).decode('ascii')
        except InvalidToken:
            raise SecretKeyError('a stored secret matches neither the old nor the new key') from None


def ensure_secret_key(settings: Settings) -> bytes:
    """The process key: PROVISIONER_SECRET_KEY, else `<data_dir>/secret.key` (created 0600)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode('ascii')
    path = Path(settings.data_dir) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    # Written to a private temporary file, then hard-linked into place: the link fails if a
    # sibling process won the race, so nobody ever reads a half-written or replaced key.
    temporary = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(Fernet.generate_key())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_key_file(path: Path) -> bytes:
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyError(f'{path} does not hold a valid key: restore it from a backup '
                             '(deleting it makes stored engine secrets unreadable)') from None
    return key
