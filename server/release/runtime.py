"""What the release rules run with in this process: the limits in force and the places mirror.

The services that change a slot's places are called from the mini-program's routes, the admin
side, the chatbot and the CLI; each of these runs inside one app (or command) per process, which
installs its runtime when it starts. Without one (a bare command, a unit test) the default limits
apply and no mirror is told: `RemainingMirror.repair` catches up with such changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.release.limits import BookingLimits
from server.release.mirror import RemainingMirror, SlotPlaces


@dataclass
class ReleaseRuntime:
    """The limits in force and the mirror to tell (None: no Redis to tell)."""

    limits: BookingLimits = field(default_factory=BookingLimits)
    mirror: RemainingMirror | None = None

    async def publish(self, places: SlotPlaces | None) -> None:
        """Tell the mirror of a committed change of places, if there is a mirror."""
        if self.mirror is not None and places is not None:
            await self.mirror.publish(places)

    async def publish_taken(self, places: SlotPlaces | None) -> None:
        """Tell the mirror of places taken (a booking, a hold), once the slot is nearly full."""
        if self.mirror is not None and places is not None:
            await self.mirror.publish_taken(places)

    async def refresh(self, *slot_ids: int) -> None:
        """Re-read these slots into the mirror, if there is a mirror."""
        if self.mirror is not None:
            await self.mirror.refresh(slot_ids)


_current = ReleaseRuntime()


def install(runtime: ReleaseRuntime) -> None:
    """Make `runtime` the one this process's services use."""
    global _current
    _current = runtime


def current() -> ReleaseRuntime:
    """The runtime installed in this process (default limits, no mirror, if none was)."""
    return _current
