"""Records a site has after the setup wizard, before any tenant exists (ERPNEXT.md §6.7).

The wizard's country is the United States (currency USD); no Company exists. The seed is built
once per process and copied into each new store.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import pycountry

from .doctypes import CONTROLLERS
from .records import adopt_children, new_record, stored_copy
from .store import Clock, Store

SETUP_COUNTRY = "United States"
SETUP_CURRENCY = "USD"
SEEDED_AT = datetime(2024, 1, 1, 9, 0, 0)
# "Check" on a real US site; the brief asks for the international "Cheque".
MODES_OF_PAYMENT = (
    ("Cheque", "Bank"),
    ("Cash", "Cash"),
    ("Credit Card", "Bank"),
    ("Wire Transfer", "Bank"),
    ("Bank Draft", "Bank"),
)
ROLES_WITHOUT_DESK = ("Guest", "All", "Customer", "Supplier", "Website Manager")
ROLES = (
    "Administrator", "System Manager", "Guest", "All", "Desk User", "Accounts Manager", "Accounts User",
    "Sales User", "Sales Manager", "Sales Master Manager", "Stock User", "Stock Manager", "Item Manager",
    "Purchase User", "Purchase Manager", "Purchase Master Manager", "HR User", "HR Manager", "Report Manager",
    "Maintenance User", "Maintenance Manager", "Projects User", "Projects Manager", "Employee", "Customer",
    "Supplier", "Website Manager", "Blogger", "Auditor",
)  # fmt: skip
TREES = {
    "Customer Group": ("All Customer Groups", ("Individual", "Commercial", "Non Profit", "Government")),
    "Territory": ("All Territories", (SETUP_COUNTRY, "Rest Of The World")),
    "Item Group": (
        "All Item Groups",
        ("Products", "Raw Material", "Services", "Sub Assemblies", "Consumable"),
    ),
}
TREE_FIELDS = {
    "Customer Group": ("customer_group_name", "parent_customer_group"),
    "Territory": ("territory_name", "parent_territory"),
    "Item Group": ("item_group_name", "parent_item_group"),
}


def load_seed(store: Store) -> None:
    """Fill an empty store with the seed records."""
    for doc in seed_documents():
        store.put(stored_copy(doc))


@cache
def seed_documents() -> tuple[dict, ...]:
    clock = Clock(SEEDED_AT)
    docs = []
    for doctype, name, values in _seed_values():
        doc = new_record(CONTROLLERS[doctype].meta, values, user="Administrator", now=clock.tick())
        doc["name"] = name
        adopt_children(doc, CONTROLLERS[doctype].meta)
        docs.append(doc)
    return tuple(docs)


def _seed_values() -> list[tuple[str, str, dict]]:
    return [*_roles(), *_users(), *_countries(), *_currencies(), *_setup_fixtures(), *_trees()]


def _roles() -> list[tuple[str, str, dict]]:
    return [
        ("Role", role, {"role_name": role, "desk_access": int(role not in ROLES_WITHOUT_DESK)})
        for role in ROLES
    ]


def _users() -> list[tuple[str, str, dict]]:
    admin = {
        "email": "admin@example.com",
        "first_name": "Administrator",
        "full_name": "Administrator",
        "username": "administrator",
        "send_welcome_email": 0,
        "user_type": "System User",
        "roles": [{"role": "Administrator"}, {"role": "System Manager"}],
    }
    guest = {"email": "guest@example.com", "first_name": "Guest", "full_name": "Guest", "username": "guest"}
    guest.update(send_welcome_email=0, user_type="Website User", roles=[{"role": "Guest"}])
    return [("User", "Administrator", admin), ("User", "Guest", guest)]


def _countries() -> list[tuple[str, str, dict]]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None)):
            if name:
                names.setdefault(name, country.alpha_2.lower())
    return [("Country", name, {"country_name": name, "code": code}) for name, code in names.items()]


def _currencies() -> list[tuple[str, str, dict]]:
    codes = sorted(currency.alpha_3 for currency in pycountry.currencies)
    return [
        ("Currency", code, {"currency_name": code, "enabled": int(code == SETUP_CURRENCY)}) for code in codes
    ]


def _setup_fixtures() -> list[tuple[str, str, dict]]:
    modes = [
        ("Mode of Payment", name, {"mode_of_payment": name, "type": kind}) for name, kind in MODES_OF_PAYMENT
    ]
    price_lists = [
        (
            "Price List",
            "Standard Buying",
            {"price_list_name": "Standard Buying", "currency": SETUP_CURRENCY, "buying": 1},
        ),
        (
            "Price List",
            "Standard Selling",
            {"price_list_name": "Standard Selling", "currency": SETUP_CURRENCY, "selling": 1},
        ),
    ]
    return [("Warehouse Type", "Transit", {}), *modes, *price_lists]


def _trees() -> list[tuple[str, str, dict]]:
    records = []
    for doctype, (root, leaves) in TREES.items():
        name_field, parent_field = TREE_FIELDS[doctype]
        records.append((doctype, root, {name_field: root, "is_group": 1}))
        records += [(doctype, leaf, {name_field: leaf, parent_field: root}) for leaf in leaves]
    return records
