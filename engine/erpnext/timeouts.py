"""What a step's error says when ERPNext did not answer in time: which request was in flight, and what
to do about it (a write may have been done all the same, and a retry adopts what it made)."""

from __future__ import annotations

from engine.erpnext import errors

LOAD = "check ERPNext's load (its workers and error log)"
AFTERMATH = {  # what a write ERPNext did not answer may have done anyway, and what a retry does about it
    'POST': 'ERPNext may have created the document all the same: a retry adopts it, so retrying is safe',
    'PUT': 'ERPNext may have saved the change all the same: a retry reads it again, so retrying is safe',
    'DELETE': 'ERPNext may have deleted it all the same: a retry finds it gone, so retrying is safe',
}


def request_timed_out(exc: errors.RequestTimeoutError) -> str:
    """A request that got no answer within the client's timeout (its message names the request)."""
    return f'{exc.message}: {_advice([exc.method or "GET"])}.'


def step_timed_out(cut_off: list[str], limit_s: float) -> str:
    """A step that ran out of its time limit with `cut_off` in flight (ERPNextClient.take_cut_off)."""
    if not cut_off:
        return (f'This step did not finish within its time limit ({limit_s:g} s), between two ERPNext requests: '
                f"{LOAD} and the engine's requests per second, then retry.")
    return (f'ERPNext did not answer {", ".join(cut_off)} within the step\'s time limit ({limit_s:g} s): '
            f'{_advice([request.split(" ", 1)[0] for request in cut_off])}.')


def _advice(methods: list[str]) -> str:
    aftermath = next((AFTERMATH[method] for method in methods if method in AFTERMATH), None)
    return f'{LOAD}; {aftermath}' if aftermath else f'{LOAD}, then retry (retrying is safe)'
