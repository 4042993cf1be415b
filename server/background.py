"""Background jobs every server process runs on a timer (repairs, expiries, flushes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from server.http import is_store_outage

log = logging.getLogger("etour.background")


async def repeat(job: Callable[[], Awaitable[object]], *, every: float, name: str) -> None:
    """Run `job` every `every` seconds until cancelled; a failure is logged and the next run tries.

    A store being away (PostgreSQL restarting, Redis stopped) is expected now and then: a one-line
    warning, not a traceback; anything else is a bug and logged with its traceback.
    """
    while True:
        stop_if_cancelled()
        try:
            await job()
        except Exception as problem:
            stop_if_cancelled()
            if is_store_outage(problem):
                log.warning("%s: a store is unavailable (%s)", name, type(problem).__name__)
            else:
                log.exception("%s failed", name)
        await asyncio.sleep(every)


def stop_if_cancelled() -> None:
    """Raise CancelledError if this task is being cancelled.

    For loops that run until cancelled: a client library may swallow a cancellation that reaches
    it in the middle of a command (fakeredis's does, returning as if nothing happened) or turn
    it into an error of its own, and such a loop would go on for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
