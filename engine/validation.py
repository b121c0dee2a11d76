"""Input models shared by the REST API and the UI, their validators, and the service errors.

Service errors (the API maps each to a status; the UI shows `.message` as is):

    ServiceError
    ├── NotFound          an id or name that does not exist            → 404
    ├── Conflict          a duplicate, or a state that forbids the act → 409
    ├── InvalidInput      a value that passed the model but not a rule → 422
    └── PermissionDenied  the actor's role may not do this              → 403
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlsplit

import idna
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails

from engine import refused_addresses
from storage.name_keys import single_spaces
from storage.tables import Role

T = TypeVar('T')
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_ID = 2**63 - 1  # larger ids overflow SQLite/PostgreSQL integers: reject them as input instead
DEFAULT_REQUESTS_PER_SECOND = 50  # an engine's outbound request budget (the column's default too)
MAX_REQUESTS_PER_SECOND = 10_000
USERNAME_PATTERN = re.compile(r'[A-Za-z0-9_.@-]{3,64}')
# ISO 4217 codes that are no money: precious metals, bond-market and accounting units, the testing
# code and "no currency" (XAF, XCD, XCG, XOF and XPF are real currencies and stay allowed).
NOT_MONEY = frozenset({'XAG', 'XAU', 'XPD', 'XPT', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XSU', 'XUA', 'XAD',
                       'XTS', 'XXX'})

# ERPNext's Country names (frappe/geo/country_info.json) where they differ from ISO 3166's; the
# Company insert links to these names, so tenants store ERPNext's spelling.
ERPNEXT_COUNTRY_NAMES = {
    'CI': 'Ivory Coast', 'CV': 'Cape Verde', 'CZ': 'Czech Republic', 'IR': 'Iran',
    'KP': 'Korea, Democratic Peoples Republic of', 'LA': 'Lao Peoples Democratic Republic',
    'MK': 'Macedonia', 'PS': 'Palestinian Territory, Occupied', 'SY': 'Syria', 'SZ': 'Swaziland',
    'TR': 'Turkey', 'TW': 'Taiwan', 'TZ': 'Tanzania', 'VN': 'Vietnam',
}
_ERPNEXT_CODES_BY_NAME = {name.lower(): code for code, name in ERPNEXT_COUNTRY_NAMES.items()}


class ServiceError(Exception):
    """An operation was refused for a reason the caller can show to a person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The id or name refers to nothing."""


class Conflict(ServiceError):
    """A duplicate, or the current state forbids the operation."""


class PermissionDenied(ServiceError):
    """The actor's role does not allow the operation."""


class InvalidInput(ServiceError):
    """A value is well-formed but breaks a rule only the service can check (e.g. unknown engine)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f'{field}: {message}')
        self.field = field


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list plus the total number of matches."""

    items: list[T]
    total: int


# ---- field validators -------------------------------------------------------------------------

def printable(value: str) -> str:
    """Refuse tabs, line breaks, control and other invisible characters."""
    if not value.isprintable():
        raise ValueError('must contain only printable characters '
                         '(no tabs, line breaks or control characters)')
    return value


def document_name(value: str) -> str:
    """ERPNext rejects '<' and '>' in document names (a Company is named after the tenant); a name
    starting like a spreadsheet formula would run as one in every export of ERPNext or of ours."""
    if '<' in value or '>' in value:
        raise ValueError("must not contain '<' or '>' (ERPNext refuses them in names)")
    if value[:1] in FORMULA_STARTS:
        raise ValueError(f"must not start with '{value[0]}': spreadsheets read a name starting with "
                         "=, +, - or @ as a formula (start it with a letter or a digit)")
    return value


FORMULA_STARTS = frozenset('=+-@')


def country_name(value: str) -> str:
    """A known country in any common spelling or code, returned in ERPNext's spelling."""
    text = value.strip()
    code = _ERPNEXT_CODES_BY_NAME.get(text.lower())
    if code is None:
        try:
            code = pycountry.countries.lookup(text).alpha_2
        except LookupError:
            raise ValueError(f"unknown country '{text}' "
                             "(use a name such as 'United States' or a code such as 'US')") from None
    return ERPNEXT_COUNTRY_NAMES.get(code) or pycountry.countries.get(alpha_2=code).name


def currency_code(value: str) -> str:
    """An ISO 4217 currency code a company can keep its books in, upper-cased."""
    code = value.strip().upper()
    if not re.fullmatch('[A-Z]{3}', code) or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"unknown currency '{value.strip()}' (use an ISO 4217 code such as 'USD')")
    if code in NOT_MONEY:
        raise ValueError(f"'{code}' is not a currency a company keeps its books in "
                         "(use an ISO 4217 code such as 'USD')")
    return code


def email_address(value: str) -> str:
    """A syntactically valid address (no DNS lookups) that ERPNext accepts for a User, lower-cased as
    ERPNext names its Users. One rule for the New tenant form, the REST API, the CSV import and Edit."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f'not a valid email address: {exc}') from None
    # A domain typed in its ASCII form ('xn--bcher-kva.de') stays so: email_validator gives it back in
    # Unicode ('bücher.de'), which ERPNext refuses.
    typed_ascii = value.strip().rpartition('@')[2].isascii()
    address = f'{checked.local_part}@{checked.ascii_domain if typed_ascii else checked.domain}'.lower()
    refusal = erpnext_email_refusal(address, ascii_domain=checked.ascii_domain)
    if refusal is not None:
        raise ValueError(refusal)
    return address


# frappe.utils.validate_email_address (EMAIL_MATCH_PATTERN, case-insensitive): ERPNext runs it on a
# User's e-mail (and on every Email field), so the admin's invite fails with "<address> is not a valid
# Email Address" for anything else. Frappe only anchors it at the start (`re.match`); the sandbox, and
# this rule, take the whole address, which refuses nothing a person would type (ASCII only, both sides).
ERPNEXT_EMAIL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                           r'@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?', re.IGNORECASE)
MAX_EMAIL_LENGTH = 140  # ERPNext keeps a User's e-mail, and its name (the address), in 140 characters
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")
_DOMAIN = re.compile(r'[A-Za-z0-9.-]')


def erpnext_email_refusal(address: str, *, ascii_domain: str | None = None) -> str | None:
    """Why ERPNext would refuse `address` as a User's e-mail, naming what to change; None if it accepts
    it. `ascii_domain`: the domain's ASCII (IDNA) form, offered when the domain is not ASCII."""
    if ERPNEXT_EMAIL.fullmatch(address):
        return None
    local, _, domain = address.rpartition('@')
    problems = []
    if odd := _odd_characters(local, _LOCAL_PART):
        problems.append(f"only ASCII letters, digits and . ! # $ % & ' * + / = ? ^ _ ` {{ | }} ~ - before the @ "
                        f'(not {odd})')
    if _odd_characters(domain, _DOMAIN):
        ascii_form = f" (write '{domain}' as '{ascii_domain}')" if ascii_domain and ascii_domain != domain else ''
        problems.append(f'only ASCII letters, digits, hyphens and dots after the @{ascii_form}')
    use = ', and '.join(problems) or 'an address of the form name@example.com'
    return (f"ERPNext would refuse it ('{address} is not a valid Email Address') and the admin's invite would "
            f'fail: use {use}')


def _odd_characters(text: str, allowed: re.Pattern[str]) -> str:
    """The characters of `text` that `allowed` does not match, quoted, in order of appearance."""
    odd = dict.fromkeys(char for char in text if not allowed.fullmatch(char))
    return ' or '.join(f"'{char}'" for char in odd)


def username(value: str) -> str:
    """3–64 characters of ASCII letters, digits and `_ . @ -`; usernames are case-insensitive."""
    if not USERNAME_PATTERN.fullmatch(value):
        raise ValueError('must be 3 to 64 characters: ASCII letters (a to z, no accents), digits, _ . @ or -')
    return value.lower()


def password(value: str) -> str:
    """At least MIN_PASSWORD_LENGTH characters besides leading and trailing spaces; kept as typed."""
    if not value.strip():
        raise ValueError('must not be blank (spaces alone are no password)')
    if len(value.strip()) < MIN_PASSWORD_LENGTH:
        raise ValueError(f'must be at least {MIN_PASSWORD_LENGTH} characters long, '
                         'not counting spaces at the start or end')
    if not value.isprintable():
        raise ValueError('must contain only printable characters')
    return value


def engine_ref(value: Any) -> int | str:
    """An engine id (a JSON number) or an engine name (a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_ID:
            raise ValueError('must be a valid engine id or name')
        return value
    if isinstance(value, str) and 0 < len(value.strip()) <= 140:
        return printable(value.strip())
    raise ValueError('must be an engine id (number) or engine name (text)')


def http_url(value: str) -> str:
    """An http(s) URL with a valid host, without the trailing slash, and without credentials (the URL
    is shown to every role; the key and secret have fields of their own)."""
    text = value.strip().rstrip('/')
    if not text.isprintable():
        raise ValueError('must not contain tabs, line breaks or other control characters')
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:  # an unreadable [IPv6] literal, or a port that is no number of 0-65535
        raise ValueError(f'is not a valid URL ({exc}): use an http:// or https:// URL such as '
                         'https://erp.example.com') from None
    if parts.scheme not in ('http', 'https') or not parts.hostname or parts.query or parts.fragment:
        raise ValueError('must be an http:// or https:// URL such as https://erp.example.com')
    if '@' in parts.netloc:
        raise ValueError('must not contain a user name or password: '
                         'put the API key and secret in their own fields')
    if port == 0:
        raise ValueError('must not name port 0: leave the port out, or give one from 1 to 65535')
    if (why := _link_local(parts.hostname)) is not None:
        raise ValueError(f"must not point at '{parts.hostname}'{why}: link-local and cloud metadata addresses "
                         f'({REFUSED_EXAMPLES}) are never an ERPNext site '
                         '(private addresses such as 10.x or 192.168.x are fine)')
    if problem := _host_problem(parts.hostname, bracketed='[' in parts.netloc):
        raise ValueError(f"has no valid host: '{parts.hostname}' {problem}")
    return text


def url_refusal(url: str) -> str | None:
    """Why `http_url` refuses `url` ('must not point at …'), or None when it is accepted. For URLs
    stored before a rule existed (an engine saved with a cloud metadata address): nothing may be
    sent to them until someone changes them."""
    try:
        http_url(url)
    except ValueError as exc:
        return str(exc)
    return None


METADATA_HOSTS = frozenset({'metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data',
                            'instance-data.ec2.internal', 'metadata.tencentyun.com'})
REFUSED_EXAMPLES = ', '.join(['169.254.0.0/16', 'fe80::/10', *map(str, refused_addresses.METADATA_ADDRESSES),
                              'metadata.google.internal'])
MAX_HOST_LENGTH = 253  # DNS: a name of at most 253 characters, in labels of 1 to 63
_LABEL = re.compile(r'[a-z0-9_-]{1,63}')


def _host_problem(host: str, *, bracketed: bool) -> str | None:
    """What makes `host` (as urlsplit gives it: lower-case, without brackets) neither a host name nor
    an IP literal, or None. A name in another script is checked in its IDNA (xn--) form, as it is
    sent; underscores are allowed (Docker's service names have them)."""
    if bracketed:
        return None if refused_addresses.ip_literal(host.replace('%25', '%')) else 'is not an IPv6 address'
    if any(char.isspace() for char in host):
        return 'contains a space (a host name is letters, digits, hyphens and dots)'
    address = refused_addresses.ip_literal(host)
    if address is not None:
        if address.version == 4 and host.rstrip('.') != str(address):
            return f'is an unusual spelling of the IP address {address}: write it as {address}'
        return None
    if re.fullmatch(r'[0-9.]+', host):
        return 'is not a valid IPv4 address (four numbers from 0 to 255, such as 10.0.0.5)'
    try:
        name = host if host.isascii() else idna.encode(host, uts46=True).decode('ascii')
    except idna.IDNAError as exc:
        return f'is not a valid host name ({exc})'
    labels = name[:-1].split('.') if name.endswith('.') else name.split('.')
    if len(name) > MAX_HOST_LENGTH:
        return f'is longer than {MAX_HOST_LENGTH} characters'
    if '' in labels:
        return 'has an empty part between dots'
    if long := next((label for label in labels if len(label) > 63), None):
        return f"has a part longer than 63 characters ('{long[:20]}…')"
    if odd := next((label for label in labels if not _LABEL.fullmatch(label)), None):
        return f"has characters a host name cannot have in '{odd}' (letters, digits, hyphens, underscores and dots)"
    return None


def _link_local(host: str) -> str | None:
    """Why `host` points at a link-local or cloud metadata address ('' for a metadata host name, else
    ', a cloud metadata address' and the like), or None. Names are not resolved here (the connection
    checks what they resolve to: engine/erpnext/guarded_resolver.py), but a name that spells the
    address out for wildcard DNS (169.254.169.254.nip.io, app-169-254-169-254.sslip.io) counts as it."""
    name = host.rstrip('.').lower()
    if name in METADATA_HOSTS:
        return ''
    address = refused_addresses.ip_literal(name.split('%')[0])
    if address is not None:
        kind = refused_addresses.refusal(address)
        return f', {kind}' if kind else None
    for embedded in _embedded_addresses(name):
        if kind := refused_addresses.refusal(embedded):
            return f' (the name spells out {embedded}, {kind}: wildcard DNS such as nip.io resolves it there)'
    return None


_DOTTED = re.compile(r'(?:^|\.)((?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d))(?=\.|$)')
_DASHED = re.compile(r'(?:^|[.-])((?:(?:25[0-5]|2[0-4]\d|1?\d?\d)-){3}(?:25[0-5]|2[0-4]\d|1?\d?\d))(?=[.-]|$)')
_HEX = re.compile(r'(?:^|[.-])([0-9a-f]{8})(?=\.)')


def _embedded_addresses(name: str) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a wildcard-DNS name spells out: 10.0.0.1.nip.io, app-10-0-0-1.nip.io,
    0a000001.nip.io."""
    found = [ipaddress.IPv4Address(match) for match in _DOTTED.findall(name)]
    found += [ipaddress.IPv4Address(match.replace('-', '.')) for match in _DASHED.findall(name)]
    found += [ipaddress.IPv4Address(int(match, 16)) for match in _HEX.findall(name)]
    return found


def not_a_boolean(value: Any) -> Any:
    """JSON true/false is not a number (pydantic would read true as 1)."""
    if isinstance(value, bool):
        raise ValueError('must be a whole number, not true or false')
    return value


def _text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


# Tenant and engine names (a tenant's is also its Company's): typed by people, so spaces are
# normalised before they are stored (`single_spaces`: each run of spaces one space; tabs and line
# breaks refused by `printable`). Two names that differ only in case or spacing are one name, for
# the services and for the database's unique index alike (storage/name_keys.py).
Name = Annotated[str, _text(140), AfterValidator(single_spaces), AfterValidator(printable),
                 AfterValidator(document_name)]
EngineName = Annotated[str, _text(140), AfterValidator(single_spaces), AfterValidator(printable)]
Country = Annotated[str, StringConstraints(max_length=140), AfterValidator(country_name)]
Currency = Annotated[str, StringConstraints(max_length=16), AfterValidator(currency_code)]
Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_LENGTH), AfterValidator(email_address)]
Username = Annotated[str, StringConstraints(max_length=64), AfterValidator(username)]
Password = Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH), AfterValidator(password)]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(http_url)]
Credential = Annotated[str, _text(255), AfterValidator(printable)]
EngineRef = Annotated[int | str, PlainValidator(engine_ref),
                      WithJsonSchema({'anyOf': [{'type': 'integer'}, {'type': 'string'}]})]
# A whole number that may arrive as 2, 2.0 (a UI number field) or "2" (a CSV cell), never as true.
WholeNumber = Annotated[int, BeforeValidator(not_a_boolean)]


# ---- input models -----------------------------------------------------------------------------

class _Input(BaseModel):
    model_config = ConfigDict(extra='forbid')


class TenantCreate(_Input):
    """A new tenant, as typed by support staff (REST body and UI form)."""

    name: Name
    country: Country
    currency: Currency
    admin_email: Email
    engine: EngineRef = Field(description='engine id or name')
    stores: WholeNumber = Field(default=1, ge=1, le=20, description='number of POS outlets')


class TenantUpdate(_Input):
    """A correction of a tenant (PATCH): only the fields given change, each checked as on creation.
    Which fields may still change depends on what the tenant's runs made in ERPNext
    (engine/services/tenant_edit.py)."""

    name: Name | None = None
    company_name: Name | None = Field(None, description="the ERPNext Company's name (the tenant's name by default)")
    country: Country | None = None
    currency: Currency | None = None
    admin_email: Email | None = None
    engine: EngineRef | None = Field(None, description='engine id or name')
    stores: WholeNumber | None = Field(default=None, ge=1, le=20, description='number of POS outlets')
    abbr: SkipJsonSchema[Any] = Field(None, exclude=True)  # refused with the reason, never stored

    @field_validator('name', 'company_name', 'country', 'currency', 'admin_email', 'engine', 'stores',
                     mode='before')
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError('must not be null (leave the field out to keep its value)')
        return value

    @field_validator('abbr')
    @classmethod
    def _abbr_is_chosen_by_the_company_step(cls, value: Any) -> None:
        raise ValueError(ABBR_NOT_EDITABLE)

    def given(self) -> dict[str, Any]:
        """The fields the request gave, with their checked values."""
        return {field: getattr(self, field) for field in self.model_fields_set if field != 'abbr'}


ABBR_NOT_EDITABLE = ("is chosen by the company step (the company name's initials, then digits when another "
                     'company has them) and ERPNext never changes it: change company_name before the company '
                     'exists instead')


REQUESTS_PER_SECOND_HELP = ('outbound ERPNext requests a second from one Provisioner process '
                             f'(1 to {MAX_REQUESTS_PER_SECOND})')


class EngineCreate(_Input):
    name: EngineName
    base_url: Url
    api_key: Credential
    api_secret: Annotated[str, _text(500), AfterValidator(printable)]
    max_concurrent_runs: WholeNumber = Field(default=4, ge=1, le=64)
    requests_per_second: WholeNumber = Field(default=DEFAULT_REQUESTS_PER_SECOND, ge=1, le=MAX_REQUESTS_PER_SECOND,
                                     description=REQUESTS_PER_SECOND_HELP)


class EngineUpdate(_Input):
    """Only the fields given change; the secret is replaced only when one is sent."""

    name: EngineName | None = None
    base_url: Url | None = None
    api_key: Credential | None = None
    api_secret: Annotated[str, _text(500), AfterValidator(printable)] | None = None
    max_concurrent_runs: WholeNumber | None = Field(default=None, ge=1, le=64)
    requests_per_second: WholeNumber | None = Field(default=None, ge=1, le=MAX_REQUESTS_PER_SECOND,
                                            description=REQUESTS_PER_SECOND_HELP)


class UserCreate(_Input):
    username: Username
    password: Password
    role: Role


class UserUpdate(_Input):
    role: Role | None = None
    active: StrictBool | None = None  # "no" or 0 is a mistake, not a deactivation
    password: Password | None = None


class LoginRequest(_Input):
    """Deliberately lax: a malformed username is just a failed login, not a 422."""

    username: Annotated[str, StringConstraints(max_length=256)]
    password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH)]


# ---- readable validation errors ---------------------------------------------------------------

def describe_errors(errors: ValidationError | list[ErrorDetails] | list[dict[str, Any]],
                    ) -> list[tuple[str, str]]:
    """(field, message) pairs a person can read, e.g. ('stores', 'must be at most 20')."""
    items = errors.errors() if isinstance(errors, ValidationError) else errors
    return [_describe(error) for error in items]


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ('body', 'query', 'path', 'header')]
    return '.'.join(parts) or 'body'


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    loc = tuple(error.get('loc', ()))
    if error.get('type') == 'json_invalid':  # FastAPI puts the character offset where the field goes
        where = next((part for part in loc if isinstance(part, int)), None)
        return 'body', 'is not valid JSON' + (f' (at character {where})' if where is not None else '')
    return _field(loc), _message(error)


_MESSAGES = {
    'missing': 'is required',
    'extra_forbidden': 'is not a known field',
    'string_type': 'must be a string',
    'int_type': 'must be a whole number',
    'int_parsing': 'must be a whole number',
    'int_from_float': 'must be a whole number',
    'bool_type': 'must be true or false',
    'bool_parsing': 'must be true or false',
    'json_invalid': 'is not valid JSON',
    'model_attributes_type': 'must be a JSON object',
    'dict_type': 'must be a JSON object',
    'model_type': 'must be a JSON object',
    'list_type': 'must be a list',
    'int_parsing_size': 'must be a whole number',
    'float_type': 'must be a number',
    'float_parsing': 'must be a number',
    'datetime_type': 'must be a date and time such as 2026-01-31T09:00:00Z',
    'datetime_parsing': 'must be a date and time such as 2026-01-31T09:00:00Z',
    'datetime_from_date_parsing': 'must be a date and time such as 2026-01-31T09:00:00Z',
    'datetime_object_invalid': 'must be a date and time such as 2026-01-31T09:00:00Z',
}


def _message(error: dict[str, Any]) -> str:
    kind, ctx = error.get('type', ''), error.get('ctx') or {}
    if kind == 'value_error' and 'error' in ctx:
        return str(ctx['error'])
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == 'string_too_short':
        minimum = ctx.get('min_length')
        return 'must not be empty' if minimum == 1 else f'must be at least {minimum} characters long'
    if kind == 'string_too_long':
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind in ('too_short', 'too_long'):
        word, key = ('at least', 'min_length') if kind == 'too_short' else ('at most', 'max_length')
        count = ctx.get(key)
        return f"must have {word} {count} item{'' if count == 1 else 's'}"
    if kind == 'string_pattern_mismatch':
        return f"must match the pattern {ctx.get('pattern')}"
    if kind in ('greater_than_equal', 'less_than_equal', 'greater_than', 'less_than'):
        return _bound_message(kind, ctx)
    if kind == 'enum':
        return f"must be one of {ctx.get('expected')}"
    return str(error.get('msg', 'is invalid'))


def _bound_message(kind: str, ctx: dict[str, Any]) -> str:
    words = {'greater_than_equal': ('at least', 'ge'), 'less_than_equal': ('at most', 'le'),
             'greater_than': ('more than', 'gt'), 'less_than': ('less than', 'lt')}
    word, key = words[kind]
    return f'must be {word} {ctx.get(key)}'
