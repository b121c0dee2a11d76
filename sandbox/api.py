"""The /api endpoint: routing, faults, the site, auth, one transaction per request, and the JSON
envelope (or, for a client whose Accept starts with "text", the error page; error_pages.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from . import resources
from .auth import authenticate
from .context import Context
from .error_pages import error_response, wants_json
from .errors import (
    DoesNotExistError,
    FrappeError,
    PythonError,
    TooManyRequestsError,
    encode_messages,
    throw,
)
from .faults import FaultRule, failure_response, gateway_timeout, offline_response
from .methods import call_method
from .responses import NO_CACHE, frappe_json, werkzeug_error
from .state import Sandbox
from .traffic import Target

logger = logging.getLogger(__name__)
VERBS = {"list": ("GET", "POST"), "document": ("GET", "PUT", "DELETE", "POST")}


@dataclass(frozen=True)
class ApiRoute:
    """A parsed /api path (v1 rules, also under /api/v1): list, document, method or unknown."""

    kind: str
    doctype: str | None = None
    name: str | None = None
    method: str | None = None

    @property
    def target(self) -> Target:
        if self.kind in ("list", "document"):
            return Target("resource", self.doctype)
        if self.kind == "method":
            return Target("method", self.method)
        return Target("other", None)


def parse_route(path: str) -> ApiRoute:
    """Trailing slashes are optional; a document name is the rest of the path (it may hold '/')."""
    rest = path.removeprefix("/api").strip("/")
    if rest.startswith("v1/"):
        rest = rest.removeprefix("v1/")
    head, _, tail = rest.partition("/")
    if head == "resource" and tail:
        doctype, _, name = tail.partition("/")
        return ApiRoute("document", doctype, name) if name else ApiRoute("list", doctype)
    if head == "method" and tail.split("/")[0]:
        return ApiRoute("method", method=tail.split("/")[0])
    return ApiRoute("unknown")


async def handle_api(request: Request, sandbox: Sandbox) -> Response:
    path = route_path(request)
    route = parse_route(path)
    body = await request.body()
    response = await _respond(request, sandbox, route, body)
    sandbox.traffic.record(
        request.method, path, route.target, response.status_code, request.headers.get("x-request-id")
    )
    return response


def route_path(request: Request) -> str:
    """The path inside this app, so the sandbox works when mounted under a prefix."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    return (path[len(root) :] if root and path.startswith(root) else path) or "/"


async def _respond(request: Request, sandbox: Sandbox, route: ApiRoute, body: bytes) -> Response:
    decision = sandbox.faults.decide(request.method, route.target.name)
    if decision.offline:
        return offline_response()
    if decision.latency_s:
        await asyncio.sleep(decision.latency_s)
    if decision.hang is not None and not decision.hang.after_commit:
        return await _hang(request, decision.hang)
    if decision.failure is not None and not decision.failure.after_commit:
        return failure_response(decision.failure)
    response = execute(sandbox, request, route, body, as_json=wants_json(request, route_path(request)))
    sandbox.persist_soon()
    if decision.hang is not None:  # after_commit: the work is done, its answer never comes
        return await _hang(request, decision.hang)
    if decision.failure is not None:  # after_commit: the work is done, its answer is lost
        return failure_response(decision.failure)
    return response


async def _hang(request: Request, rule: FaultRule) -> Response:
    """Hold the request until the client gives up (disconnects) or `hang_s` passes, then 504."""
    deadline = time.monotonic() + rule.hang_s
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return gateway_timeout()


def execute(sandbox: Sandbox, request: Request, route: ApiRoute, body: bytes, *, as_json: bool = True) -> Response:
    """Synchronous on purpose: read-validate-write of one request never interleaves with another."""
    unknown_site = sandbox.sites.unknown(request)
    if unknown_site is not None:  # init_request: no site, so no limiter, auth or error envelope either
        return unknown_site
    if sandbox.rate_limiter is None:
        return _execute(sandbox, request, route, body, as_json)
    admission = sandbox.rate_limiter.admit()
    if admission.rejected:  # before_request, ahead of auth: the error of TooManyRequestsError
        response = error_response(TooManyRequestsError(), [], as_json=as_json)
    else:
        response = _execute(sandbox, request, route, body, as_json)
    admission.finish()
    response.headers.update(admission.headers())
    return response


def _execute(sandbox: Sandbox, request: Request, route: ApiRoute, body: bytes, as_json: bool) -> Response:
    site_url = f"{request.url.scheme}://{request.url.netloc}"
    ctx = Context(sandbox.store, site_url=site_url, settings=sandbox.settings)
    verb = "GET" if request.method == "HEAD" else request.method
    try:
        with sandbox.store.transaction():
            form = read_form(request, body)
            ctx.user = authenticate(request.headers.get("authorization"), sandbox.keys)
            if verb == "OPTIONS":
                return Response(status_code=200, headers=NO_CACHE)
            if route.kind in VERBS and verb not in VERBS[route.kind]:
                return werkzeug_error(405, {"Allow": ", ".join(VERBS[route.kind])})
            status, payload = dispatch(ctx, route, verb, form, body)
    except FrappeError as error:
        return error_response(error, ctx.messages + error.messages, as_json=as_json)
    except Exception as exc:  # noqa: BLE001 - like Frappe: an unexpected exception is a 500 naming its class
        logger.info("sandbox: 500 for %s %s", request.method, request.url.path, exc_info=True)
        return error_response(python_error(exc), ctx.messages, as_json=as_json)
    if ctx.messages:
        payload["_server_messages"] = encode_messages(ctx.messages)
    return frappe_json(payload, status)


def python_error(exc: Exception) -> PythonError:
    """A non-Frappe exception reported the way Frappe reports it (class name, module-qualified line)."""
    module = type(exc).__module__
    return PythonError(type(exc).__name__, str(exc), module="" if module == "builtins" else module)


def dispatch(ctx: Context, route: ApiRoute, verb: str, form: dict, body: bytes) -> tuple[int, dict]:
    if route.kind == "method":
        return 200, call_method(ctx, route.method or "", verb, form)
    if route.kind == "list":
        if verb == "GET":
            return resources.list_resource(ctx, route.doctype or "", form)
        return resources.create_resource(ctx, route.doctype or "", form, body)
    if route.kind == "document":
        return _document(ctx, route, verb, form, body)
    raise DoesNotExistError()


def _document(ctx: Context, route: ApiRoute, verb: str, form: dict, body: bytes) -> tuple[int, dict]:
    doctype, name = route.doctype or "", route.name or ""
    if verb == "GET":
        return resources.read_resource(ctx, doctype, name, form)
    if verb == "PUT":
        return resources.update_resource(ctx, doctype, name, form, body)
    if verb == "DELETE":
        return resources.delete_resource(ctx, doctype, name)
    return resources.run_doc_method(ctx, doctype, name, form)


def read_form(request: Request, body: bytes) -> dict:
    """make_form_dict: a JSON object body *is* the arguments; otherwise query string plus form fields."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and (
        content_type == "application/json"
        or (content_type.startswith("application/") and content_type.endswith("+json"))
    ):
        parsed = _json_body(body)
        if isinstance(parsed, dict):
            form = parsed
        elif isinstance(parsed, list):
            form = {"data": parsed}
        else:
            throw("Invalid request arguments")
    else:
        form = {}
        for key, value in request.query_params.multi_items():
            form.setdefault(key, value)
        if content_type == "application/x-www-form-urlencoded":
            form.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    form.pop("_", None)
    return form


def _json_body(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PythonError("JSONDecodeError", str(exc), module="orjson") from exc
