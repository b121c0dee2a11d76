"""Query parameters where an empty value counts as not given.

HTML forms and hand-written URLs send `?status=&q=&limit=` (DESIGN.md spells the tenant list that
way): an empty or blank value means "the default", not a 422. Put `blank_is(default)` after the
`Query(...)` so the OpenAPI schema keeps its bounds, and the constraints of optional parameters on
the inner type (`OptionalId`), where None never reaches them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from engine.validation import MAX_ID


def blank_is(default: Any) -> BeforeValidator:
    """An empty or blank query value is read as `default`."""
    def validate(value: Any) -> Any:
        return default if isinstance(value, str) and not value.strip() else value
    return BeforeValidator(validate)


OptionalId = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | None, blank_is(None)]


def optional_text(max_length: int) -> Any:
    """An optional text filter of at most `max_length` characters; blank means no filter."""
    return Annotated[Annotated[str, Field(max_length=max_length)] | None, blank_is(None)]
