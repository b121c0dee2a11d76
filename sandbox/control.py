"""The control API under /__sandbox__ (JSON in and out): faults, site names, API keys, the outgoing
e-mail account, stats, request log, documents, reset. It answers whatever the Host: it is the
sandbox's own, not the simulated site's."""

from __future__ import annotations

import json
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .auth import ApiKeyError
from .doctypes import CONTROLLERS
from .faults import RuleError
from .records import as_response
from .state import Sandbox


class ControlApi:
    """Handlers bound to one sandbox; `routes()` is mounted under /__sandbox__ by the app."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("/faults", self.add_fault, methods=["POST"]),
            Route("/faults", self.list_faults, methods=["GET"]),
            Route("/faults", self.clear_faults, methods=["DELETE"]),
            Route("/faults/{rule_id:int}", self.delete_fault, methods=["DELETE"]),
            Route("/sites", self.list_sites, methods=["GET"]),
            Route("/sites", self.add_site, methods=["POST"]),
            Route("/api-keys", self.list_api_keys, methods=["GET"]),
            Route("/api-keys", self.add_api_key, methods=["POST"]),
            Route("/email-account", self.email_account, methods=["GET"]),
            Route("/email-account", self.set_email_account, methods=["POST"]),
            Route("/stats", self.stats, methods=["GET"]),
            Route("/requests", self.requests_log, methods=["GET"]),
            Route("/documents/{doctype}", self.documents, methods=["GET"]),
            Route("/reset", self.reset, methods=["POST"]),
        ]

    async def add_fault(self, request: Request) -> JSONResponse:
        """Add a rule and echo it with its `id`; an invalid body is 422 with a `detail` message."""
        try:
            rule = self.sandbox.faults.add(json.loads(await request.body() or b"null"))
        except (ValueError, RuleError) as exc:
            return JSONResponse({"detail": f"invalid fault rule: {exc}"}, 422)
        return JSONResponse(rule.to_json())

    async def list_faults(self, request: Request) -> JSONResponse:
        return JSONResponse([rule.to_json() for rule in self.sandbox.faults.rules.values()])

    async def clear_faults(self, request: Request) -> JSONResponse:
        return JSONResponse({"deleted": self.sandbox.faults.clear()})

    async def delete_fault(self, request: Request) -> JSONResponse:
        rule_id = request.path_params["rule_id"]
        if not self.sandbox.faults.remove(rule_id):
            return JSONResponse({"detail": f"no fault rule {rule_id}"}, 404)
        return JSONResponse({"deleted": rule_id})

    async def list_sites(self, request: Request) -> JSONResponse:
        return JSONResponse({"sites": sorted(self.sandbox.sites.names)})

    async def add_site(self, request: Request) -> JSONResponse:
        """`{"name": "erp.example.com"}`: /api answers for that Host too (kept by a reset, like the keys)."""
        try:
            body = json.loads(await request.body() or b"null")
            name = self.sandbox.sites.add(body.get("name") if isinstance(body, dict) else None)
        except ValueError as exc:  # not JSON, or a SiteNameError
            return JSONResponse({"detail": f"invalid site name: {exc}"}, 422)
        return JSONResponse({"site": name, "sites": sorted(self.sandbox.sites.names)})

    async def list_api_keys(self, request: Request) -> JSONResponse:
        """Every key and its user (never a secret)."""
        return JSONResponse({"api_keys": self.sandbox.keys.users()})

    async def add_api_key(self, request: Request) -> JSONResponse:
        """`{"key", "secret", "user"}`: `token KEY:SECRET` acts as that user from now on, so a person can
        make documents as somebody else (kept by a reset, like the sites; not kept across a restart)."""
        try:
            body = json.loads(await request.body() or b"null")
            if not isinstance(body, dict):
                raise ApiKeyError('give a JSON object {"key": ..., "secret": ..., "user": ...}')
            key = self.sandbox.keys.add(body.get("key"), body.get("secret"), body.get("user"))
        except ValueError as exc:  # not JSON, or an ApiKeyError
            return JSONResponse({"detail": f"invalid API key: {exc}"}, 422)
        return JSONResponse({"key": key, "user": self.sandbox.keys.users()[key]})

    async def email_account(self, request: Request) -> JSONResponse:
        return JSONResponse({"present": self.sandbox.settings.email_account})

    async def set_email_account(self, request: Request) -> JSONResponse:
        """`{"present": false}`: the site has no outgoing Email Account from now on (a setting: kept by a
        reset, not by a restart); `true` gives it one again."""
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        present = body.get("present") if isinstance(body, dict) else None
        if not isinstance(present, bool):
            return JSONResponse({"detail": 'give a JSON object {"present": true} or {"present": false}'}, 422)
        self.sandbox.settings = replace(self.sandbox.settings, email_account=present)
        return JSONResponse({"present": present})

    async def stats(self, request: Request) -> JSONResponse:
        return JSONResponse(self.sandbox.stats())

    async def requests_log(self, request: Request) -> JSONResponse:
        """The last 10,000 /api requests, oldest first."""
        return JSONResponse(list(self.sandbox.traffic.log))

    async def documents(self, request: Request) -> JSONResponse:
        """Every document of a DocType as GET /api/resource returns it (nulls omitted), oldest first."""
        doctype = request.path_params["doctype"]
        if doctype not in CONTROLLERS:
            return JSONResponse({"detail": f"unknown doctype {doctype}"}, 404)
        docs = sorted(self.sandbox.store.all(doctype), key=lambda doc: doc["creation"])
        return JSONResponse([as_response(doc) for doc in docs])

    async def reset(self, request: Request) -> JSONResponse:
        self.sandbox.reset()
        self.sandbox.persist_soon()
        return JSONResponse({"reset": True})
