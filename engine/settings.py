"""Process settings from `PROVISIONER_*` environment variables (DESIGN.md, "Settings").

`load_settings()` is what main.py calls: a bad value stops start-up with one line naming the
variable (`PROVISIONER_PORT: must be between 1 and 65535 (got 'abc')`), never a traceback.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine import validation

ENV_PREFIX = 'PROVISIONER_'
DATABASE_SCHEMES = ('sqlite', 'postgresql+psycopg')
# Values that may hold credentials (a password in the URL, a webhook token) are never echoed.
UNECHOED_FIELDS = frozenset({'admin_password', 'secret_key', 'database_url', 'alert_webhook_url'})
# Upper bounds keep a typo (an extra zero or ten) from starting a process that then fails at run time.
MAX_CONCURRENT_RUNS = 1000
MAX_STUCK_AFTER_MINUTES = 7 * 24 * 60  # a week
MAX_AUTO_RETRY_LIMIT = 100
DATABASE_FILE = 'provisioner.db'  # the default database, in the data directory


class SettingsError(ValueError):
    """A setting is missing or invalid; str() is one line naming the variable."""


class Settings(BaseSettings):
    """Every knob of the process, with DESIGN.md's defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra='ignore',
                                      hide_input_in_errors=True)

    database_url: str = 'sqlite:///./data/provisioner.db'  # unset: follows data_dir (see _database_in_data_dir)
    host: str = '127.0.0.1'
    port: int = 8080
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: '' (none: the
    # socket's address is the client's), '*', or IP addresses and networks, comma-separated.
    forwarded_allow_ips: str = ''
    admin_password: SecretStr | None = None
    secret_key: SecretStr | None = None
    sandbox: bool = True
    sandbox_public: bool = False  # on: serve the embedded sandbox on a host beyond loopback (no sign-in guards it)
    secure_cookies: bool = False  # on behind HTTPS: the session cookie gets the Secure flag
    max_concurrent_runs: int = 8
    stuck_after_minutes: int = 30
    auto_retry_limit: int = 3
    alert_webhook_url: str | None = None
    log_format: Literal['json', 'console'] = 'json'
    data_dir: Path = Path('./data')

    @field_validator('database_url', mode='before')
    @classmethod
    def _database_url(cls, value: Any) -> str:
        return normalise_database_url(str(value).strip())

    @model_validator(mode='after')
    def _database_in_data_dir(self) -> Settings:
        """Unless PROVISIONER_DATABASE_URL is set, the database lives beside the key and the sandbox state."""
        if 'database_url' not in self.model_fields_set:
            self.database_url = sqlite_url_in(self.data_dir)
        return self

    @field_validator('host', mode='before')
    @classmethod
    def _host(cls, value: Any) -> str:
        text = str(value).strip()
        if not text or any(c.isspace() for c in text):
            raise ValueError('must be a host name or IP address')
        return text

    @field_validator('forwarded_allow_ips', mode='before')
    @classmethod
    def _forwarded_allow_ips(cls, value: Any) -> str:
        return ','.join(parse_trusted_proxies(str(value)))

    @property
    def trusted_proxies(self) -> list[str]:
        """PROVISIONER_FORWARDED_ALLOW_IPS as a list (empty: no proxy is trusted)."""
        return self.forwarded_allow_ips.split(',') if self.forwarded_allow_ips else []

    @field_validator('port', mode='before')
    @classmethod
    def _port(cls, value: Any) -> int:
        return _whole_number(value, 1, 65535, 'must be between 1 and 65535')

    @field_validator('max_concurrent_runs', mode='before')
    @classmethod
    def _max_concurrent_runs(cls, value: Any) -> int:
        return _whole_number(value, 1, MAX_CONCURRENT_RUNS,
                             f'must be a whole number of at least 1 (and at most {MAX_CONCURRENT_RUNS})')

    @field_validator('stuck_after_minutes', mode='before')
    @classmethod
    def _stuck_after_minutes(cls, value: Any) -> int:
        return _whole_number(value, 1, MAX_STUCK_AFTER_MINUTES,
                             'must be a whole number of at least 1 '
                             f'(and at most {MAX_STUCK_AFTER_MINUTES}, a week)')

    @field_validator('auto_retry_limit', mode='before')
    @classmethod
    def _auto_retry_limit(cls, value: Any) -> int:
        return _whole_number(value, 0, MAX_AUTO_RETRY_LIMIT,
                             f'must be a whole number of at least 0 (0 disables auto-retry) '
                             f'and at most {MAX_AUTO_RETRY_LIMIT}')

    @field_validator('sandbox', 'sandbox_public', 'secure_cookies', mode='before')
    @classmethod
    def _on_off(cls, value: Any) -> bool:
        return _switch(value)

    @field_validator('log_format', mode='before')
    @classmethod
    def _log_format(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in ('json', 'console'):
            raise ValueError("must be 'json' or 'console'")
        return text

    @field_validator('alert_webhook_url', mode='before')
    @classmethod
    def _webhook(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise ValueError('must be an http:// or https:// URL')
        return text

    @field_validator('admin_password', mode='before')
    @classmethod
    def _admin_password(cls, value: Any) -> Any:
        """The API's password rule (engine/validation.py): the admin must be able to type it into
        the sign-in form, and a password the API would refuse is refused here too."""
        if value is None:
            return value
        text = str(value)
        if len(text) > validation.MAX_PASSWORD_LENGTH:
            raise ValueError(f'must be at least {validation.MIN_PASSWORD_LENGTH} characters long '
                             f'(and at most {validation.MAX_PASSWORD_LENGTH})')
        validation.password(text)
        return value

    @field_validator('secret_key', mode='before')
    @classmethod
    def _secret_key(cls, value: Any) -> Any:
        if value is not None:
            check_fernet_key(str(value).strip())
            return str(value).strip()
        return value


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and `overrides`), or a one-line SettingsError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError('; '.join(_describe(error) for error in exc.errors())) from None


def parse_trusted_proxies(text: str) -> list[str]:
    """The proxy addresses of a PROVISIONER_FORWARDED_ALLOW_IPS value: IP addresses and networks
    (10.0.0.2, 172.18.0.0/16, ::1), or ['*'] for every address. uvicorn would take a mistyped entry
    as a name that never matches, so each is checked here."""
    items = [item.strip() for item in text.split(',') if item.strip()]
    if items == ['*']:
        return items
    for item in items:
        if item == '*':
            raise ValueError("'*' trusts every address and stands alone: give '*' or a list of addresses")
        try:
            ipaddress.ip_network(item) if '/' in item else ipaddress.ip_address(item)
        except ValueError as exc:
            raise ValueError(f"'{item}' is not an IP address or network ({exc}): give the reverse proxy's "
                             "addresses, comma-separated (e.g. 10.0.0.2,172.18.0.0/16), or '*'") from None
    return items


def normalise_database_url(url: str) -> str:
    """Accept sqlite and PostgreSQL URLs; a bare postgresql:// gets the psycopg 3 driver."""
    scheme, sep, rest = url.partition('://')
    if scheme in ('postgresql', 'postgres'):
        scheme = 'postgresql+psycopg'
    if not sep or scheme not in DATABASE_SCHEMES or not rest:
        raise ValueError('must start with sqlite:/// or postgresql+psycopg://')
    if scheme == 'sqlite' and rest.lstrip('/').split('?')[0] in ('', ':memory:'):
        # an in-memory database is a new, empty one per connection: nothing would be kept
        raise ValueError('needs a database file, e.g. sqlite:///./data/provisioner.db')
    return f'{scheme}://{rest}'


def sqlite_url_in(data_dir: Path) -> str:
    """`sqlite:///<data_dir>/provisioner.db`; a relative directory stays relative to the working directory."""
    path = (Path(data_dir) / DATABASE_FILE).as_posix()
    return f'sqlite:///{path if path.startswith(("/", ".")) else "./" + path}'


def check_fernet_key(key: str) -> None:
    """Raise ValueError unless `key` is a Fernet key (32 url-safe base64-encoded bytes)."""
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise ValueError('must be a Fernet key: 32 url-safe base64-encoded bytes, e.g. from '
                         "python -c 'from cryptography.fernet import Fernet; "
                         "print(Fernet.generate_key().decode())'") from None


def _whole_number(value: Any, low: int, high: int | None, message: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(message) from None
    if number < low or (high is not None and number > high):
        raise ValueError(message)
    return number


def _switch(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ('on', 'true', '1', 'yes'):
        return True
    if text in ('off', 'false', '0', 'no'):
        return False
    raise ValueError("must be 'on' or 'off'")


def _describe(error: dict[str, Any]) -> str:
    field = str(error['loc'][0]) if error.get('loc') else '?'
    message = str(error['ctx']['error']) if error.get('type') == 'value_error' else error['msg']
    text = f'{ENV_PREFIX}{field.upper()}: {message}'
    if field not in UNECHOED_FIELDS and 'input' in error:
        text += f' (got {str(error["input"])[:80]!r})'
    return text
