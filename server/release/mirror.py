"""The live remaining-places mirror in Redis: "sold out" answered without a database transaction.

The database stays the truth. The mirror may only ever say "maybe": a booking it lets through
still claims its places with the conditional UPDATE, so a stale or lost mirror costs a database
round trip, never an oversell. What it must not do is say "full" while places are left (an
entry higher than the truth is harmless, so places taken are told only near the end). Every
change of a slot's places bumps the slot's `revision` in the same UPDATE, and the mirror keeps
only the newest revision it is told of, so updates reaching it out of order cannot write an
older, lower count over a newer one. Updates that never arrive (a process dying between its
commit and its publish, a command run without Redis) and a restarted Redis are repaired from the
database by `repair`, which every server runs every few seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server import cache
from server.clock import local_now
from server.reservations.models import TimeSlot

log = logging.getLogger("etour.release.mirror")

# Slots of past days drop out on their own: a mirror entry lives this long after its last change.
ENTRY_TTL_SECONDS = 24 * 3600
REPAIR_INTERVAL_SECONDS = 5.0
_KEY = "release:slot:{}"
_TRACKED = "release:slots"  # the ids of every slot with a mirror entry, for `repair`
# A full slot's alternatives are advice (the booking checks again): seconds old is fine.
ALTERNATIVES_TTL_SECONDS = 1
# Places taken are told only once a slot has fewer left than this. An entry left higher than
# the truth only ever says "maybe": so while a slot has room, a booking saves the round trip;
# its last places are told one by one. Places given back are always told. A party or hold is
# at most 5 places, but a refusal's suggestions show the places left in its alternatives from
# these counts too (SHORTAGE_LUA): in a crowd, a slot goes from a hundred places to none in
# well under a second.
EXACT_BELOW = 100

# Keep the newer revision: an update older than (or as old as) what is stored changes nothing.
_PUBLISH = """
local stored = redis.call('HGET', KEYS[1], 'rev')
if stored and tonumber(stored) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'left', ARGV[1], 'rev', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""
# Repair: the database's row replaces an entry at its revision or older, whatever it says. An
# entry ahead of the row read is left alone (a commit after our read told it), unless it is
# still ahead at the same revision the next time (ARGV[4]): only a corrupt entry, or a database
# restored to an older state, stays ahead, and then the entry goes.
_REPAIR = """
local stored = redis.call('HGET', KEYS[1], 'rev')
local left = redis.call('HGET', KEYS[1], 'left')
if stored and tonumber(stored) > tonumber(ARGV[2]) then
  if stored == ARGV[4] then
    redis.call('DEL', KEYS[1])
    return {1, ''}
  end
  return {0, stored}
end
if stored == ARGV[2] and left == ARGV[1] then return {0, ''} end
redis.call('HSET', KEYS[1], 'left', ARGV[1], 'rev', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, ''}
"""

_REMEMBER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'alternatives', ARGV[1], 'alternatives_until', ARGV[2],
  'alternative_ids', ARGV[3])
return 1
"""

_CHUNK = 500


@dataclass(frozen=True)
class Shortage:
    """A slot the mirror knows is short: what is left, its alternatives if kept (else None),
    and the places it knows are left in the other slots the booking would take (None: no
    entry, room to spare as far as it knows)."""

    remaining: int
    alternatives: list[dict] | None
    others_left: dict[int, int | None] = field(default_factory=dict)


def entry_key(slot_id: int) -> str:
    """The Redis hash of a slot's mirror entry."""
    return _KEY.format(slot_id)


# A sold-out check's read of a slot's entry, in one step: its places left, the alternatives kept
# for it, how long they are fresh, and the places the mirror knows are left in each alternative
# ('' where it has no entry: room to spare, as far as it knows), for `shortage_of`. The kept
# alternatives are a second old at most, and a crowd books hundreds of places a second: in
# bench/flash_crowd.py most visitors who took a kept suggestion were refused again, for slots
# shown with a hundred places left. The mirror's own counts are current. `shortage` returns
# false unless the slot is short for the party (the alternatives' counts are read only then).
# It builds the alternatives' keys itself (on Redis Cluster they would need the entry's tag).
# With `others` (slot ids, comma-separated: the other slots a booking would also take), the
# places the mirror knows are left in each of them come last, the same way: the booking moves on
# to one with room without a second round trip, and a sold-out day is refused in one.
SHORTAGE_LUA = """
local function lefts_of(ids)
  local lefts = {}
  for id in string.gmatch(ids, '[^,]+') do
    lefts[#lefts + 1] = redis.call('HGET', 'ENTRY_PREFIX' .. id, 'left') or ''
  end
  return table.concat(lefts, ',')
end
local function shortage(entry_key, party, others)
  local entry = redis.call('HMGET', entry_key, 'left', 'alternatives', 'alternatives_until',
    'alternative_ids')
  if not entry[1] or tonumber(entry[1]) >= party then return false end
  return {entry[1], entry[2] or '', entry[3] or '', lefts_of(entry[4] or ''), lefts_of(others)}
end
""".replace("ENTRY_PREFIX", _KEY.format(""))
# KEYS: the slot's entry. ARGV: the party, the other slots' ids.
_SURELY_SHORT = SHORTAGE_LUA + "return shortage(KEYS[1], tonumber(ARGV[1]), ARGV[2])"
# KEYS: none. ARGV: the slots' ids.
_LEFTS = SHORTAGE_LUA + "return lefts_of(ARGV[1])"


def shortage_of(found: Sequence[str] | None, others: Sequence[int] = ()) -> Shortage | None:
    """The shortage SHORTAGE_LUA found (None: "maybe"), with what is left in `others`.

    Each kept alternative shows the places the mirror knows are left in it, if fewer.
    """
    if not found:
        return None
    left, alternatives, fresh_until, lefts, others_lefts = found
    remaining = max(int(left), 0)
    others_left = lefts_of(others, others_lefts)
    if not alternatives or float(fresh_until or 0) < time.time():
        return Shortage(remaining, None, others_left)
    kept = json.loads(alternatives)
    for alternative, known in zip(kept, lefts.split(","), strict=False):
        if known:
            alternative["remaining"] = max(min(alternative["remaining"], int(known)), 0)
    return Shortage(remaining, kept, others_left)


def lefts_of(slot_ids: Sequence[int], told: str) -> dict[int, int | None]:
    """The places left in each of `slot_ids` as a script's lefts_of told them (None: no entry)."""
    lefts = told.split(",") if slot_ids else []
    return {
        slot_id: max(int(left), 0) if left else None
        for slot_id, left in zip(slot_ids, lefts, strict=True)
    }


def slot_ids_arg(slot_ids: Sequence[int]) -> str:
    """Slot ids as the scripts take them."""
    return ",".join(str(slot_id) for slot_id in slot_ids)


@dataclass(frozen=True)
class SlotPlaces:
    """A slot's remaining places at one revision, as read from or written by the database."""

    slot_id: int
    remaining: int
    revision: int


class RemainingMirror:
    """The mirror of each slot's remaining places, kept at the newest revision it was told."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Told by every booking of a slot's last places, and read by every booking that waited
        # for its turn: batched, as the door's checks are.
        self._publish = cache.BatchedScript(redis, _PUBLISH)
        self._surely_short = cache.BatchedScript(redis, _SURELY_SHORT)
        self._lefts = cache.BatchedScript(redis, _LEFTS)
        self._repair = redis.register_script(_REPAIR)
        self._remember = redis.register_script(_REMEMBER)
        # Entries found ahead of the database at the last repair: slot id -> their revision.
        self._ahead: dict[int, str] = {}

    async def surely_short(
        self, slot_id: int, places: int, others: Sequence[int] = ()
    ) -> Shortage | None:
        """What the mirror knows of a slot with fewer than `places` left, else None ("maybe").

        None also when there is no entry or Redis is down. One round trip: the alternatives
        kept for the slot (if still fresh) come with it, with the places left in them, and
        the places left in `others`.
        """
        try:
            found = await self._surely_short(
                keys=[entry_key(slot_id)], args=[places, slot_ids_arg(others)]
            )
        except RedisError:
            return None
        return shortage_of(found, others)

    async def places_left(self, slot_ids: Sequence[int]) -> dict[int, int | None]:
        """The places the mirror knows are left in each slot (None: no entry, or no Redis)."""
        try:
            return lefts_of(slot_ids, await self._lefts(keys=[], args=[slot_ids_arg(slot_ids)]))
        except RedisError:
            return dict.fromkeys(slot_ids)

    async def publish(self, places: SlotPlaces) -> None:
        """Tell the mirror what a committed change left; an older revision changes nothing."""
        try:
            await self._publish(
                keys=[entry_key(places.slot_id), _TRACKED],
                args=[places.remaining, places.revision, ENTRY_TTL_SECONDS, places.slot_id],
            )
        except RedisError:
            # The entry is stale until `repair` runs: it can only err on the "maybe" side if
            # places were taken, and `repair` fixes the other side within seconds.
            log.warning("Redis unavailable: slot %s's mirror waits for repair", places.slot_id)

    async def publish_taken(self, places: SlotPlaces) -> None:
        """Tell the mirror what a claim of places left, once the slot is nearly full."""
        if places.remaining < EXACT_BELOW:
            await self.publish(places)

    async def remember_alternatives(self, slot_id: int, alternatives: list[dict]) -> None:
        """Keep a full slot's alternatives for a few seconds, for the fast "sold out" answer."""
        # Beside the count in the slot's entry (one read answers both), only if it exists.
        # Without Redis the next refusal reads them from the database again.
        with contextlib.suppress(RedisError):
            await self._remember(
                keys=[entry_key(slot_id)],
                args=[
                    json.dumps(alternatives),
                    time.time() + ALTERNATIVES_TTL_SECONDS,
                    ",".join(str(alternative["slot_id"]) for alternative in alternatives),
                ],
            )

    async def refresh(self, slot_ids: Iterable[int]) -> None:
        """Read these slots from the database and publish them (after changes made elsewhere)."""
        for places in await _read_places(list(slot_ids)):
            await self.publish(places)

    async def repair(self) -> int:
        """Make every mirrored slot agree with the database; return how many entries changed.

        Entries of slots that are gone or past are dropped.
        """
        try:
            tracked = sorted(int(member) for member in await self._redis.smembers(_TRACKED))
        except RedisError:
            return 0
        current = {places.slot_id: places for places in await _read_places(tracked)}
        changed = 0
        try:
            for slot_id in tracked:
                places = current.get(slot_id)
                if places is None:
                    await self._redis.delete(entry_key(slot_id))
                    await self._redis.srem(_TRACKED, slot_id)
                    continue
                fixed, ahead_at = await self._repair(
                    keys=[entry_key(slot_id)],
                    args=[
                        places.remaining,
                        places.revision,
                        ENTRY_TTL_SECONDS,
                        self._ahead.pop(slot_id, ""),
                    ],
                )
                changed += int(fixed)
                if ahead_at:
                    self._ahead[slot_id] = ahead_at
        except RedisError:
            log.warning("Redis unavailable: mirror repair stopped early")
        if changed:
            log.info("mirror repair changed %d slot entries", changed)
        return changed


async def _read_places(slot_ids: list[int]) -> list[SlotPlaces]:
    """The remaining places of those of `slot_ids` that exist and are today or later."""
    today = local_now().date()
    found = []
    for start in range(0, len(slot_ids), _CHUNK):
        rows = await TimeSlot.filter(
            id__in=slot_ids[start : start + _CHUNK], date__gte=today
        ).values_list("id", "capacity", "booked", "revision")
        found += [
            SlotPlaces(i, capacity - booked, revision) for i, capacity, booked, revision in rows
        ]
    return found
