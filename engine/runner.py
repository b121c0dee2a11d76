"""Runs one provisioning run: its steps in dependency order, each checkpointed as it ends.

Steps whose needs are met run at the same time (the critical path is check_engine →
create_company → resolve_accounts → configure_payment_modes → create_pos_profiles → verify).
Between two moments of a run there is one checkpoint transaction: it records the steps that
ended and marks the steps they unblock RUNNING; those start their look-ups at once and their
writes wait for it (`_step`), so the database is off the critical path of reads.

Retry policy lives here, not in the steps: tenacity retries TransientProvisioningError with
full-jitter exponential backoff (honouring ERPNext's Retry-After), bounded by attempts and by a
per-step time budget; each attempt has its own timeout.

Two ways a run ends without finishing: when a critical step failed for a transient reason and
ERPNext no longer answers a ping, the run is parked back in the queue as waiting (not failed) and
the engine marked offline; and when another process took the run over (our lease expired), the
runner stops at the next checkpoint and writes nothing more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_base, wait_random_exponential

from engine import metrics
from engine.clients import EngineUnusable
from engine.erpnext import ERPNextClient
from engine.erpnext import errors as erp
from engine.erpnext import timeouts
from engine.errors import (
    CriticalProvisioningError,
    NonCriticalProvisioningError,
    ProvisioningError,
    RunCancelledError,
    TransientProvisioningError,
)
from engine.run_store import LeaseLost, RunSnapshot, RunStore, StepFailure, StepOutcome
from engine.steps import STEPS, Step, StepContext
from engine.steps.common import PLAN_AGAIN
from engine.steps.base import IntentLog
from engine.workflows import WORKFLOWS
from storage.availability import database_unreachable
from storage.db import Database
from storage.tables import ErrorCategory, RunMode, StepStatus, utcnow

if TYPE_CHECKING:
    from engine.auto_retry import AutoRetryPolicy

log = structlog.get_logger('runner')
SETTLED = (StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED)
INTERRUPTED = 'INTERRUPTED'  # shutdown: the dispatcher hands the run back to the queue
PARKED = 'PARKED'  # the engine went away: the run waits in the queue for it
LEASE_LOST = 'LEASE_LOST'  # another process holds the run now
ClientFor = Callable[[int], Awaitable[ERPNextClient]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a step tries before it fails."""

    max_attempts: int = 4
    step_budget_s: float = 180.0
    attempt_timeout_s: float = 60.0
    backoff_s: float = 0.5
    backoff_max_s: float = 10.0


class wait_retry_after(wait_base):
    """Full-jitter exponential backoff, but never sooner than ERPNext's Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.backoff = wait_random_exponential(multiplier=policy.backoff_s, max=policy.backoff_max_s)

    def __call__(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = getattr(exc, 'retry_after', None) or 0.0
        return max(self.backoff(retry_state), after)


def _workflow(steps: tuple[type[Step], ...]) -> tuple[dict[str, Step], list[str]]:
    return {step.key: step() for step in steps}, [step.key for step in steps]


class _NotStarted(Exception):
    """A step was about to write, but the checkpoint that started it found the run cancelled."""


class Runner:
    """Executes runs against ERPNext; every state change goes to the database first."""

    def __init__(self, db: Database, client_for: ClientFor, *, steps: tuple[type[Step], ...] = STEPS,
                 policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 on_step_finished: Callable[[str, StepOutcome], None] | None = None,
                 auto_retry: AutoRetryPolicy | None = None) -> None:
        self.store = RunStore(db)
        self.auto_retry = auto_retry
        self.client_for = client_for
        # Provisioning steps (tests may pass their own) and, by run mode, the other workflows.
        self.workflows = {mode: _workflow(steps if mode in (RunMode.PROVISION, RunMode.PLAN) else others)
                          for mode, others in WORKFLOWS.items()}
        self.policy = policy
        self.sleep = sleep
        self.on_step_finished = on_step_finished
        self.draining = False  # set on shutdown: start no new step, let the ones in flight end

    async def execute(self, run_id: int, owner: str | None = None) -> str | None:
        """Run (or resume) `run_id` to its end; returns the run's final status (or INTERRUPTED,
        PARKED, LEASE_LOST). `owner`: the dispatcher's lease name, checked at every checkpoint."""
        snapshot = await asyncio.to_thread(self.store.start, run_id, owner)
        if snapshot is None:
            return None
        bound = structlog.contextvars.bound_contextvars(
            correlation_id=snapshot.correlation_id, run_id=run_id, tenant=snapshot.tenant.name)
        with bound:
            log.info('run.started', plan=snapshot.plan)
            metrics.RUNS_EXECUTING.inc()
            try:
                return await _Execution(self, snapshot, owner).run()
            except LeaseLost:
                log.warning('run.lease_lost', owner=owner)
                return LEASE_LOST
            finally:
                metrics.RUNS_EXECUTING.dec()

    async def save_intents(self, run_id: int, intents: dict[str, list[str]], owner: str | None = None) -> None:
        await asyncio.to_thread(self.store.save_intents, run_id, intents, owner)


class _Execution:
    """One pass over a run's steps: start what is ready, settle what ends, stop on a critical failure."""

    def __init__(self, runner: Runner, snapshot: RunSnapshot, owner: str | None = None) -> None:
        self.runner = runner
        self.snap = snapshot
        self.owner = owner
        self.steps, self.order = runner.workflows.get(snapshot.mode, runner.workflows[RunMode.PROVISION])
        self.status = dict(snapshot.steps)
        self.failure: StepFailure | None = None
        self.intents = IntentLog(snapshot.intents, lambda i: runner.save_intents(snapshot.run_id, i, owner))
        self.cancelled = False  # a checkpoint found the run cancelled: start no new step
        # Steps a person marked succeeded whose output a later step needs: they run again, looking
        # only, taking what they find in ERPNext as the tenant's (the person vouched for it).
        needed = {dep for step in self.steps.values() for dep in step.needs}
        self.vouched = {key for key in snapshot.by_hand if key in needed and key in self.steps}
        for key in self.vouched:
            self.status[key] = StepStatus.PENDING
        # A resumed or retried run counts the warnings of the steps that succeeded before, too.
        self.warnings = sum(len(output.get('warnings', [])) for key, output in snapshot.outputs.items()
                            if self.status.get(key) == StepStatus.SUCCEEDED)

    async def run(self) -> str:
        try:
            client = (await self.runner.client_for(self.snap.engine_id)).bound(self.snap.correlation_id)
        except EngineUnusable as exc:  # no request may go to the engine: fail now, not crash and resume forever
            return await self._finish(self._fail_first_step(str(exc)))
        finished = await self._work(client)
        if self.runner.draining and not self.failure and any(
                status not in SETTLED for status in self.status.values()):
            await self._record(finished)
            log.info('run.interrupted', reason='shutdown')
            return INTERRUPTED  # the dispatcher hands the run back to the queue
        if self.failure and self.failure.category == ErrorCategory.TRANSIENT:
            unreachable = await _engine_unreachable(client)
            if unreachable:
                await self._record(finished)
                finished = []
                if await self._park(unreachable):
                    return PARKED
        return await self._finish(finished)

    async def _finish(self, finished: list[tuple[str, StepOutcome]]) -> str:
        abbr = self.snap.outputs.get('create_company', {}).get('abbr')
        final, duration_s = await asyncio.to_thread(
            self.runner.store.finish, self.snap.run_id, failed=self.failure, warnings=self.warnings, abbr=abbr,
            owner=self.owner, auto_retry=self.runner.auto_retry, finished=finished)
        self._recorded(finished)
        if self.snap.mode == RunMode.PROVISION:
            metrics.run_finished(final, duration_s)
        log.info('run.finished', status=final, warnings=self.warnings, duration_s=duration_s)
        return final

    def _fail_first_step(self, message: str) -> list[tuple[str, StepOutcome]]:
        """The first step still to run fails with `message` (critical: a person must act first)."""
        key = next((key for key in self.order if self.status.get(key) not in SETTLED), self.order[0])
        self.failure = StepFailure(key, ErrorCategory.CRITICAL, f'{self.steps[key].title}: {message}')
        return [(key, StepOutcome(StepStatus.FAILED, attempts=0, started_at=utcnow(), duration_ms=0, output={},
                                  category=ErrorCategory.CRITICAL, message=message))]

    async def _work(self, client: ERPNextClient) -> list[tuple[str, StepOutcome]]:
        """Start what is ready, settle what ends, until nothing runs; returns the steps that ended
        since the last checkpoint (the run's finish records them)."""
        running: dict[asyncio.Task, str] = {}
        finished: list[tuple[str, StepOutcome]] = []
        checkpoint: asyncio.Task[bool] | None = None
        try:
            while True:
                idle = self.failure or self.runner.draining or self.cancelled
                starting = [] if idle else self._ready(running.values())
                if not starting and not running:
                    break
                if starting or finished:
                    started_at = utcnow()
                    checkpoint = asyncio.create_task(self._checkpoint(checkpoint, finished, starting, started_at))
                    finished = []
                for key in starting:
                    self.status[key] = StepStatus.RUNNING
                    running[asyncio.create_task(self._step(key, client, started_at, checkpoint))] = key
                waiting = {*running, checkpoint} if checkpoint is not None and not checkpoint.done() else {*running}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if checkpoint in done:
                    checkpoint.result()  # LeaseLost: another process holds the run now
                for task in done - {checkpoint}:
                    key = running.pop(task)
                    if isinstance(task.exception(), _NotStarted):
                        self.status[key] = StepStatus.PENDING  # the run was cancelled before it wrote
                        continue
                    self._settle(key, task.result())
                    finished.append((key, task.result()))
            if checkpoint is not None:
                await checkpoint
        except BaseException:
            for task in (*running, *([checkpoint] if checkpoint else [])):
                task.cancel()  # shutting down or crashed: the lease lets the run resume later
            raise
        return finished

    def _ready(self, running) -> list[str]:
        ready = []
        for key in self.order:
            step = self.steps[key]
            if self.status.get(key) != StepStatus.PENDING or key in running:
                continue
            if all(self.status.get(dep) in SETTLED for dep in (*step.needs, *step.after)):
                ready.append(key)
        return ready

    def _settle(self, key: str, outcome: StepOutcome) -> None:
        self.status[key] = outcome.status
        if outcome.status == StepStatus.PENDING:
            return  # stopped by a cancel before its next write: it did not end (no metrics either)
        if outcome.status == StepStatus.SUCCEEDED:
            self.snap.outputs[key] = outcome.output
            self.warnings += len(outcome.output.get('warnings', []))
        elif self.steps[key].critical:
            self.failure = self.failure or StepFailure(key, outcome.category,
                                                       f'{self.steps[key].title}: {outcome.message}')
        else:
            self.warnings += 1
        if self.snap.mode == RunMode.PROVISION:
            metrics.step_finished(key, status=outcome.status, attempts=outcome.attempts,
                                  duration_s=outcome.duration_ms / 1000, category=outcome.category)

    async def _checkpoint(self, previous: asyncio.Task[bool] | None, finished: list[tuple[str, StepOutcome]],
                          starting: list[str], started_at: datetime) -> bool:
        """Record the steps that ended and mark the ones they unblocked RUNNING, in one transaction
        after the previous checkpoint. The new steps start at once with their look-ups, but wait
        for this before they write (see `_step`). False: the run was cancelled, start nothing more."""
        if previous is not None:
            await previous
        # One turn of the loop first: the steps this checkpoint starts send their first look-ups
        # before its thread competes with them for the GIL (about 0.4 ms at each step start).
        await asyncio.sleep(0)
        active = await asyncio.to_thread(self.runner.store.checkpoint, self.snap.run_id, finished=finished,
                                         starting=starting, started_at=started_at, owner=self.owner)
        self.cancelled = self.cancelled or not active
        self._recorded(finished)
        return active

    async def _record(self, finished: list[tuple[str, StepOutcome]]) -> None:
        if finished:
            await self._checkpoint(None, finished, [], utcnow())

    def _recorded(self, finished: list[tuple[str, StepOutcome]]) -> None:
        if self.runner.on_step_finished:
            for key, outcome in finished:
                self.runner.on_step_finished(key, outcome)

    async def _park(self, reason: str) -> bool:
        key = self.failure.step
        note = (f"Waiting for ERPNext: the engine stopped answering during '{self.steps[key].title}' "
                f'({reason}). The run continues from this step by itself once the engine answers again; '
                'nothing to do unless the outage lasts.')
        parked = await asyncio.to_thread(self.runner.store.park, self.snap.run_id, owner=self.owner, step=key,
                                         note=note, engine_error=reason)
        if parked:
            log.warning('run.parked', step=key, reason=reason)
        return parked

    async def _step(self, key: str, client: ERPNextClient, started_at: datetime,
                    checkpoint: asyncio.Task[bool]) -> StepOutcome:
        """Attempts of one step. The `checkpoint` that marks it RUNNING commits while its first
        look-ups are on their way: every write (an intent, a POST, PUT or DELETE, a retry's
        attempt count) waits for it, and none happens when it found the run cancelled or taken
        over; nor is its outcome recorded then (`_NotStarted`: it stays PENDING). The step's outcome
        is recorded by the next checkpoint."""
        step, policy = self.steps[key], self.runner.policy
        started, attempts = time.monotonic(), 0

        async def before_write() -> None:
            if not await asyncio.shield(checkpoint):
                raise _NotStarted(key)
            if self.cancelled:  # a later checkpoint found the run cancelled while this step was in flight
                raise RunCancelledError()
            if key in self.vouched:
                raise CriticalProvisioningError(
                    f"'{step.title}' was marked done by hand, but ERPNext lacks something this step makes (its Plan "
                    f"lists what): create it in ERPNext and mark the step done again, or retry '{step.title}' to "
                    'let Provisioner create it.')

        view = client.bound(self.snap.correlation_id, before_write=before_write)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientProvisioningError), wait=wait_retry_after(policy),
            stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.step_budget_s),
            sleep=self.runner.sleep, reraise=True)
        with structlog.contextvars.bound_contextvars(step=key):
            try:
                async for attempt in retrying:
                    with attempt:
                        attempts += 1
                        if attempts > 1:
                            await before_write()
                            await asyncio.to_thread(self.runner.store.step_attempt, self.snap.run_id, key,
                                                    attempts, started_at, self.owner)
                        output, warnings = await self._attempt(step, view, before_write)
                outcome = StepOutcome(StepStatus.SUCCEEDED, attempts, started_at, _ms(started),
                                      {**output, **({'warnings': warnings} if warnings else {})})
            except RunCancelledError:
                # A later checkpoint found the run cancelled: the step stopped before its next write.
                # Not an execution that failed: it waits (PENDING) with the attempts it made, which a
                # retry counts as attempts only (storage/tables.py FOLD_EXECUTION).
                outcome = StepOutcome(StepStatus.PENDING, attempts, started_at, _ms(started), {})
            except ProvisioningError as exc:
                category = exc.category if step.critical else 'non_critical'
                outcome = StepOutcome(StepStatus.FAILED, attempts, started_at, _ms(started), {}, category, exc.message)
                log.warning('step.failed', category=category, error=exc.message, attempts=attempts)
        # A step that never wrote (a look-up-only step, a plan) ends without meeting `before_write`:
        # if the checkpoint that started it found the run cancelled, it did not start, whatever it found.
        # Nothing to wait for on the normal path: that checkpoint has long committed (a step that ends
        # first, with no request, waits the few ms its run's end waits anyway).
        if not (checkpoint.result() if checkpoint.done() else await asyncio.shield(checkpoint)):
            raise _NotStarted(key)
        return outcome

    async def _attempt(self, step: Step, client: ERPNextClient,
                       before_write: Callable[[], Awaitable[None]]) -> tuple[dict[str, Any], list[str]]:
        ctx = StepContext(tenant=self.snap.tenant, erp=client, outputs=self.snap.outputs, skipped=self.snap.skipped,
                          intents=self.intents, plan=self.snap.plan, before_write=before_write,
                          vouched=step.key in self.vouched)
        client.take_cut_off()  # what an earlier attempt's end cut off is not this attempt's
        try:
            async with asyncio.timeout(self.runner.policy.attempt_timeout_s):
                output = await (step.plan(ctx) if self.snap.plan else step.run(ctx))
        except TimeoutError as exc:  # the message names the requests the time limit cut off
            raise TransientProvisioningError(
                timeouts.step_timed_out(client.take_cut_off(), self.runner.policy.attempt_timeout_s)) from exc
        except (LeaseLost, _NotStarted, RunCancelledError):
            raise  # not the step's failure: the run stops
        except ProvisioningError as exc:
            raise _for_step(step, exc) from exc
        except erp.ERPNextError as exc:
            raise _from_erpnext(step, exc, plan=self.snap.plan) from exc
        except Exception as exc:  # a bug of ours or an answer of a shape we did not expect
            if database_unreachable(exc):  # (an intent save): the run stops, as when its process dies
                raise
            log.exception('step.crashed')
            raise _for_step(step, CriticalProvisioningError(
                f'Unexpected {type(exc).__name__} in this step. This is a Provisioner bug: report it with the '
                'correlation id of the run.')) from exc
        return output, ctx.warnings


async def _engine_unreachable(client: ERPNextClient) -> str | None:
    """Why ERPNext does not answer a ping right now (None: it answers, or refuses for another reason)."""
    try:
        await client.ping()
    except (erp.UnavailableError, erp.RequestTimeoutError) as exc:
        return exc.message
    except erp.ERPNextError:
        return None
    return None


def _from_erpnext(step: Step, exc: erp.ERPNextError, *, plan: bool = False) -> ProvisioningError:
    where = f"{exc.method} {exc.doctype}{f' {exc.name!r}' if exc.name else ''}" if exc.method else 'a request'
    if isinstance(exc, erp.RequestTimeoutError):  # names the request itself, and what to do
        return TransientProvisioningError(timeouts.request_timed_out(exc))
    if isinstance(exc, erp.TransientError):
        return TransientProvisioningError(f'{exc.message} (during {where}); retrying is safe.',
                                          retry_after=getattr(exc, 'retry_after', None))
    then = PLAN_AGAIN if plan else 'retry the step'  # a plan's steps are not retried (engine/steps/common.py)
    if isinstance(exc, erp.AuthError):
        message = (f'ERPNext refused {where}: {exc.message}. Check that the engine\'s API user has the rights to '
                   f'do this (System Manager), then {then}.')
    elif isinstance(exc, erp.QueryRefusedError):
        message = f'{exc.message}.'  # our bug, which says so: nothing to fix in ERPNext
    elif isinstance(exc, erp.InvalidResponseError):
        message = f'{exc.message}. Check that the engine URL points at an ERPNext site, then {then}.'
    else:
        message = f'ERPNext refused {where}: {exc.message}. Fix this in ERPNext, then {then}.'
    return _for_step(step, CriticalProvisioningError(message))


def _for_step(step: Step, exc: ProvisioningError) -> ProvisioningError:
    """A non-critical step can only produce warnings, whatever it raised."""
    if not step.critical and isinstance(exc, CriticalProvisioningError):
        return NonCriticalProvisioningError(exc.message)
    return exc


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
