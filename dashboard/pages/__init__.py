"""NiceGUI pages, one module per route; importing this package registers them all."""

from dashboard.pages import audit, engines, login, metrics, overview, tenant_detail, tenants, users  # noqa: F401
