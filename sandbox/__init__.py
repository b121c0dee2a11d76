"""A strict in-memory simulator of the ERPNext/Frappe v15 REST API subset Provisioner uses.

Behaviour follows shared/ERPNEXT.md; the control API follows shared/DESIGN.md ("The sandbox").

Layout:
    app.py        create_app(): /api routes plus the /__sandbox__ control API
    api.py        one /api request: route, faults, site, auth, transaction, JSON envelope
    sites.py      the site names /api answers for (Host / X-Frappe-Site-Name; others are a 404)
    error_pages.py  JSON envelope or, for an Accept starting with "text", ERPNext's error page
    resources.py  /api/resource handlers        methods.py  whitelisted /api/method functions
    lifecycle.py  insert / save / delete in Frappe's order of checks
    checks.py     framework checks (links, mandatory, selects, length, set-only-once, unique)
    queries.py    list queries, counts, get_value  filters.py  filter syntaxes and operators
    doctypes/     one module per DocType: fields (meta) and controller rules
    chart.py      the Standard chart of accounts   seed.py     post-setup-wizard records
    store.py      documents, `modified` clock, transactions; errors.py  Frappe exceptions
    faults.py, traffic.py, control.py, state.py   fault rules, counters/log, control API, per-app state
"""

from .app import create_app

__all__ = ["create_app"]
