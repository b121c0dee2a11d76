"""Which steps a run executes, by its mode: provisioning (and its look-ups-only plan) or teardown."""

from __future__ import annotations

from engine.steps import STEP_TITLES, STEPS
from engine.steps.base import Step
from engine.teardown import TEARDOWN_STEPS, TEARDOWN_TITLES
from storage.tables import RunMode

WORKFLOWS: dict[str, tuple[type[Step], ...]] = {
    RunMode.PROVISION: STEPS,
    RunMode.PLAN: STEPS,
    RunMode.DEPROVISION: TEARDOWN_STEPS,
}
# Every step key any run can hold → its title (step keys are unique across workflows).
ALL_STEP_TITLES: dict[str, str] = {**STEP_TITLES, **TEARDOWN_TITLES}
