"""Price List (erpnext/stock/doctype/price_list/price_list.py)."""

from __future__ import annotations

from ..context import Context
from ..errors import throw
from ..meta import DocType, check, data, link, table
from .base import Controller

COUNTRY_META = DocType(
    "Price List Country", (link("country", "Country", "Country", reqd=True),), istable=True
)

META = DocType(
    "Price List",
    (
        check("enabled", "Enabled", default=1),
        data("price_list_name", "Price List Name", reqd=True, unique=True),
        link("currency", "Currency", "Currency", reqd=True),
        check("buying", "Buying"),
        check("selling", "Selling"),
        check("price_not_uom_dependent", "Price Not UOM Dependent"),
        table("countries", "Applicable for Countries", COUNTRY_META),
    ),
    autoname="field:price_list_name",
)


class PriceList(Controller):
    """Must be for buying or selling."""

    meta = META

    def validate(self, doc: dict, ctx: Context, before: dict | None) -> None:
        if not doc["buying"] and not doc["selling"]:
            throw("Price List must be applicable for Buying or Selling")
