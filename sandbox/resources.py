"""/api/resource handlers (frappe/api/v1.py): list, read, create, update, delete, run_method."""

from __future__ import annotations

import json

from . import lifecycle, queries
from .context import Context
from .errors import PythonError
from .methods import not_whitelisted
from .records import as_response, sbool


def list_resource(ctx: Context, doctype: str, form: dict) -> tuple[int, dict]:
    """document_list: `fields` must be JSON, `limit` stands in for a missing limit_page_length."""
    fields = form.get("fields")
    if isinstance(fields, str) and fields:
        try:
            fields = json.loads(fields)
        except ValueError as exc:
            raise PythonError("JSONDecodeError", str(exc), module="json.decoder") from exc
    page_length = form["limit_page_length"] if "limit_page_length" in form else (form.get("limit") or 20)
    args = queries.ListArgs(
        doctype,
        fields=fields,
        filters=form.get("filters"),
        or_filters=form.get("or_filters"),
        order_by=form.get("order_by"),
        limit_start=form.get("limit_start"),
        limit_page_length=page_length,
        as_dict=bool(sbool(form.get("as_dict", True))),
        parent=form.get("parent"),
        group_by=form.get("group_by"),
        validate=True,
    )
    return 200, {"data": queries.get_list(ctx, args)}


def read_resource(ctx: Context, doctype: str, name: str, form: dict) -> tuple[int, dict]:
    if "run_method" in form:
        return run_doc_method(ctx, doctype, name, form)
    return 200, {"data": as_response(lifecycle.read_document(ctx, doctype, name))}


def create_resource(ctx: Context, doctype: str, form: dict, body: bytes) -> tuple[int, dict]:
    """200 (not 201) with the saved document; a `doctype` key in the body is ignored."""
    values = request_document(form, body, "pop")
    values.pop("doctype", None)
    return 200, {"data": as_response(lifecycle.insert_document(ctx, doctype, values))}


def update_resource(ctx: Context, doctype: str, name: str, form: dict, body: bytes) -> tuple[int, dict]:
    values = request_document(form, body, "items")
    values.pop("flags", None)
    return 200, {"data": as_response(lifecycle.save_document(ctx, doctype, name, values))}


def delete_resource(ctx: Context, doctype: str, name: str) -> tuple[int, dict]:
    lifecycle.delete_document(ctx, doctype, name)
    return 202, {"data": "ok"}


def run_doc_method(ctx: Context, doctype: str, name: str, form: dict) -> tuple[int, dict]:
    """POST /api/resource/<DocType>/<name>: no controller method is whitelisted in the sandbox."""
    lifecycle.read_document(ctx, doctype, name)
    if "run_method" not in form:
        raise PythonError("KeyError", "'run_method'")
    not_whitelisted(f"{doctype.lower().replace(' ', '_')}.{form['run_method']}")
    raise AssertionError("unreachable")


def request_document(form: dict, body: bytes, used_as: str) -> dict:
    """get_request_form_data: `data` (dict or JSON string) when present, else the raw body.

    Anything but an object fails where v1.py first uses it as a dict (`used_as`: create pops
    "doctype", update iterates `items()`), as the Python error Frappe reports as a 500.
    """
    data = form.get("data")
    if data is None:
        data = body.decode("utf-8", errors="replace")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return dict(form)
    if isinstance(data, list) and used_as == "pop":  # list.pop("doctype", None)
        raise PythonError("TypeError", "pop expected at most 1 argument, got 2")
    if not isinstance(data, dict):
        raise PythonError("AttributeError", f"'{type(data).__name__}' object has no attribute '{used_as}'")
    return dict(data)
