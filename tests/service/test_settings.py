"""Settings: DESIGN.md's defaults, and one clear line naming the variable for each bad value."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from engine import validation
from engine.security import SecretBox, SecretKeyError, ensure_secret_key
from engine.settings import SettingsError, load_settings


def test_defaults_are_those_of_the_design(clean_env) -> None:
    settings = load_settings()

    assert settings.database_url == 'sqlite:///./data/provisioner.db'
    assert (settings.host, settings.port) == ('127.0.0.1', 8080)
    assert settings.admin_password is None and settings.secret_key is None
    assert settings.sandbox is True
    assert settings.max_concurrent_runs == 8
    assert (settings.stuck_after_minutes, settings.auto_retry_limit) == (30, 3)
    assert settings.alert_webhook_url is None
    assert settings.log_format == 'json'
    assert str(settings.data_dir) == 'data'


def test_the_default_database_follows_the_data_directory(clean_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'state'))

    settings = load_settings()

    assert settings.database_url == f'sqlite:///{tmp_path}/state/provisioner.db'
    assert load_settings(data_dir='var/provisioner').database_url == 'sqlite:///./var/provisioner/provisioner.db'


def test_a_configured_database_url_wins_over_the_data_directory(clean_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv('PROVISIONER_DATA_DIR', str(tmp_path / 'state'))
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', f'sqlite:///{tmp_path}/elsewhere.db')

    assert load_settings().database_url == f'sqlite:///{tmp_path}/elsewhere.db'


def test_environment_values_are_read_and_normalised(clean_env, monkeypatch) -> None:
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', 'postgresql://provisioner@db:5432/provisioner')
    monkeypatch.setenv('PROVISIONER_PORT', '9000')
    monkeypatch.setenv('PROVISIONER_SANDBOX', 'off')
    monkeypatch.setenv('PROVISIONER_LOG_FORMAT', 'Console')
    monkeypatch.setenv('PROVISIONER_AUTO_RETRY_LIMIT', '0')

    settings = load_settings()

    assert settings.database_url == 'postgresql+psycopg://provisioner@db:5432/provisioner'
    assert settings.port == 9000 and settings.sandbox is False
    assert settings.log_format == 'console' and settings.auto_retry_limit == 0


@pytest.mark.parametrize(('variable', 'value', 'message'), [
    ('PROVISIONER_PORT', 'abc', "PROVISIONER_PORT: must be between 1 and 65535 (got 'abc')"),
    ('PROVISIONER_PORT', '70000', "PROVISIONER_PORT: must be between 1 and 65535 (got '70000')"),
    ('PROVISIONER_HOST', 'two words', 'PROVISIONER_HOST: must be a host name or IP address'),
    ('PROVISIONER_DATABASE_URL', 'mysql://root@db/x',
     'PROVISIONER_DATABASE_URL: must start with sqlite:/// or postgresql+psycopg://'),
    ('PROVISIONER_MAX_CONCURRENT_RUNS', '0',
     'PROVISIONER_MAX_CONCURRENT_RUNS: must be a whole number of at least 1'),
    ('PROVISIONER_STUCK_AFTER_MINUTES', '-5',
     'PROVISIONER_STUCK_AFTER_MINUTES: must be a whole number of at least 1'),
    ('PROVISIONER_AUTO_RETRY_LIMIT', 'many',
     'PROVISIONER_AUTO_RETRY_LIMIT: must be a whole number of at least 0'),
    ('PROVISIONER_SANDBOX', 'maybe', "PROVISIONER_SANDBOX: must be 'on' or 'off' (got 'maybe')"),
    ('PROVISIONER_LOG_FORMAT', 'xml', "PROVISIONER_LOG_FORMAT: must be 'json' or 'console' (got 'xml')"),
    ('PROVISIONER_ALERT_WEBHOOK_URL', 'ftp://hooks',
     'PROVISIONER_ALERT_WEBHOOK_URL: must be an http:// or https:// URL'),
    ('PROVISIONER_ADMIN_PASSWORD', 'short',
     'PROVISIONER_ADMIN_PASSWORD: must be at least 10 characters long'),
    ('PROVISIONER_SECRET_KEY', 'not-a-key', 'PROVISIONER_SECRET_KEY: must be a Fernet key'),
    # typos that used to start a process which then failed at run time
    ('PROVISIONER_STUCK_AFTER_MINUTES', '99999999999999',
     'PROVISIONER_STUCK_AFTER_MINUTES: must be a whole number of at least 1 (and at most 10080, a week)'),
    ('PROVISIONER_MAX_CONCURRENT_RUNS', '99999999999999999999999',
     'PROVISIONER_MAX_CONCURRENT_RUNS: must be a whole number of at least 1 (and at most 1000)'),
    ('PROVISIONER_AUTO_RETRY_LIMIT', '1000000',
     'PROVISIONER_AUTO_RETRY_LIMIT: must be a whole number of at least 0'),
    ('PROVISIONER_DATABASE_URL', 'sqlite:///', 'PROVISIONER_DATABASE_URL: needs a database file'),
    ('PROVISIONER_DATABASE_URL', 'sqlite:///:memory:', 'PROVISIONER_DATABASE_URL: needs a database file'),
    ('PROVISIONER_ADMIN_PASSWORD', 'tab\tin-the-middle',
     'PROVISIONER_ADMIN_PASSWORD: must contain only printable'),
    ('PROVISIONER_ADMIN_PASSWORD', 'x' * 1025,
     'PROVISIONER_ADMIN_PASSWORD: must be at least 10 characters long'),
])
def test_a_bad_value_gives_one_line_naming_the_variable(clean_env, monkeypatch, variable, value,
                                                        message) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value).startswith(message)
    assert '\n' not in str(caught.value)


def test_the_admin_password_follows_the_apis_rule(clean_env, monkeypatch) -> None:
    """Eight characters between spaces: the API refuses it, so the sign-in form could never take it."""
    padded = '  abcdefgh '
    with pytest.raises(ValueError) as refused_by_api:
        validation.password(padded)
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', padded)

    with pytest.raises(SettingsError) as refused_at_start:
        load_settings()

    assert str(refused_at_start.value) == f'PROVISIONER_ADMIN_PASSWORD: {refused_by_api.value}'
    assert padded not in str(refused_at_start.value)


def test_the_largest_accepted_values_are_accepted(clean_env, monkeypatch) -> None:
    monkeypatch.setenv('PROVISIONER_STUCK_AFTER_MINUTES', '10080')
    monkeypatch.setenv('PROVISIONER_MAX_CONCURRENT_RUNS', '1000')
    monkeypatch.setenv('PROVISIONER_AUTO_RETRY_LIMIT', '100')
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', 'p' * 1024)

    settings = load_settings()

    assert settings.stuck_after_minutes == 10080 and settings.max_concurrent_runs == 1000
    assert settings.auto_retry_limit == 100


def test_secrets_are_never_echoed_in_errors(clean_env, monkeypatch) -> None:
    monkeypatch.setenv('PROVISIONER_ADMIN_PASSWORD', 'hunter2')
    monkeypatch.setenv('PROVISIONER_DATABASE_URL', 'mysql://root:topsecret@db/x')

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert 'hunter2' not in str(caught.value) and 'topsecret' not in str(caught.value)


def test_first_start_generates_a_private_secret_key_file_and_reuses_it(tmp_path, clean_env) -> None:
    settings = load_settings(data_dir=tmp_path / 'data')

    key = ensure_secret_key(settings)

    key_file = tmp_path / 'data' / 'secret.key'
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert ensure_secret_key(settings) == key
    assert SecretBox(key).decrypt(SecretBox(key).encrypt('s3cret')) == 's3cret'


def test_a_configured_secret_key_wins_and_writes_no_file(tmp_path, clean_env, monkeypatch) -> None:
    configured = Fernet.generate_key().decode()
    monkeypatch.setenv('PROVISIONER_SECRET_KEY', configured)

    key = ensure_secret_key(load_settings(data_dir=tmp_path / 'data'))

    assert key == configured.encode()
    assert not (tmp_path / 'data' / 'secret.key').exists()


def test_a_wrong_key_is_reported_clearly_and_rotation_re_encrypts() -> None:
    old, new = SecretBox(Fernet.generate_key()), SecretBox(Fernet.generate_key())
    stored = old.encrypt('api-secret')

    with pytest.raises(SecretKeyError, match='not the key it was encrypted with'):
        new.decrypt(stored)
    assert new.decrypt(SecretBox.rotate(old, new, stored)) == 'api-secret'
