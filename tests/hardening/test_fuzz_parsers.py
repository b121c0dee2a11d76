"""Hypothesis against the ERPNext error parser and every input validator: whatever comes in, the
answer is a value or the one error type the caller handles, never an unexpected exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine import validation
from engine.erpnext import envelope, errors

# derandomize: `make test` explores the same examples on every run (no flaky CI); raise
# max_examples locally to search further.
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=12)
frappe_keys = st.sampled_from(['_server_messages', '_error_message', 'exception', 'exc_type', 'message', 'exc'])
frappe_bodies = st.dictionaries(frappe_keys, json_values | st.text(), max_size=5)
# `_server_messages` as Frappe writes it: a JSON list of JSON-encoded objects, then encoded again.
server_messages = st.lists(st.fixed_dictionaries({'message': st.text(), 'title': st.text()}), max_size=3).map(
    lambda items: {'_server_messages': json.dumps([json.dumps(item) for item in items])})


@FUZZ
@given(body=json_values | frappe_bodies | server_messages, status=st.integers(100, 599))
def test_error_message_is_always_one_line_of_text(body, status):
    message = envelope.error_message(body, status)
    assert isinstance(message, str) and message
    assert '\n' not in envelope.plain_text(message)


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_parse_json_returns_a_value_or_raises_value_error(content):
    try:
        envelope.parse_json(content)
    except ValueError:
        pass  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors: the client maps them


@FUZZ
@given(body=json_values | frappe_bodies)
def test_server_messages_are_texts(body):
    if isinstance(body, dict):
        assert all(isinstance(text, str) for text in envelope.server_messages(body))


@FUZZ
@given(status=st.integers(0, 999), exc_type=st.none() | st.text(max_size=40) | st.sampled_from(
    ['TimestampMismatchError', 'QueryDeadlockError', 'DuplicateEntryError', 'PermissionError']))
def test_error_class_is_always_in_the_error_tree(status, exc_type):
    assert issubclass(envelope.error_class(status, exc_type), errors.ERPNextError)


@FUZZ
@given(value=st.none() | st.text(max_size=40) | st.floats().map(str))
def test_retry_after_is_none_or_a_non_negative_number(value):
    seconds = envelope.retry_after(value)
    assert seconds is None or seconds >= 0


@FUZZ
@given(html=st.text(max_size=400))
def test_plain_text_has_no_tags_left_and_shorten_bounds_the_length(html):
    text = envelope.plain_text(f'<strong>{html}</strong>')
    assert '<strong>' not in text
    assert len(envelope.shorten(text)) <= envelope.MAX_MESSAGE


FIELD_VALIDATORS = [validation.printable, validation.document_name, validation.country_name,
                    validation.currency_code, validation.email_address, validation.username,
                    validation.password, validation.engine_ref, validation.http_url]


@pytest.mark.parametrize('validator', FIELD_VALIDATORS, ids=lambda f: f.__name__)
@FUZZ
@given(value=st.text(max_size=120) | st.integers() | st.none() | st.booleans())
def test_field_validators_return_a_value_or_raise_value_error(validator, value):
    if not isinstance(value, str) and validator is not validation.engine_ref:
        value = str(value)
    try:
        validator(value)
    except ValueError as exc:
        assert str(exc)  # a message a person can read


INPUT_MODELS = [validation.TenantCreate, validation.EngineCreate, validation.EngineUpdate, validation.UserCreate,
                validation.UserUpdate, validation.LoginRequest]
model_fields = st.sampled_from(['name', 'country', 'currency', 'admin_email', 'engine', 'stores', 'base_url',
                                'api_key', 'api_secret', 'max_concurrent_runs', 'username', 'password', 'role',
                                'active', 'extra'])


@pytest.mark.parametrize('model', INPUT_MODELS, ids=lambda m: m.__name__)
@FUZZ
@given(data=st.dictionaries(model_fields, json_values, max_size=8) | json_values)
def test_input_models_accept_or_explain_every_json_body(model, data):
    try:
        model.model_validate(data)
    except ValidationError as exc:
        pairs = validation.describe_errors(exc)
        assert pairs and all(isinstance(field, str) and isinstance(text, str) and text for field, text in pairs)


@FUZZ
@given(data=st.dictionaries(model_fields, json_values, max_size=8))
def test_input_models_from_json_text_never_raise_anything_else(data):
    try:
        text = json.dumps(data, allow_nan=True)
    except (ValueError, TypeError):
        return
    for model in INPUT_MODELS:
        try:
            model.model_validate_json(text)
        except ValidationError as exc:
            assert validation.describe_errors(exc)
