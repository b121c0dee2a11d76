"""NestedSet behaviour of tree DocTypes (frappe/utils/nestedset.py), walked through parent links.

Frappe keeps lft/rgt numbers; the sandbox answers the same questions (descendants, ancestors,
loops, children) from the parent field, which the store indexes.
"""

from __future__ import annotations

from .errors import NestedSetChildExistsError, NestedSetRecursionError, throw
from .meta import DocType
from .store import Store, fold


def children(store: Store, meta: DocType, name: str) -> list[dict]:
    assert meta.tree_parent, f"{meta.name} is not a tree"
    return store.by_field(meta.name, meta.tree_parent, name)


def descendants(store: Store, meta: DocType, name: str, *, inclusive: bool = False) -> set[str]:
    """Folded names of every node below `name` (and `name` itself when inclusive)."""
    found: set[str] = {fold(name)} if inclusive else set()
    pending = [name]
    while pending:
        for child in children(store, meta, pending.pop()):
            key = fold(child["name"])
            if key not in found:
                found.add(key)
                pending.append(child["name"])
    return found


def ancestors(store: Store, meta: DocType, name: str, *, inclusive: bool = False) -> set[str]:
    """Folded names of every node above `name` (and `name` itself when inclusive)."""
    found: set[str] = {fold(name)} if inclusive else set()
    node = store.get(meta.name, name)
    while node is not None and node.get(meta.tree_parent or ""):
        parent = node[meta.tree_parent]
        if fold(parent) in found:
            break
        found.add(fold(parent))
        node = store.get(meta.name, parent)
    return found


def root_of(store: Store, meta: DocType) -> str | None:
    """frappe.utils.nestedset.get_root_of: the first node without a parent."""
    roots = [doc for doc in store.all(meta.name) if not doc.get(meta.tree_parent or "")]
    return min(roots, key=lambda doc: doc["creation"])["name"] if roots else None


def validate_loop(store: Store, meta: DocType, doc: dict) -> None:
    """A node cannot be moved under itself or one of its descendants."""
    parent = doc.get(meta.tree_parent or "")
    if parent and fold(parent) in descendants(store, meta, doc["name"], inclusive=True):
        throw("Item cannot be added to its own descendants", NestedSetRecursionError)


def validate_ledger(store: Store, meta: DocType, doc: dict) -> None:
    """NestedSet.validate_ledger: a node that still has children cannot be saved as a ledger."""
    if "is_group" in meta.by_name and not doc["is_group"] and children(store, meta, doc["name"]):
        throw(f"{meta.name} {doc['name']} cannot be a leaf node as it has children")


def validate_if_child_exists(store: Store, meta: DocType, doc: dict) -> None:
    if children(store, meta, doc["name"]):
        throw(f"Cannot delete {doc['name']} as it has child nodes", NestedSetChildExistsError)


def on_trash(store: Store, meta: DocType, doc: dict, *, allow_root_deletion: bool = False) -> None:
    """NestedSet.on_trash: roots stay (unless allowed), and only leaves can go."""
    if not allow_root_deletion and not doc.get(meta.tree_parent or ""):
        throw(f"Root {meta.name} cannot be deleted")
    validate_if_child_exists(store, meta, doc)
