"""Small helpers the dashboard's forms share (new tenant, edit tenant, engines)."""

from __future__ import annotations

from typing import Any


def clear_error_on_change(element: Any) -> None:
    """An input's error goes as soon as the user changes its value (the next save checks it again)."""
    element.on_value_change(lambda _event: _clear_error(element))


def whole_number(value: Any) -> Any:
    """ui.number gives floats: 2.0 → 2; anything else is left for the model to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _clear_error(element: Any) -> None:
    if element.error:
        element.error = None
