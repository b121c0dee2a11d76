"""Reference masters seeded from pycountry: Country and Currency (no server-side rules)."""

from __future__ import annotations

from ..meta import DocType, Field, check, data
from .base import Controller

COUNTRY_META = DocType(
    "Country",
    (
        data("country_name", "Country Name", reqd=True, unique=True),
        data("date_format", "Date Format"),
        data("time_format", "Time Format"),
        Field("time_zones", "Time Zones", "Text"),
        data("code", "Code"),
    ),
    autoname="field:country_name",
)

CURRENCY_META = DocType(
    "Currency",
    (
        data("currency_name", "Currency Name", reqd=True, unique=True),
        check("enabled", "Enabled"),
        data("fraction", "Fraction"),
        Field("fraction_units", "Fraction Units", "Int"),
        Field("smallest_currency_fraction_value", "Smallest Currency Fraction Value", "Currency"),
        data("symbol", "Symbol"),
        check("symbol_on_right", "Show Currency Symbol on Right Side"),
        data("number_format", "Number Format"),
    ),
    autoname="field:currency_name",
)


class Country(Controller):
    meta = COUNTRY_META


class Currency(Controller):
    meta = CURRENCY_META
