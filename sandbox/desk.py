"""A read-only stand-in for ERPNext's desk, so the document links a client shows for a site
(`{site}/app/{doctype-slug}/{name}`, e.g. `/app/pos-profile/AR%20Store%201`) open a page here too.

`/app/{slug}/{name}` shows one document as ERPNext's form would title it ("Company: Acme Retail"):
its fields with values, as a table, child tables as tables of their own, Link values linked to
their own page. `/app/{slug}` lists a DocType's documents. Unknown DocTypes and documents are an
HTML 404. Nothing here writes, needs a key, counts as API traffic or obeys fault rules: it is the
demo's window on the store, not part of the REST API. Every value is HTML-escaped, and the pages
carry a policy that allows no script at all.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from .doctypes import CONTROLLERS
from .meta import DocType, Field
from .state import Sandbox

DESK_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": DESK_POLICY, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
TRAILER = (("owner", "Created by"), ("creation", "Created"), ("modified", "Last modified"))
STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1f272e;background:#f4f5f6}
header{background:#fff;border-bottom:1px solid #d1d8dd;padding:.75rem 1rem;font-size:.9rem;color:#6c7680}
header a{color:#6c7680}
main{max-width:60rem;margin:1rem auto;padding:0 1rem}
h1{font-size:1.4rem;overflow-wrap:anywhere}
h2{font-size:1rem;margin-top:1.5rem}
.box{overflow-x:auto;background:#fff;border:1px solid #d1d8dd;border-radius:.4rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .7rem;border-bottom:1px solid #ebeef0;vertical-align:top;overflow-wrap:anywhere}
th{color:#6c7680;font-weight:500;white-space:nowrap}
"""


def desk_routes(sandbox: Sandbox) -> list[Route]:
    """The desk pages of one sandbox (mounted under `/app` by the app)."""

    async def document_page(request: Request) -> HTMLResponse:
        return _document(sandbox, request)

    async def list_page(request: Request) -> HTMLResponse:
        return _list(sandbox, request)

    return [
        Route("/{slug}", list_page, methods=["GET"]),
        Route("/{slug}/{name:path}", document_page, methods=["GET"]),
    ]


def slug_of(doctype: str) -> str:
    """ERPNext's route name of a DocType: 'POS Profile' → 'pos-profile'."""
    return doctype.strip().lower().replace(" ", "-")


SLUGS = {slug_of(doctype): doctype for doctype in CONTROLLERS}


# ---- pages ---------------------------------------------------------------------------------------

def _document(sandbox: Sandbox, request: Request) -> HTMLResponse:
    doctype = SLUGS.get(request.path_params["slug"].lower())
    name = request.path_params["name"]
    doc = sandbox.store.get(doctype, name) if doctype else None
    if doc is None:
        what = f"{doctype} {name}" if doctype else f"Page {request.path_params['slug']}/{name}"
        return _page(request, f"{what} not found", "<p>No such document on this sandbox.</p>", status=404)
    meta = CONTROLLERS[doctype].meta
    body = [_box(_rows(request, meta.value_fields, doc) + _trailer(doc))]
    for field in meta.table_fields:
        if doc.get(field.fieldname):
            body.append(f"<h2>{escape(_label(field))}</h2>")
            body.append(_box(_child_table(request, field, doc[field.fieldname])))
    return _page(request, f"{doctype}: {doc['name']}", "".join(body), doctype=doctype)


def _list(sandbox: Sandbox, request: Request) -> HTMLResponse:
    doctype = SLUGS.get(request.path_params["slug"].lower())
    if doctype is None:
        return _page(request, f"Page {request.path_params['slug']} not found", "", status=404)
    docs = sorted(sandbox.store.all(doctype), key=lambda doc: doc["creation"])
    rows = "".join(f"<tr><td>{_link(request, doctype, doc['name'])}</td></tr>" for doc in docs)
    body = _box(f"<table>{rows}</table>") if docs else f"<p>No {escape(doctype)} yet.</p>"
    return _page(request, f"{doctype} ({len(docs)})", body)


# ---- pieces --------------------------------------------------------------------------------------

def _rows(request: Request, fields: tuple[Field, ...], doc: dict) -> str:
    return "".join(
        f"<tr><th>{escape(_label(field))}</th><td>{_value(request, field, doc[field.fieldname])}</td></tr>"
        for field in fields
        if _shown(field, doc.get(field.fieldname))
    )


def _trailer(doc: dict) -> str:
    return "".join(
        f"<tr><th>{label}</th><td>{escape(str(doc[key]))}</td></tr>" for key, label in TRAILER if doc.get(key)
    )


def _child_table(request: Request, field: Field, rows: list[dict]) -> str:
    child: DocType = field.child  # type: ignore[assignment]
    columns = [f for f in child.value_fields if any(_shown(f, row.get(f.fieldname)) for row in rows)]
    head = "".join(f"<th>{escape(_label(f))}</th>" for f in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_value(request, f, row.get(f.fieldname))}</td>" for f in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _label(field: Field) -> str:
    return field.label or field.fieldname.replace("_", " ").capitalize()


def _shown(field: Field, value: object) -> bool:
    return field.fieldtype == "Check" or value not in (None, "")


def _value(request: Request, field: Field, value: object) -> str:
    if value is None:
        return ""
    if field.fieldtype == "Check":
        return "Yes" if value else "No"
    if field.fieldtype == "Link" and field.options in CONTROLLERS and value != "":
        return _link(request, field.options, str(value))
    return escape(str(value))


def _link(request: Request, doctype: str, name: str) -> str:
    href = f"{_root(request)}/{quote(slug_of(doctype))}/{quote(name, safe='')}"
    return f'<a href="{escape(href)}">{escape(name)}</a>'


def _box(table_rows_or_table: str) -> str:
    inner = table_rows_or_table if table_rows_or_table.startswith("<table") else f"<table>{table_rows_or_table}</table>"
    return f'<div class="box">{inner}</div>'


def _root(request: Request) -> str:
    """Where the desk is mounted, as the browser sees it ('/sandbox/app' inside Provisioner)."""
    return request.scope.get("root_path", "").rstrip("/")


def _page(request: Request, title: str, body: str, *, status: int = 200, doctype: str | None = None) -> HTMLResponse:
    crumbs = f'<a href="{escape(_root(request))}/{quote(slug_of(doctype))}">{escape(doctype)}</a> / ' if doctype else ""
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header>ERPNext sandbox (read-only) · {crumbs}{escape(title)}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>\n"
    )
    return HTMLResponse(html, status, HEADERS)
