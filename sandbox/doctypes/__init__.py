"""Every DocType the sandbox knows, with its controller. One explicit list; nothing is discovered."""

from __future__ import annotations

from ..errors import DoesNotExistError, throw
from ..meta import DocType
from .account import Account
from .base import Controller
from .company import Company
from .cost_center import CostCenter
from .customer import Customer
from .department import Department
from .groups import CustomerGroup, ItemGroup, Territory
from .masters import Country, Currency
from .mode_of_payment import ModeOfPayment
from .pos_profile import POSProfile
from .price_list import PriceList
from .user import Role, User
from .user_permission import UserPermission
from .warehouse import Warehouse, WarehouseType

CONTROLLERS: dict[str, Controller] = {
    controller.meta.name: controller
    for controller in (
        Company(),
        Account(),
        CostCenter(),
        Warehouse(),
        WarehouseType(),
        ModeOfPayment(),
        POSProfile(),
        PriceList(),
        Customer(),
        Department(),
        CustomerGroup(),
        Territory(),
        ItemGroup(),
        User(),
        UserPermission(),
        Role(),
        Country(),
        Currency(),
    )
}


def _child_tables() -> dict[str, tuple[DocType, str]]:
    """Child DocType name → (its meta, the first parent DocType that holds it)."""
    found: dict[str, tuple[DocType, str]] = {}
    for controller in CONTROLLERS.values():
        for field in controller.meta.table_fields:
            assert field.child is not None
            found.setdefault(field.child.name, (field.child, controller.meta.name))
    return found


CHILD_TABLES = _child_tables()
ALL_DOCTYPES = frozenset(CONTROLLERS) | frozenset(CHILD_TABLES)
_CANONICAL = {name.casefold(): name for name in ALL_DOCTYPES}


def controller_of(doctype: str) -> Controller:
    """The controller of a top-level DocType; unknown DocTypes are 404 "DocType X not found"."""
    controller = CONTROLLERS.get(doctype)
    if controller is None:
        raise_unknown(doctype)
    return controller  # type: ignore[return-value]


def meta_of(doctype: str) -> DocType:
    """Meta of any DocType, child tables included."""
    if doctype in CONTROLLERS:
        return CONTROLLERS[doctype].meta
    if doctype in CHILD_TABLES:
        return CHILD_TABLES[doctype][0]
    raise_unknown(doctype)
    raise AssertionError("unreachable")


def is_child_table(doctype: str) -> bool:
    return doctype in CHILD_TABLES


def canonical_doctype(name: str) -> str | None:
    """The DocType record a Link to "DocType" names (looked up case-insensitively, like MariaDB)."""
    return _CANONICAL.get(str(name).casefold())


def raise_unknown(doctype: str) -> None:
    throw(f"DocType {doctype} not found", DoesNotExistError)
