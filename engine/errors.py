"""What a provisioning step raises. The runner decides what happens next:

    ProvisioningError
    ├── TransientProvisioningError     retried inside the step (tenacity); later by auto-retry
    ├── CriticalProvisioningError      stops the run; the tenant is FAILED
    │   ├── RunCancelledError          the run was cancelled: a step in flight writes nothing more
    │   └── VerificationFailedError    verification found problems (drift reads its `problems`)
    └── NonCriticalProvisioningError   recorded as a warning; the run goes on

Every message is shown to operators as is: it names the document and what to do next, and never
holds a secret or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class ProvisioningError(Exception):
    """A step could not ensure what it is responsible for."""

    category = 'critical'

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class TransientProvisioningError(ProvisioningError):
    """ERPNext was unreachable, slow, overloaded or busy: the same step may succeed if run again."""

    category = 'transient'


class CriticalProvisioningError(ProvisioningError):
    """The tenant cannot be provisioned until someone acts (data conflict, refusal, bad credentials)."""

    category = 'critical'


class NonCriticalProvisioningError(ProvisioningError):
    """A nice-to-have could not be ensured; the tenant works without it."""

    category = 'non_critical'


class RunCancelledError(CriticalProvisioningError):
    """The run was cancelled while this step was in flight: it stops before its next write."""

    def __init__(self) -> None:
        super().__init__('The run was cancelled while this step was in flight: it stopped before its next write '
                         'to ERPNext. Retry the run to continue.')


@dataclass(frozen=True)
class VerificationProblem:
    """One thing verification found wrong, and what puts it right: `step_title`, the provisioning step
    that fixes it when it runs again (`step_does`: how, when worth saying), or `by_hand`, what a person
    does in ERPNext because no step does it (both: the step fixes it in some cases, a person in the
    others). A run's error says which step to retry (`for_run`); a drift check, on a PROVISIONED
    tenant whose page offers Repair, says Repair (`for_drift`)."""

    text: str  # "warehouse 'Store 1 - AR' is disabled"
    step_title: str | None = None
    step_does: str | None = None
    by_hand: str | None = None

    def for_run(self) -> str:
        if self.step_title:
            return (f"{self.text}: retry '{self.step_title}'" + (f' ({self.step_does})' if self.step_does else '')
                    + self._unless_it_cannot())
        return f'{self.text}: {self.by_hand}, then retry the run' if self.by_hand else self.text

    def for_drift(self) -> str:
        if self.step_title:
            return f"{self.text}: Repair fixes it (step '{self.step_title}')" + self._unless_it_cannot()
        return f'{self.text}: Repair leaves it as it is, so {self.by_hand}' if self.by_hand else self.text

    def _unless_it_cannot(self) -> str:
        """A step that fixes it only in some cases, with `by_hand` for the others."""
        return f'; if it cannot, {self.by_hand}' if self.step_title and self.by_hand else ''


class VerificationFailedError(CriticalProvisioningError):
    """Verification found documents missing or wrong; `problems` lists each one with what fixes it
    (a drift check words them as the tenant's drift detail, whatever the run's message says)."""

    def __init__(self, problems: list[VerificationProblem]) -> None:
        super().__init__('Verification found problems: ' + '; '.join(problem.for_run() for problem in problems))
        self.problems = list(problems)
