"""`python main.py rotate-secret-key`: every engine API secret re-encrypted under a new key, the key
file replaced, and the service still provisions afterwards."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from cryptography.fernet import Fernet
from hardening_helpers import environment, provision, run_command, start_service

from engine.key_rotation import pending_key, reencrypt_engine_secrets
from engine.process import Process
from engine.security import SecretBox, SecretKeyError
from engine.settings import load_settings
from sandbox import create_app


def first_start(env: dict[str, str]) -> None:
    """What the service does on its first start: key, first admin, the embedded sandbox engine."""
    settings = load_settings(database_url=env['PROVISIONER_DATABASE_URL'], data_dir=env['PROVISIONER_DATA_DIR'],
                             admin_password=env['PROVISIONER_ADMIN_PASSWORD'],
                             secret_key=env.get('PROVISIONER_SECRET_KEY'))
    process = Process.build(settings, sandbox_app=create_app(), sandbox_url='http://127.0.0.1:8080/sandbox')
    process.db.dispose()


def engine_secrets(database) -> dict[str, str]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute('SELECT name, api_secret_encrypted FROM engine ORDER BY id'))


def audit_actions(database) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute('SELECT action FROM auditevent ORDER BY id')]


def test_rotation_reencrypts_every_engine_secret_and_the_service_still_provisions(tmp_path):
    env = environment(tmp_path)
    service = start_service(env, tmp_path / 'first.log')
    try:
        api = service.client()
        answer = api.post('/api/v1/engines', json={'name': 'Second ERP', 'base_url': 'https://erp.example.com',
                                                   'api_key': 'second-key', 'api_secret': 'second-secret-value'})
        assert answer.status_code == 201, answer.text
    finally:
        service.stop()
    database, key_file = tmp_path / 'provisioner.db', tmp_path / 'data' / 'secret.key'
    old_key, before = key_file.read_bytes(), engine_secrets(database)

    result = run_command(env, 'rotate-secret-key')
    assert result.returncode == 0, result.stderr
    assert '2 engine(s)' in result.stdout

    new_key, after = key_file.read_bytes(), engine_secrets(database)
    assert new_key != old_key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not key_file.with_name('secret.key.new').exists()
    old_box, new_box = SecretBox(old_key), SecretBox(new_key)
    for name, ciphertext in after.items():
        assert ciphertext != before[name]
        assert new_box.decrypt(ciphertext) == old_box.decrypt(before[name])
        with pytest.raises(SecretKeyError):
            old_box.decrypt(ciphertext)
    assert new_box.decrypt(after['Second ERP']) == 'second-secret-value'
    assert audit_actions(database)[-1] == 'secret_key.rotated'

    service = start_service(env, tmp_path / 'second.log')
    try:
        run = provision(service.client(), 'Rotated Retail')  # the embedded sandbox engine's secret decrypts
        assert run['status'] == 'SUCCEEDED', run
    finally:
        service.stop()


def test_an_interrupted_rotation_finishes_on_the_next_attempt(tmp_path):
    env = environment(tmp_path)
    first_start(env)
    database, key_file = tmp_path / 'provisioner.db', tmp_path / 'data' / 'secret.key'
    old_box = SecretBox(key_file.read_bytes())
    plaintext = old_box.decrypt(engine_secrets(database)['Sandbox'])
    # As if the process died after the database commit, before the key file was renamed:
    reencrypt_engine_secrets(env['PROVISIONER_DATABASE_URL'], old_box, SecretBox(pending_key(key_file)))

    result = run_command(env, 'rotate-secret-key')
    assert result.returncode == 0, result.stderr
    assert SecretBox(key_file.read_bytes()).decrypt(engine_secrets(database)['Sandbox']) == plaintext


def test_with_the_key_in_the_environment_the_new_key_is_printed_once(tmp_path):
    old_key = Fernet.generate_key().decode()
    env = environment(tmp_path, PROVISIONER_SECRET_KEY=old_key)
    first_start(env)
    before = engine_secrets(tmp_path / 'provisioner.db')['Sandbox']

    result = run_command(env, 'rotate-secret-key')
    assert result.returncode == 0, result.stderr
    new_key = result.stdout.split('PROVISIONER_SECRET_KEY=')[1].strip()
    after = engine_secrets(tmp_path / 'provisioner.db')['Sandbox']
    assert SecretBox(new_key).decrypt(after) == SecretBox(old_key).decrypt(before)
    assert not (tmp_path / 'data' / 'secret.key').exists()  # nothing written next to the data


def test_a_wrong_key_changes_nothing(tmp_path):
    env = environment(tmp_path)
    first_start(env)
    before = engine_secrets(tmp_path / 'provisioner.db')
    result = run_command(dict(env, PROVISIONER_SECRET_KEY=Fernet.generate_key().decode()), 'rotate-secret-key')
    assert result.returncode == 1
    assert "engine 'Sandbox'" in result.stderr and 'nothing was changed' in result.stderr
    assert engine_secrets(tmp_path / 'provisioner.db') == before
