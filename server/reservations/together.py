"""Group commit: the writes for one key (a slot) that come while another of its writes is on its
way go to the database together when it is back, in one call and one transaction.

A flash crowd's last bookings all want the last slots with room. Written one at a time, each
waits for the slot row's lock, which the booking before it holds until it commits, and on a busy
machine every hand-over of the lock waits for a process to be scheduled: in the flash_crowd
bench, from 0.9 s into the crowd (the bookings queued on the last open slots' rows), a booking
took 48-73 ms (median) and the last ones 125-140 ms.
Grouped, one call takes the lock once for all of them. A write with nothing else going on for
its key goes at once and alone, as before: grouping only ever replaces waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("etour.reservations")
Item = TypeVar("Item")
Result = TypeVar("Result")


class WriteAlone:
    """An outcome of a group's call: this write was not made; make it alone."""


WRITE_ALONE = WriteAlone()
Outcome = object  # a Result, an exception to raise, or WRITE_ALONE


class GroupedWrites(Generic[Item, Result]):
    """Writes by key, at most one call per key on its way at a time in this process.

    `alone(item)` makes one write (its result, or it raises); `together(items)` makes several
    in one call and gives each one's outcome in order: its result, the exception to raise for
    it, or WRITE_ALONE. A group is at most `most` writes; a call that fails makes every write of
    its group go alone.
    """

    def __init__(
        self,
        alone: Callable[[Item], Awaitable[Result]],
        together: Callable[[Sequence[Item]], Awaitable[Sequence[Outcome]]],
        *,
        most: int,
    ) -> None:
        self._alone, self._together, self._most = alone, together, most
        # Per key on its way: the writes that came meanwhile, each with the future it awaits.
        self._waiting: dict[Hashable, list[tuple[Item, asyncio.Future[Outcome]]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def write(self, key: Hashable, item: Item) -> Result:
        """Make the write `item`: at once if none of `key` is on its way, else with the next
        group of `key`; its result, or its exception."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests start one each): nothing is on its way
            self._loop, self._waiting = loop, {}
        waiting = self._waiting.get(key)
        if waiting is None:
            self._waiting[key] = []
            try:
                return await self._alone(item)
            finally:
                self._send_next(key)
        told: asyncio.Future[Outcome] = loop.create_future()
        waiting.append((item, told))
        outcome = await told
        if outcome is WRITE_ALONE:
            return await self._alone(item)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    def waiting(self) -> int:
        """How many writes wait now for a write of their key to be back."""
        return sum(len(waiting) for waiting in self._waiting.values())

    def _send_next(self, key: Hashable) -> None:
        """The next group of `key`'s waiting writes on its way, or `key` free if none wait."""
        waiting = [(item, told) for item, told in self._waiting.get(key, []) if not told.done()]
        if not waiting:
            self._waiting.pop(key, None)
            return
        group, self._waiting[key] = waiting[: self._most], waiting[self._most :]
        call = asyncio.get_running_loop().create_task(self._write_group(key, group))
        self._calls.add(call)  # the loop keeps only a weak reference to a task
        call.add_done_callback(self._calls.discard)

    async def _write_group(
        self, key: Hashable, group: list[tuple[Item, asyncio.Future[Outcome]]]
    ) -> None:
        items = [item for item, _ in group]
        outcomes: Sequence[Outcome]
        try:
            if len(items) == 1:  # one write alone costs less than a group of one
                outcomes = [await self._alone(items[0])]
            else:
                outcomes = await self._together(items)
                if len(outcomes) != len(items):
                    raise ValueError(f"{len(outcomes)} outcomes for {len(items)} writes")
        except Exception as problem:
            if len(items) == 1:
                outcomes = [problem]
            else:
                # Its type only: a database error's text may quote a row's values.
                log.warning(
                    "a group of %d writes failed (%s): each goes alone",
                    len(items),
                    type(problem).__name__,
                )
                outcomes = [WRITE_ALONE] * len(items)
        except BaseException:  # cancelled (the process stops): the writes go alone, or not at all
            outcomes = [WRITE_ALONE] * len(items)
            raise
        finally:
            for (_, told), outcome in zip(group, outcomes, strict=True):
                if not told.done():
                    told.set_result(outcome)
            if self._loop is asyncio.get_running_loop():
                self._send_next(key)
