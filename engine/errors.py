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


class VerificationFailedError(CriticalProvisioningError):
    """Verification found documents missing or wrong; `problems` lists each one (a drift check stores
    them as the tenant's drift detail, whatever the message's wording)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__('Verification found problems: ' + '; '.join(problems))
        self.problems = list(problems)
