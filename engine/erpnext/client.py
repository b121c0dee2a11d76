"""An async client for the Frappe/ERPNext v1 REST API.

One `ERPNextClient` per engine owns a connection pool (pool.py); `bound(request_id)` gives a cheap
view that shares the pool and sends the run's correlation id as `X-Request-ID` and counts its own
requests. Every failure leaves this module as an `ERPNextError` (see errors.py): steps never see
httpx exceptions. With a `Throttle` (throttle.py) every request waits for the engine's request
budget, and a 429's Retry-After pauses the whole engine.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import structlog
from aiohttp.abc import AbstractResolver
from httpx_aiohttp import AiohttpTransport

from engine.erpnext import envelope, errors
from engine.erpnext.guarded_resolver import GuardedResolver
from engine.erpnext.pool import Pool
from engine.erpnext.throttle import Throttle

log = structlog.get_logger('erpnext')

DEFAULT_TIMEOUT = 15.0
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
# The embedded sandbox's demo secret is published (README, DESIGN.md) and is an ordinary word: masking
# it would only garble the sandbox's own messages ("Injected fault (*** rule 1)"). ERPNext generates
# real secrets (15 random characters), which are always masked.
PUBLIC_SECRETS = frozenset({'sandbox'})
Filters = dict[str, Any] | list[list[Any]]
BeforeWrite = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Saved:
    """What an insert answered: `doc`, the document as ERPNext saved it, and `messages`, the plain texts
    of the `_server_messages` it sent along (notes and alerts of a request that succeeded, e.g.
    "Welcome email sent")."""

    doc: dict[str, Any]
    messages: tuple[str, ...] = ()


class ERPNextClient:
    """Talks to one ERPNext site with token authentication."""

    def __init__(self, base_url: str, api_key: str, api_secret: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None, owns_transport: bool = False,
                 request_id: str | None = None, throttle: Throttle | None = None,
                 before_write: BeforeWrite | None = None, _http: Pool | None = None,
                 _root: ERPNextClient | None = None) -> None:
        """`transport`: where requests go (default: a network pool of the client's own). A given
        transport stays its caller's, who may share it, unless `owns_transport`: then closing the
        client closes it too."""
        self.base_url = base_url.rstrip('/')
        self.before_write = before_write
        self._secret = api_secret
        self.request_id = request_id
        self.throttle = throttle  # shared by every view of this engine's client
        self.requests: Counter[str] = Counter()
        self.cut_off: list[str] = []  # requests a cancellation (a step's time limit) cut short: take_cut_off()
        self._owns_http = _http is None
        self._root = _root or self
        self._views: weakref.WeakSet[ERPNextClient] = weakref.WeakSet()  # on the root: its live bound views
        self._http = _http or Pool(self.base_url, transport or network_transport(),
                                   timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                   headers={'Authorization': f'token {api_key}:{api_secret}'},
                                   owns_transport=transport is None or owns_transport)
        self._api_key = api_key

    def bound(self, request_id: str, *, before_write: BeforeWrite | None = None) -> ERPNextClient:
        """A view on the same connection pool that tags every request with `request_id`; with
        `before_write`, every POST, PUT or DELETE first awaits it (it may raise to stop the write)."""
        view = ERPNextClient(self.base_url, self._api_key, self._secret, request_id=request_id,
                             throttle=self.throttle, before_write=before_write, _http=self._http, _root=self._root)
        self._root._views.add(view)
        return view

    def take_cut_off(self) -> list[str]:
        """The requests of this view a cancellation cut short since the last call, as `POST Customer
        'Walk-in Customer - AR'` (what was in flight when a step ran out of time)."""
        taken, self.cut_off = self.cut_off, []
        return taken

    @property
    def in_use(self) -> bool:
        """Whether a bound view of this client (a run or a drift check holding it) still exists."""
        return bool(self._root._views)

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ERPNextClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- methods -------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Reachability, without credentials (`ping` allows Guest)."""
        await self.call('ping', auth=False)

    async def logged_user(self) -> str:
        """The user the API key acts as: proves the credentials."""
        user = await self.call('frappe.auth.get_logged_user')
        if not isinstance(user, str) or not user:
            raise self._invalid('frappe.auth.get_logged_user', 'GET', None, 'no user name in the answer')
        return user

    async def versions(self) -> dict[str, Any]:
        """Installed apps and versions (`{"frappe": {"version": ...}, "erpnext": {...}}`)."""
        result = await self.call('frappe.utils.change_log.get_versions')
        return result if isinstance(result, dict) else {}

    async def call(self, method: str, *, http_method: str = 'GET', params: dict[str, Any] | None = None,
                   json: Any = None, auth: bool = True) -> Any:
        """Call a whitelisted method; returns its `message` (None when the method returned nothing)."""
        body = await self._send(http_method, f'/api/method/{method}', doctype=f'method:{method}',
                                params=params, json=json, auth=auth)
        if not isinstance(body, dict):
            raise self._invalid(f'method:{method}', http_method, None, 'expected a JSON object')
        return body.get('message')

    # -- documents -----------------------------------------------------------------------------

    async def get_doc(self, doctype: str, name: str) -> dict[str, Any]:
        """One document; raises NotFoundError when it does not exist."""
        return self._doc(await self._send('GET', _doc_path(doctype, name), doctype=doctype, name=name),
                         doctype, 'GET', name)

    async def find_doc(self, doctype: str, name: str) -> dict[str, Any] | None:
        """One document, or None when it does not exist."""
        try:
            return await self.get_doc(doctype, name)
        except errors.NotFoundError:
            return None

    async def get_list(self, doctype: str, *, filters: Filters | None = None, fields: list[str] | None = None,
                       or_filters: Filters | None = None, order_by: str | None = None,
                       limit: int = 0) -> list[dict[str, Any]]:
        """Rows of `doctype` matching the filters; `limit=0` means all rows."""
        params: dict[str, Any] = {'fields': json.dumps(fields or ['name']), 'limit_page_length': limit}
        if filters:
            params['filters'] = json.dumps(filters)
        if or_filters:
            params['or_filters'] = json.dumps(or_filters)
        if order_by:
            params['order_by'] = order_by
        body = await self._send('GET', _list_path(doctype), doctype=doctype, params=params)
        rows = body.get('data') if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise self._invalid(doctype, 'GET', None, 'expected {"data": [rows]}')
        return rows

    async def insert(self, doctype: str, doc: dict[str, Any], *, name: str | None = None) -> Saved:
        """Create a document; returns it as saved (ERPNext may have renamed or completed it) with the
        notes ERPNext sent along. `name`: the name ERPNext will give it, for errors to name it (when
        `doc` has no `name` of its own)."""
        name = doc.get('name') or name
        body = await self._send('POST', _list_path(doctype), doctype=doctype, json=doc, name=name)
        return Saved(self._doc(body, doctype, 'POST', name),
                     tuple(self._redact(text) for text in envelope.server_messages(body)))

    async def insert_many(self, docs: list[dict[str, Any]]) -> list[str]:
        """Insert documents (each with its `doctype`) in one request and one transaction: all or none.
        A row of a child-table DocType (with `parenttype`, `parent`, `parentfield`) is appended to its
        parent on the server, so the parent's other rows are neither sent nor received. Returns the
        names inserted (a child row's is its parent's)."""
        names = await self.call('frappe.client.insert_many', http_method='POST', json={'docs': docs})
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise self._invalid('method:frappe.client.insert_many', 'POST', None, 'expected {"message": [names]}')
        return names

    async def update(self, doctype: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Partial update. A child-table key replaces the whole table; `modified` enables the
        optimistic-lock check (TimestampMismatchError when stale)."""
        body = await self._send('PUT', _doc_path(doctype, name), doctype=doctype, name=name, json=changes)
        return self._doc(body, doctype, 'PUT', name)

    async def delete(self, doctype: str, name: str) -> None:
        await self._send('DELETE', _doc_path(doctype, name), doctype=doctype, name=name)

    # -- transport -----------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, doctype: str, name: str | None = None,
                    params: dict[str, Any] | None = None, json: Any = None, auth: bool = True) -> Any:
        if self.before_write is not None and method != 'GET':
            await self.before_write()
        self.requests[f'{method} {doctype}'] += 1
        headers = {'X-Request-ID': self.request_id} if self.request_id else {}
        if not auth:
            headers['Authorization'] = ''
        context = {'method': method, 'doctype': doctype, 'name': name, 'request_id': self.request_id}
        if self.throttle is not None:
            await self.throttle.acquire()
        started = time.perf_counter()
        try:
            response = await self._http.request(method, path, params=params, json=json, headers=headers)
        except asyncio.CancelledError:  # a step's time limit, a cancel or a shutdown: the request is cut off
            self._log(context, started, 'cancelled')
            self.cut_off.append(describe(method, doctype, name))
            raise
        except (httpx.HTTPError, aiohttp.ClientError, TimeoutError) as exc:
            if _timed_out(exc):
                self._log(context, started, 'timeout')
                raise errors.RequestTimeoutError(
                    f'ERPNext did not answer {describe(method, doctype, name)} in time (within '
                    f'{self._http.deadline_s:g} s)', **context) from exc
            self._log(context, started, 'unreachable')
            raise errors.UnavailableError(f'ERPNext at {self.base_url} is unreachable: {_reason(exc)}',
                                          **context) from exc
        self._log(context, started, response.status_code)
        return self._read(response, context)

    def _read(self, response: httpx.Response, context: dict[str, Any]) -> Any:
        try:
            body = envelope.parse_json(response.content)
        except ValueError:
            body = None
        if response.is_success:
            if body is None:
                raise errors.InvalidResponseError(
                    f'ERPNext answered {context["method"]} {context["doctype"]} with a body that is not JSON',
                    status=response.status_code, **context)
            return body
        raise self._error(response, body, context)

    def _error(self, response: httpx.Response, body: Any, context: dict[str, Any]) -> errors.ERPNextError:
        status = response.status_code
        exc_type = body.get('exc_type') if isinstance(body, dict) else None
        cls = envelope.error_class(status, exc_type if isinstance(exc_type, str) else None, context['method'])
        if body is None:
            text = f'HTTP {status} {response.reason_phrase} (not a JSON answer: a proxy or error page)'
        else:
            text = envelope.error_message(body, status)
        if cls is errors.QueryRefusedError:
            text = (f'Provisioner sent a query ERPNext refuses ({context["method"]} {context["doctype"]}): {text}. '
                    'This is a Provisioner bug: report it with the correlation id of the run')
        message = envelope.shorten(self._redact(text))
        kwargs = dict(status=status, exc_type=exc_type if isinstance(exc_type, str) else None, **context)
        if cls is errors.RateLimitedError:
            retry_after = envelope.retry_after(response.headers.get('Retry-After'))
            if self.throttle is not None:
                self.throttle.pause(retry_after)  # every run on this engine waits, not only this one
            return cls(message, retry_after=retry_after, **kwargs)
        return cls(message, **kwargs)

    def _doc(self, body: Any, doctype: str, method: str, name: str | None) -> dict[str, Any]:
        data = body.get('data') if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get('name'), str):
            raise self._invalid(doctype, method, name, 'expected {"data": {document}}')
        return data

    def _invalid(self, doctype: str, method: str, name: str | None, what: str) -> errors.InvalidResponseError:
        return errors.InvalidResponseError(f'Unexpected answer from ERPNext to {method} {doctype}: {what}',
                                           method=method, doctype=doctype, name=name, request_id=self.request_id)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, '***') if self._secret and self._secret not in PUBLIC_SECRETS else text

    def _log(self, context: dict[str, Any], started: float, outcome: int | str) -> None:
        log.info('erpnext.request', method=context['method'], doctype=context['doctype'],
                  duration_ms=round((time.perf_counter() - started) * 1000, 1), outcome=outcome,
                  correlation_id=self.request_id)


def describe(method: str, doctype: str, name: str | None) -> str:
    """A request as messages name it: `POST Customer 'Walk-in Customer - AR'`."""
    return f"{method} {doctype} '{name}'" if name else f'{method} {doctype}'


def _timed_out(exc: BaseException) -> bool:
    """A timeout, as opposed to a refused, reset or garbled connection. The aiohttp transport
    reports every connection error as httpx's ConnectTimeout, so its cause decides."""
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) and exc.__cause__ is not None else exc
    return isinstance(cause, TimeoutError | httpx.TimeoutException)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) and exc.__cause__ is not None else exc
    if isinstance(cause, aiohttp.ClientConnectorError):
        return f'cannot connect ({cause.os_error.strerror or type(cause.os_error).__name__})'
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return 'the connection was closed before an answer'
    return type(cause).__name__


def network_transport(resolver: AbstractResolver | None = None) -> httpx.AsyncBaseTransport:
    """httpx's API over aiohttp's connection pool and C HTTP parser: under many concurrent runs it
    costs about a quarter of the CPU per request of httpx's own pool (docs/BENCHMARKS.md). Host names
    are looked up by `resolver` (aiohttp's default unless given) through a GuardedResolver, so no
    connection goes to a cloud metadata or link-local address."""
    return _GuardedTransport(resolver, limits=DEFAULT_LIMITS)


class _GuardedTransport(AiohttpTransport):
    """AiohttpTransport whose connector resolves names through a GuardedResolver (its session is made
    at the first request, on the running loop, as AiohttpTransport makes its own)."""

    def __init__(self, resolver: AbstractResolver | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner_resolver = resolver
        self.resolver: GuardedResolver | None = None

    def get_client(self) -> aiohttp.ClientSession:
        self.resolver = GuardedResolver(self.inner_resolver)
        connector = aiohttp.TCPConnector(keepalive_timeout=self.limits.keepalive_expiry, ssl=self.ssl_context,
                                         limit=self.limits.max_connections or 0, resolver=self.resolver)
        return aiohttp.ClientSession(connector=connector)

    async def aclose(self) -> None:
        await super().aclose()
        if self.resolver is not None:  # the connector closes only a resolver of its own making
            await self.resolver.close()


def _list_path(doctype: str) -> str:
    return f'/api/resource/{quote(doctype, safe="")}'


def _doc_path(doctype: str, name: str) -> str:
    return f'{_list_path(doctype)}/{quote(name, safe="")}'
