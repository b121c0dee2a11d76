"""Whitelisted RPC methods under /api/method/<dotted.path> (frappe/handler.py, frappe/client.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import lifecycle, queries
from .context import GUEST, Context
from .doctypes import CONTROLLERS, is_child_table
from .errors import DoesNotExistError, PermissionError, PythonError, ValidationError, message, throw
from .filters import parse_json
from .meta import CHILD_FIELDS, STANDARD_FIELDS
from .records import sbool
from .store import fold

FRAPPE_VERSION = "15.53.1"
ERPNEXT_VERSION = "15.49.2"
INSTALLED_APPS = ("frappe", "erpnext")
ALL_VERBS = frozenset({"GET", "POST", "PUT", "DELETE"})
WRITE_VERBS = frozenset({"POST", "PUT"})
DELETE_VERBS = frozenset({"DELETE", "POST"})
MAX_INSERTS = 200
# Importable modules, so an unknown path fails with the error Python would give.
KNOWN_MODULES = frozenset({
    "frappe", "frappe.client", "frappe.auth", "frappe.handler", "frappe.utils", "frappe.utils.change_log",
    "frappe.desk", "frappe.desk.reportview", "frappe.model", "frappe.core", "erpnext", "erpnext.accounts",
    "erpnext.setup", "erpnext.stock", "erpnext.selling",
})  # fmt: skip
# Functions that exist but are not whitelisted: 403 instead of "Failed to get method".
NOT_WHITELISTED = {
    "frappe.auth.validate_auth": "frappe.auth.validate_auth",
    "frappe.get_doc": "frappe.get_doc",
    "frappe.client.check_parent_permission": "frappe.client.check_parent_permission",
}


@dataclass(frozen=True)
class Method:
    """A whitelisted function: its Python name, the verbs it allows, and whether Guest may call it."""

    function: Callable[[Context, dict], object]
    qualified: str
    verbs: frozenset[str] = ALL_VERBS
    allow_guest: bool = False


def call_method(ctx: Context, path: str, verb: str, form: dict) -> dict:
    """handler.execute_cmd: resolve, is_whitelisted (403), is_valid_http_method (403), call."""
    method = METHODS.get(path)
    if method is None:
        _fail_to_get(path)
    assert method is not None
    if ctx.user == GUEST and not method.allow_guest:
        not_whitelisted(method.qualified)
    if verb not in method.verbs:
        throw("Not permitted", PermissionError)
    value = method.function(ctx, form)
    return {} if value is None else {"message": value}


def _fail_to_get(path: str) -> None:
    if path in NOT_WHITELISTED:
        not_whitelisted(NOT_WHITELISTED[path])
    messages = []
    reason = _import_error(path)
    if "." in path and path.split(".")[0] not in INSTALLED_APPS:
        messages.append(message(reason, raised=True))
    text = f"Failed to get method for command {path} with {reason}"
    raise ValidationError(text, messages=[*messages, message(text, raised=True)])


def _import_error(path: str) -> str:
    """What frappe.get_attr would have raised for `path`."""
    if "." not in path:
        return repr(path)  # KeyError from handler's globals()
    app = path.split(".")[0]
    if app not in INSTALLED_APPS:
        return f"App {app} is not installed"
    module, _, function = path.rpartition(".")
    if module in KNOWN_MODULES:
        return f"module '{module}' has no attribute '{function}'"
    parts = module.split(".")
    missing = next(
        ".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in KNOWN_MODULES
    )
    return f"No module named '{missing}'"


def not_whitelisted(qualified: str) -> None:
    detail = f"Function <strong>{qualified}</strong> is not whitelisted."
    text = f"<details><summary>You are not permitted to access this resource.</summary>{detail}</details>"
    throw(text, PermissionError, title="Method Not Allowed")


def _required(form: dict, name: str, function: str) -> object:
    if name not in form:
        raise PythonError("TypeError", f"{function}() missing 1 required positional argument: '{name}'")
    return form[name]


def ping(ctx: Context, form: dict) -> object:
    return "pong"


def version(ctx: Context, form: dict) -> object:
    return FRAPPE_VERSION


def get_logged_user(ctx: Context, form: dict) -> object:
    return ctx.user


def get_versions(ctx: Context, form: dict) -> object:
    return {
        "frappe": _app(
            "Frappe Framework",
            "Full stack web framework with Python, Javascript, MariaDB, Redis, Node",
            FRAPPE_VERSION,
        ),
        "erpnext": _app("ERPNext", "ERP made simple", ERPNEXT_VERSION),
    }


def _app(title: str, description: str, app_version: str) -> dict:
    return {"title": title, "description": description, "branch": "version-15", "version": app_version}


def get_list(ctx: Context, form: dict) -> object:
    args = queries.ListArgs(
        str(_required(form, "doctype", "get_list")),
        fields=form.get("fields"),
        filters=form.get("filters"),
        or_filters=form.get("or_filters"),
        order_by=form.get("order_by"),
        limit_start=form.get("limit_start"),
        limit_page_length=form.get("limit_page_length", 20),
        as_dict=bool(sbool(form.get("as_dict", True))),
        parent=form.get("parent"),
        group_by=form.get("group_by"),
        validate=True,
    )
    return queries.get_list(ctx, args)


def get_count(ctx: Context, form: dict) -> object:
    return queries.get_count(ctx, str(_required(form, "doctype", "get_count")), form.get("filters"))


def get_value(ctx: Context, form: dict) -> object:
    doctype = str(_required(form, "doctype", "get_value"))
    fieldname = _required(form, "fieldname", "get_value")
    as_dict = bool(sbool(form.get("as_dict", True)))
    return queries.get_value(ctx, doctype, fieldname, form.get("filters"), as_dict)


def get(ctx: Context, form: dict) -> object:
    """frappe.client.get: the document with nulls kept (by name, or the first match of `filters`)."""
    doctype = str(_required(form, "doctype", "get"))
    name = form.get("name")
    if not name and form.get("filters"):
        rows = queries.get_list(ctx, queries.ListArgs(doctype, filters=form["filters"], limit_page_length=1))
        name = rows[0]["name"] if rows else form["filters"]
    return lifecycle.read_document(ctx, doctype, str(name))


def insert_many(ctx: Context, form: dict) -> object:
    """All documents in one transaction: any failure rolls the whole batch back."""
    docs = parse_json(form.get("docs"))
    if not isinstance(docs, list):
        raise PythonError("TypeError", f"object of type '{type(docs).__name__}' has no len()")
    if len(docs) > MAX_INSERTS:
        throw(f"Only {MAX_INSERTS} inserts allowed in one request")
    names: list[str] = []
    for doc in docs:
        if not isinstance(doc, dict) or "doctype" not in doc:
            raise PythonError("ValueError", '"doctype" is a required key')
        names.append(insert_doc(ctx, doc)["name"])  # v15: one per document, a child row's parent repeated
    return names


def _doc_argument(form: dict, function: str) -> dict:
    doc = parse_json(_required(form, "doc", function))
    if not isinstance(doc, dict) or not doc.get("doctype"):
        raise PythonError("ValueError", '"doctype" is a required key')
    return doc


def insert(ctx: Context, form: dict) -> object:
    """frappe.client.insert: the saved document (nulls kept); a child row is appended to its parent."""
    return insert_doc(ctx, _doc_argument(form, "insert"))


def insert_doc(ctx: Context, doc: dict) -> dict:
    """frappe.client.insert_doc: a document is inserted; a row of a child-table DocType is appended to
    its parent (`parenttype`, `parent`, `parentfield`), which is saved and returned."""
    doctype = str(doc["doctype"])
    if not is_child_table(doctype):
        return lifecycle.insert_document(ctx, doctype, doc)
    if not all(doc.get(key) for key in CHILD_FIELDS):
        throw("Parenttype, Parent and Parentfield are required to insert a child record")
    parent = lifecycle.read_document(ctx, str(doc["parenttype"]), str(doc["parent"]))
    field = str(doc["parentfield"])
    if field not in {f.fieldname for f in CONTROLLERS[parent["doctype"]].meta.table_fields}:
        raise PythonError("AttributeError", field)
    rows = [*parent.get(field, []), doc]
    return lifecycle.save_document(ctx, parent["doctype"], parent["name"], {field: rows})


def save(ctx: Context, form: dict) -> object:
    """frappe.client.save: the dict *is* the document (left-out fields empty, `modified` must match)."""
    doc = _doc_argument(form, "save")
    return lifecycle.save_document(ctx, str(doc["doctype"]), str(doc.get("name")), doc, whole=True)


def set_value(ctx: Context, form: dict) -> object:
    """frappe.client.set_value: one field (or a JSON dict of fields) of a document or child row."""
    doctype = str(_required(form, "doctype", "set_value"))
    name = str(_required(form, "name", "set_value"))
    fieldname, value = _required(form, "fieldname", "set_value"), form.get("value")
    if isinstance(fieldname, str) and fieldname in STANDARD_FIELDS + ("doctype",) + CHILD_FIELDS:
        throw("Cannot edit standard fields")
    if value in (None, ""):
        values = fieldname
        if isinstance(fieldname, str):
            try:
                values = parse_json(fieldname)
            except PythonError:
                values = {fieldname: ""}
    else:
        values = {fieldname: value}
    if not isinstance(values, dict):
        raise PythonError("AttributeError", f"'{type(values).__name__}' object has no attribute 'items'")
    if not is_child_table(doctype):
        return lifecycle.save_document(ctx, doctype, name, values)
    parent, field, rows = _parent_of_row(ctx, doctype, name)
    changed = [{**row, **values} if fold(row["name"]) == fold(name) else row for row in rows]
    return lifecycle.save_document(ctx, parent["doctype"], parent["name"], {field: changed})


def delete(ctx: Context, form: dict) -> object:
    """frappe.client.delete: a document, or one child row (its parent is saved without it)."""
    doctype = str(_required(form, "doctype", "delete"))
    name = str(_required(form, "name", "delete"))
    if not is_child_table(doctype):
        lifecycle.delete_document(ctx, doctype, name)
        return None
    parent, field, rows = _parent_of_row(ctx, doctype, name)
    kept = [row for row in rows if fold(row["name"]) != fold(name)]
    lifecycle.save_document(ctx, parent["doctype"], parent["name"], {field: kept})
    return None


def _parent_of_row(ctx: Context, doctype: str, name: str) -> tuple[dict, str, list[dict]]:
    """The parent holding child row `name` of `doctype` (frappe.db.get_value on the child table)."""
    for controller in CONTROLLERS.values():
        for field in controller.meta.table_fields:
            if field.options != doctype:
                continue
            for parent in ctx.store.all(controller.meta.name):
                if any(fold(row["name"]) == fold(name) for row in parent[field.fieldname]):
                    return parent, field.fieldname, parent[field.fieldname]
    raise DoesNotExistError()


METHODS: dict[str, Method] = {
    "ping": Method(ping, "frappe.handler.ping", allow_guest=True),
    "frappe.ping": Method(ping, "frappe.ping", allow_guest=True),
    "version": Method(version, "frappe.handler.version", allow_guest=True),
    "frappe.auth.get_logged_user": Method(get_logged_user, "frappe.auth.get_logged_user"),
    "frappe.utils.change_log.get_versions": Method(get_versions, "frappe.utils.change_log.get_versions"),
    "frappe.client.get_list": Method(get_list, "frappe.client.get_list"),
    "frappe.client.get_count": Method(get_count, "frappe.client.get_count"),
    "frappe.client.get_value": Method(get_value, "frappe.client.get_value"),
    "frappe.client.get": Method(get, "frappe.client.get"),
    "frappe.client.insert_many": Method(insert_many, "frappe.client.insert_many", verbs=WRITE_VERBS),
    "frappe.client.insert": Method(insert, "frappe.client.insert", verbs=WRITE_VERBS),
    "frappe.client.save": Method(save, "frappe.client.save", verbs=WRITE_VERBS),
    "frappe.client.set_value": Method(set_value, "frappe.client.set_value", verbs=WRITE_VERBS),
    "frappe.client.delete": Method(delete, "frappe.client.delete", verbs=DELETE_VERBS),
}
