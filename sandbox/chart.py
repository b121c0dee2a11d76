"""The "Standard" chart of accounts a Company insert builds (ERPNEXT.md §5.1).

Source: erpnext/accounts/doctype/account/chart_of_accounts/verified/standard_chart_of_accounts.py,
imported the way chart_of_accounts.create_charts does: a node with children (or is_group) is a
group, root_type comes from the root, report_type from the root_type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

FIXED = {"account_type": "Fixed Asset"}
EQUITY = {"account_type": "Equity"}
RESERVED_KEYS = {
    "account_name",
    "account_number",
    "account_type",
    "root_type",
    "is_group",
    "tax_rate",
    "account_currency",
}
BALANCE_SHEET_ROOTS = ("Asset", "Liability", "Equity")


def _same_name_type(*names: str) -> dict:
    return {name: {"account_type": name} for name in names}


STANDARD_CHART: dict = {
    "Application of Funds (Assets)": {
        "Current Assets": {
            "Accounts Receivable": {"Debtors": {"account_type": "Receivable"}},
            "Bank Accounts": {"account_type": "Bank", "is_group": 1},
            "Cash In Hand": {"Cash": {"account_type": "Cash"}, "account_type": "Cash"},
            "Loans and Advances (Assets)": {"Employee Advances": {}},
            "Securities and Deposits": {"Earnest Money": {}},
            "Stock Assets": {"Stock In Hand": {"account_type": "Stock"}, "account_type": "Stock"},
            "Tax Assets": {"is_group": 1},
        },
        "Fixed Assets": {
            "Capital Equipments": FIXED,
            "Electronic Equipments": FIXED,
            "Furnitures and Fixtures": FIXED,
            "Office Equipments": FIXED,
            "Plants and Machineries": FIXED,
            "Buildings": FIXED,
            "Softwares": FIXED,
            "Accumulated Depreciation": {"account_type": "Accumulated Depreciation"},
            "CWIP Account": {"account_type": "Capital Work in Progress"},
        },
        "Investments": {"is_group": 1},
        "Temporary Accounts": {"Temporary Opening": {"account_type": "Temporary"}},
        "root_type": "Asset",
    },
    "Expenses": {
        "Direct Expenses": {
            "Stock Expenses": {
                "Cost of Goods Sold": {"account_type": "Cost of Goods Sold"},
                **_same_name_type("Expenses Included In Asset Valuation", "Expenses Included In Valuation"),
                "Stock Adjustment": {"account_type": "Stock Adjustment"},
            },
        },
        "Indirect Expenses": {
            "Administrative Expenses": {},
            "Commission on Sales": {},
            "Depreciation": {"account_type": "Depreciation"},
            "Entertainment Expenses": {},
            "Freight and Forwarding Charges": {"account_type": "Chargeable"},
            "Legal Expenses": {},
            "Marketing Expenses": {"account_type": "Chargeable"},
            "Miscellaneous Expenses": {"account_type": "Chargeable"},
            "Office Maintenance Expenses": {},
            "Office Rent": {},
            "Postal Expenses": {},
            "Print and Stationery": {},
            "Round Off": {"account_type": "Round Off"},
            "Salary": {},
            "Sales Expenses": {},
            "Telephone Expenses": {},
            "Travel Expenses": {},
            "Utility Expenses": {},
            "Write Off": {},
            "Exchange Gain/Loss": {},
            "Gain/Loss on Asset Disposal": {},
            "Impairment": {},
        },
        "root_type": "Expense",
    },
    "Income": {
        "Direct Income": {"Sales": {}, "Service": {}},
        "Indirect Income": {"is_group": 1},
        "root_type": "Income",
    },
    "Source of Funds (Liabilities)": {
        "Current Liabilities": {
            "Accounts Payable": {"Creditors": {"account_type": "Payable"}, "Payroll Payable": {}},
            "Stock Liabilities": _same_name_type(
                "Stock Received But Not Billed", "Asset Received But Not Billed"
            ),
            "Duties and Taxes": {"account_type": "Tax", "is_group": 1},
            "Loans (Liabilities)": {"Secured Loans": {}, "Unsecured Loans": {}, "Bank Overdraft Account": {}},
        },
        "root_type": "Liability",
    },
    "Equity": {
        "Capital Stock": EQUITY,
        "Dividends Paid": EQUITY,
        "Opening Balance Equity": EQUITY,
        "Retained Earnings": EQUITY,
        "Revaluation Surplus": EQUITY,
        "root_type": "Equity",
    },
}


@dataclass(frozen=True)
class ChartAccount:
    """One account of a chart, parents before children."""

    account_name: str
    parent_name: str | None  # account_name of the parent
    is_group: int
    root_type: str
    account_type: str
    account_number: str | None = None

    @property
    def report_type(self) -> str:
        return "Balance Sheet" if self.root_type in BALANCE_SHEET_ROOTS else "Profit and Loss"


def standard_accounts() -> list[ChartAccount]:
    """The Standard chart flattened in import order."""
    return list(_walk(STANDARD_CHART, None, ""))


def _walk(children: dict, parent: str | None, root_type: str) -> Iterator[ChartAccount]:
    for name, node in children.items():
        if name in RESERVED_KEYS:
            continue
        node_root = node.get("root_type", root_type) if parent is None else root_type
        yield ChartAccount(name, parent, _is_group(node), node_root, node.get("account_type", ""))
        yield from _walk(node, name, node_root)


def _is_group(node: dict) -> int:
    if node.get("is_group"):
        return 1
    return 1 if set(node) - RESERVED_KEYS else 0
