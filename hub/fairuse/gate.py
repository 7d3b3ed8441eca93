"""Fair use at the GraphQL edge: one check before an operation runs, one count after it ran, and
for a client with disclosure quotas one round trip to the shared counters on the request's path
(two only for an answer neither its reservation nor its replica's lease covers).

``admit`` (before): the client's token bucket and cost budgets; refused, nothing runs and nothing is
recorded as disclosed (HTTP 429, ``Retry-After``, ``RATE_LIMITED`` or ``COST_BUDGET_EXCEEDED``).
``disclose`` (after execution, before the audit record): the quotas the data owners set on the
client's grants, counted from what the answer actually disclosed. An answer that would pass a quota
is refused whole (HTTP 429, ``FORBIDDEN`` with ``reason: "quota"``): which subjects of a list would
be the "over-quota" ones depends only on the order resolvers ran in, so nulling some would hand out
an arbitrary part of the answer; refused whole, the answer, the count and the audit record agree
(all of it, or none), and the count is one atomic step per request, never a round trip per record.

Reserved at admission, settled after the answer. Counting an answer's subjects needs the answer, so
a quota'd request would pay two sequential round trips (the check, then the count), and two cannot
stay within 0.2 ms on a machine whose bare round trip is ~0.1 ms when idle. So the check also
*reserves* room under each quota'd scope the operation can show subjects under, in the same script:
as many units as the operation's measure forecasts (``shown``: per type, the objects its answer can
hold at most, by ``first``, ``_entities``' representations and ``default_list_size`` for an unpaged
list, as its cost is estimated), no more than the room left (the quota, less today's subjects, less
what other requests hold). The counters keep ``|today's subjects| + held <= quota`` in every atomic
step, so requests racing for the last units, on any replicas, are never granted more than is left.
After execution:

- every scope's subjects within what was reserved there (the common case): the answer fits by
  construction and goes at once; the exact count (the subjects added, the reservation released) is
  sent after it (``settle``), awaited by nobody on the request's path, and flushed by ``aclose``
  before the counters close, so nothing is dropped at shutdown. That the answer fits is told from
  how many subjects it showed, not from who they are: when every quota'd scope its fields count
  under holds at least that many units, no scope can count more. Who they are (a person's keyed
  hash, the scopes each was shown under) is worked out after the answer, with the count, in a task
  started on the loop's next turn; if that fails, it is logged and the reservation keeps its room
  (over-counted, never under). Only an answer the bound does not clear has its subjects worked out
  on its path, to tell exactly whether they fit;
- more subjects than reserved under some scope (an unpaged list longer than the forecast, no
  forecast at all), and this replica's *lease* there covers the rest: the rest is drawn from the
  lease here, in process, and the answer goes at once, its count sent after it as above (below);
- past its reservation and what the lease covers, no reservation (no room left, the day ended
  meanwhile): today's exact count runs on the path, all or nothing, counting other requests'
  reservations and other replicas' leases as used (near the end of a quota a request may then be
  refused for room another one still holds: the refusal says so and asks to retry in a second),
  this replica's lease's free units given back first (room for it too), and releasing this
  request's own reservation.

Leases: a reservation sized per request is only a forecast; an answer longer than it (a list the
forecast could not bound, an operation with no forecast) would pay a second round trip. So each
replica also holds, per client, quota'd scope and day, a *lease*: units kept under its own holder
(``lease.<replica>``) in the same reservations' hash, counted in ``held`` like any reservation, so
``|today's subjects| + held <= quota`` still holds in every atomic step on any number of replicas.
It is topped up by the admission script already on the path (no round trip of its own) when less
than half of it is free, back to ``quota_lease`` of the quota (``[fair_use]``, 2 % by default), from
no more than half the room left once the request's own units are granted, so it shrinks near a
quota's end and the last unit is never leased: the quota's last units (the last ``lease`` units per
replica, about) are counted exactly. A lease is wanted once an answer of the client went past its
reservation under the scope on this replica (that one counted exactly); a client whose answers fit
their forecasts never holds one. Its in-process accounting (``_Lease``): ``units`` held as known
here (a top-up added when granted), ``drawn`` by answers whose count has not come back; an answer
draws before the loop turns, so concurrent answers on one replica never draw the same unit, and a
top-up is asked once at a time, so the lease never passes its size. The count after the answer adds
its subjects and takes from the lease only those new beyond the request's own reservation: subjects
shown earlier today cost nothing, the units drawn for them return to the lease (over-counted only
while the count is on its way). A new day's first admission starts a new lease (the old day's units
stay with the old day's keys, which end with it). A lease is good only for the quota its last top-up
was granted under, while this replica sees no other reading of it for the client: another quota, or
the same one read at another registry change counter (``Caller.registry_seen``, the counter token
checks read once per request, ``hub.oauth.live``), or at none known. Units granted under a quota are
within it when granted, but not once subjects were shown under a higher one: a quota raised and
lowered back while only other replicas served the client reads the same here, at a counter that
moved. So a quota the owner changed holds from the client's next request here, as without leases
(that answer draws nothing: it is counted exactly, the lease's free units given back in it; the next
top-up, under the quota as it stands, makes the lease good again); any registry change costs each
lease that one exact count. A client read at no known counter (a gateway's, read afresh per request;
a replica whose counter cannot be read) is never leased. Per-replica leases over a shared pool
because the pool would be one more shared decision per request, which is the round trip they save;
over bigger per-request forecasts because those hold room for every request, a lease once per replica.

The forecast's soundness is not what keeps a quota: an answer past its reservation and lease takes
the exact count, so a forecast too small costs a round trip, never a subject over the quota; one too
large only holds room longer than needed while the request runs.

What a crash costs: a reservation whose settle never comes (the process killed after the answer, or
Redis lost before the settle reached it) keeps holding its units until its day's counters end; a
settle is idempotent (it releases its ticket once and takes from a lease only subjects new to the
set), never frees room early. The quota then over-counts by what the reservation held beyond the
subjects actually new, for the rest of that day; an answer given is never left uncounted. A killed
replica's lease, likewise, over-counts by its free units (``quota_lease`` of the quota at most) for
the rest of its day; a count after an answer drawn from the lease that fails leaves the units it
drew held (never drawn again here).


Redis unreachable: quotas fail closed (HTTP 503 ``QUOTA_UNAVAILABLE``: an answer that cannot be
counted is not given), while rate limits and cost budgets fall back to this replica's own counters
with the same limits: an outage costs precision (each of N replicas admits up to the limit), never
availability. Both are logged once per outage and counted in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hub.audit.records import Pseudonyms
from hub.audit.subjects import Disclosed
from hub.context import NO_QUOTAS, Caller
from hub.fairuse.counters import (
    DAY, MINUTE, QUOTA_UNAVAILABLE, Admission, Counters, CountersUnavailable, MemoryCounters, Usage,
)
from hub.fairuse.limits import ClientLimits, FairUseSettings
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import FieldScopes, shown_under

log = logging.getLogger("hub.fairuse")
ANONYMOUS = "anonymous"  # the development demo's caller is limited too, under this name
FORECASTS_KEPT = 1024  # operation measures (with a caller's quotas) whose forecast a replica keeps
NO_RESERVATION: Mapping[str, tuple[int, int]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str
    extensions: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def outcome(self, request_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        error = {"message": self.message, "extensions": {**self.extensions, "requestId": request_id}}
        return self.status, {"errors": [error]}, self.headers


@dataclass(frozen=True, slots=True)
class Held:
    """What an admission holds for its request: the ticket, the day and the units under each scope."""

    ticket: str = ""
    day: int = 0
    reserved: Mapping[str, int] = field(default_factory=dict)


NOTHING_HELD = Held()
LEASES_KEPT = 4096  # (client, scope) leases a replica keeps (past it, none more: answers are counted exactly)
EVICT_EVERY = 256  # with that many kept, leases holding nothing are looked for once per so many answers wanting one


@dataclass(slots=True)
class _Lease:
    """The units of one client's quota'd scope, for one day, this replica holds in the shared counters
    under its holder. A new day (or a lease dropped) is a new object: a settle still out changes only
    the one it drew from."""

    day: int
    units: int = 0  # held in the counters, as known here: top-ups added once granted, units taken once told
    drawn: int = 0  # of them, promised to answers whose settle has not come back
    asking: bool = False  # a top-up on its way (one at a time: the lease never passes its size)
    quota: int = 0  # the quota its units are good for (0: none): the one its last top-up was granted under
    seen: tuple[int, int | None] = (0, None)  # the quota its client's requests last came with here, and
    # the registry's change counter their record was read at (None: unknown, so never the same)
    changes: int = 0  # how many times that changed

    @property
    def free(self) -> int:
        return self.units - self.drawn

    def saw(self, quota: int, registry_seen: int | None) -> None:
        """A request of its client came with ``quota``, read at the registry's change counter
        ``registry_seen``. Another quota than the last one seen (the owner changed it), or the same
        read at another counter (the registry changed meanwhile: the quota may have been raised and
        lowered back while only other replicas served the client), or at none known, leaves the units
        good for no quota until a top-up is granted under the new one: a grant is made only while
        ``|shown today| + held`` is within the quota it was asked under, so units granted under a
        lower quota may have been passed since (subjects shown while it was higher)."""
        seen = (quota, registry_seen)
        if seen != self.seen or registry_seen is None:
            self.seen, self.quota, self.changes = seen, 0, self.changes + 1


NO_DRAWS: Mapping[str, tuple[_Lease, int]] = MappingProxyType({})


class FairUse:
    def __init__(
        self, settings: FairUseSettings, counters: Counters, metrics: FairUseMetrics, scopes_of: FieldScopes,
        pseudonyms: Callable[[], Awaitable[Pseudonyms]], clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.counters = counters
        self.metrics = metrics
        self.clock = clock
        self._scopes_of = scopes_of
        self._pseudonyms = pseudonyms
        self._local = MemoryCounters()  # this replica's own, while the shared counters are unreachable
        self._outage = False
        self._types_under: dict[str, frozenset[str]] = {}  # type -> every scope a field of it counts under
        for name, (type_scope, own_scope) in scopes_of.items():
            type_name = name.split(".", 1)[0]
            self._types_under[type_name] = self._types_under.get(type_name, frozenset()) | {
                type_scope, *(() if own_scope is None else (own_scope,))
            }
        self._replica = os.urandom(6).hex()  # tickets unique across replicas
        self._holder = f"lease.{self._replica}"  # this replica's leases, beside the tickets (never one of them)
        self._leases: dict[tuple[str, str], _Lease] = {}  # (client, scope) -> today's, once one was needed
        self._evictions = 0  # answers that wanted a lease with LEASES_KEPT kept
        self._tickets = itertools.count()
        self._settles: set[asyncio.Task[None]] = set()
        # Counts of answers given since the loop's last turn, started together once the requests that
        # gave them have let the loop go (a task each costs more than the rest of a quota'd answer's check).
        self._unsent: list[tuple[
            str, Held, Mapping[str, Collection[str]] | Disclosed, Mapping[str, int], Mapping[str, tuple[_Lease, int]]
        ]] = []
        self._sending: asyncio.Handle | None = None
        self._forecasts: dict[int, tuple[Mapping[str, int], dict[str, int], dict[str, tuple[int, int]]]] = {}
        self._counted_reserved, self._counted_exact = metrics.counts.labels("reserved"), metrics.counts.labels("exact")
        self._counted_leased = metrics.counts.labels("lease")

    def limits_of(self, caller: Caller) -> ClientLimits:
        return caller.limits or self.settings.defaults

    def day(self, now: float) -> int:
        return int((now + self.settings.utc_offset_minutes * 60) // DAY)

    def day_ends(self, day: int) -> float:
        return (day + 1) * DAY - self.settings.utc_offset_minutes * 60

    def forecast(self, caller: Caller, shown: Mapping[str, int] | None) -> dict[str, tuple[int, int]]:
        """Per quota'd scope of the caller: (its quota, the units to reserve), from the objects per
        type the operation's answer can hold (``hub.graphql.measure``); a type counts under every
        scope one of its fields counts under."""
        wanted: dict[str, tuple[int, int]] = {}
        if not shown or not caller.quotas:
            return wanted
        for type_name, objects in shown.items():
            for scope in self._types_under.get(type_name, ()):
                quota = caller.quotas.get(scope)
                if quota is not None and objects > 0:
                    units = wanted[scope][1] + objects if scope in wanted else objects
                    wanted[scope] = (quota, min(units, quota))
        return wanted

    def _forecast_of(self, caller: Caller, shown: Mapping[str, int] | None) -> Mapping[str, tuple[int, int]]:
        """``forecast``, kept per measure and quotas: a document's measure is one mapping, kept with the
        document, so its requests (with the same quotas) share one forecast, which nobody changes."""
        if not shown or not caller.quotas:
            return NO_RESERVATION
        found = self._forecasts.get(id(shown))
        if found is not None and found[0] is shown and found[1] == caller.quotas:
            return found[2]
        wanted = self.forecast(caller, shown)
        if len(self._forecasts) >= FORECASTS_KEPT:
            self._forecasts.clear()
        self._forecasts[id(shown)] = (shown, dict(caller.quotas), wanted)  # the measure kept: its id not reused
        return wanted

    async def admit(self, caller: Caller, cost: int, shown: Mapping[str, int] | None = None) -> Refusal | Held:
        """The check before execution: the room it holds when the operation may run (its token and
        cost counted; for a quota'd caller, units reserved as ``forecast`` asks), else the refusal."""
        if not self.settings.enabled:
            return NOTHING_HELD
        client, limits, now = caller.client_id or ANONYMOUS, self.limits_of(caller), self.clock()
        day = self.day(now)
        reserve = self._forecast_of(caller, shown)
        ticket = f"{self._replica}.{next(self._tickets)}" if reserve else ""
        top_up = self._top_ups(client, caller, day) if self._leases and caller.quotas else None
        try:
            if top_up:
                admission = await self._admit_leasing(client, limits, cost, now, day, reserve, ticket, top_up)
            else:
                admission = await self.counters.admit(client, limits, cost, now, day, reserve, ticket)
            self._recovered()
        except CountersUnavailable as exc:
            self._lost(exc)
            if caller.quotas:
                return self._unavailable(client)
            self.metrics.fallbacks.inc()
            admission = await self._local.admit(client, limits, cost, now, day)
        if admission.refused is None:
            if not reserve:
                return NOTHING_HELD
            reserved = admission.reserved  # units granted are 0 or more
            if 0 in reserved.values():
                reserved = {scope: units for scope, units in reserved.items() if units > 0}
            return Held(ticket, day, reserved) if reserved else NOTHING_HELD
        self.metrics.refusals.labels(client, admission.refused).inc()
        if admission.refused == "rate":
            return _rate_limited(limits, admission)
        return self._over_budget(limits, admission, cost, now)

    def _top_ups(self, client: str, caller: Caller, day: int) -> dict[str, tuple[int, int]]:
        """Per quota'd scope whose lease (once one was needed) has less than half its size free: (the
        quota, the units that bring it back to its size); a new day's lease starts empty."""
        wanted: dict[str, tuple[int, int]] = {}
        for scope, quota in caller.quotas.items():
            lease = self._leases.get((client, scope))
            if lease is None:
                continue
            if lease.day != day and not lease.asking:
                lease = self._leases[(client, scope)] = _Lease(day)
            lease.saw(quota, caller.registry_seen)
            if lease.asking:
                continue
            size = self._lease_size(quota)
            if lease.free * 2 < size and size > lease.units:
                wanted[scope] = (quota, size - lease.units)
        return wanted

    def _lease_size(self, quota: int) -> int:
        return int(quota * self.settings.quota_lease)

    async def _admit_leasing(
        self, client: str, limits: ClientLimits, cost: int, now: float, day: int,
        reserve: Mapping[str, tuple[int, int]], ticket: str, top_up: Mapping[str, tuple[int, int]],
    ) -> Admission:
        """An admission that also tops up this replica's leases (the same round trip): what is granted
        is added to each lease once the counters said so, nothing when they did not answer."""
        leases = [self._leases[(client, scope)] for scope in top_up]
        changes = [lease.changes for lease in leases]
        for lease in leases:
            lease.asking = True
        try:
            admission = await self.counters.admit(
                client, limits, cost, now, day, reserve, ticket, top_up, self._holder,
            )
        finally:
            for lease in leases:
                lease.asking = False
        for scope, lease, before in zip(top_up, leases, changes, strict=True):
            granted = admission.leased.get(scope, 0)
            if granted:  # |shown| + held was within the quota: all its units are good for it, unless it changed since
                lease.units += granted
                lease.quota = top_up[scope][0] if lease.changes == before else 0
        return admission

    async def disclose(self, caller: Caller, disclosed: Disclosed, held: Held = NOTHING_HELD) -> Refusal | None:
        """The count after execution: None when every quota holds (the new subjects are then counted,
        or, within what ``held`` reserved, sent to be counted right after the answer)."""
        if not (self.settings.enabled and caller.quotas):
            return None
        client, now = caller.client_id or ANONYMOUS, self.clock()
        day = self.day(now)
        if held.reserved and held.day == day and self._within(disclosed, caller.quotas, held.reserved):
            self._settle(client, held, disclosed, caller.quotas)  # its subjects worked out after the answer
            return None
        shown = (
            shown_under(disclosed, self._scopes_of, caller.quotas, await self._pseudonyms()) if len(disclosed) else {}
        )
        if held.reserved and held.day == day and all(
            len(refs) <= held.reserved.get(scope, 0) for scope, refs in shown.items()
        ):
            self._counted_reserved.inc()
            self._settle(client, held, shown)
            return None
        if held.reserved and held.day != day:  # admitted yesterday: today's count is exact
            self._settle(client, held, {})
            held = NOTHING_HELD
        if not shown:
            if held.reserved:
                self._settle(client, held, {})
            return None
        draws = self._draw(client, day, held, shown, caller.quotas, caller.registry_seen is not None)
        if draws:  # past its reservation, the rest from this replica's lease: counted after the answer
            self._counted_leased.inc()
            ticket = held.ticket or f"{self._replica}.{next(self._tickets)}"
            self._settle(client, Held(ticket, day, held.reserved), shown, draws=draws)
            return None
        self._counted_exact.inc()
        counted: dict[str, tuple[int, Collection[str]]] = {
            scope: (caller.quotas[scope], refs) for scope, refs in shown.items()
        }
        for scope in held.reserved:  # released with the count, shown under or not
            counted.setdefault(scope, (caller.quotas.get(scope, 1), ()))
        returned = self._give_back(client, day, shown)
        try:
            refused = await self.counters.disclose(
                client, day, counted, held.ticket, self._holder if returned else "", returned,
            )
            self._recovered()
        except CountersUnavailable as exc:
            self._lost(exc)
            return self._unavailable(client)
        if refused is None:
            return None
        self.metrics.refusals.labels(client, "quota").inc()
        quota, resets = caller.quotas[refused.scope], self.day_ends(day)
        left = max(0, quota - refused.used - refused.held)
        running = (
            f" and {refused.held} held by this client's requests still running and the hub's replicas' leases, "
            f"which count as shown until used or given back" if refused.held else ""
        )
        message = (
            f"the answer would show {refused.asked} more subjects under {refused.scope}, whose grant allows "
            f"{quota} a day; {refused.used} shown today{running}, {left} left; the quota refills at "
            f"{_iso(resets)} (the answer is refused whole; subjects shown today count once)"
        )
        extensions = {
            "code": "FORBIDDEN", "reason": "quota", "scope": refused.scope, "quota": quota,
            "used": refused.used, "asked": refused.asked, "resetsAt": _iso(resets),
        }
        retry = resets - now
        if refused.held and refused.used + refused.asked <= quota:  # room another request may yet give back
            extensions["held"] = refused.held
            retry = 1.0
        return Refusal(429, message, extensions, {"Retry-After": _seconds(retry)})

    def _draw(
        self, client: str, day: int, held: Held, shown: Mapping[str, Collection[str]], quotas: Mapping[str, int],
        leasing: bool,
    ) -> dict[str, tuple[_Lease, int]]:
        """Per scope an answer shows more subjects under than its reservation holds, the lease it draws
        the rest from and how many, drawn now (before the loop turns: concurrent answers see them
        gone); nothing when some lease cannot cover its scope's or is not good for the caller's quota
        (``_Lease.saw``: the answer is then counted exactly, and a scope with no lease yet gets one
        from the next admission, if its caller's record was read at a known registry counter: ``leasing``)."""
        draws: dict[str, tuple[_Lease, int]] = {}
        short = False
        for scope, refs in shown.items():
            extra = len(refs) - held.reserved.get(scope, 0)
            if extra <= 0:
                continue
            lease = self._leases.get((client, scope))
            if lease is None and leasing and self._lease_size(quotas[scope]) > 0:
                if len(self._leases) >= LEASES_KEPT:
                    self._evict(day)
                if len(self._leases) < LEASES_KEPT:
                    self._leases[(client, scope)] = _Lease(day)
            if lease is None or lease.day != day or lease.free < extra or lease.quota != quotas[scope]:
                short = True
            else:
                draws[scope] = (lease, extra)
        if short or not draws:
            return {}
        for lease, extra in draws.values():
            lease.drawn += extra
        return draws

    def _evict(self, day: int) -> None:
        """With ``LEASES_KEPT`` kept, drop those that hold nothing (a day gone, or no units and none asked
        for), looked for once per ``EVICT_EVERY`` answers wanting a lease. One that holds units is kept:
        dropped, its units would stay held in the counters until its day ends, unused, and its client
        would be leased as much again beside them (dropping them all each time the replica was full
        leaked a lease per client and scope every time, until clients were refused for room nobody used)."""
        self._evictions += 1
        if self._evictions % EVICT_EVERY != 1:
            return
        for key, lease in list(self._leases.items()):
            if lease.day != day or (lease.units == 0 and not lease.asking):
                del self._leases[key]

    def _give_back(self, client: str, day: int, shown: Mapping[str, Collection[str]]) -> dict[str, int]:
        """The free units of this replica's leases under the scopes an exact count decides, given back
        in that count (room for it, then for any replica): near a quota's end a lease must not refuse
        its own replica's answers. The next admission asks again, for half the room left at most."""
        returned: dict[str, int] = {}
        for scope in shown:
            lease = self._leases.get((client, scope))
            if lease is not None and lease.day == day and lease.free > 0:
                returned[scope] = lease.free
                lease.units -= lease.free
        return returned

    def release(self, caller: Caller, held: Held) -> None:
        """Give back what ``held`` reserved when the operation showed nothing (it ran out of time)."""
        if held.reserved:
            self._settle(caller.client_id or ANONYMOUS, held, {})

    def _within(self, disclosed: Disclosed, quotas: Mapping[str, int], reserved: Mapping[str, int]) -> bool:
        """Whether an answer fits its reservations, told without working out its subjects: every quota'd
        scope a field it showed counts under holds at least as many units as the answer has subjects
        in all (a bound: under each scope it counts no more subjects than that). A few field sets per
        request, whatever the number of subjects; False sends the answer to the exact test."""
        subjects = len(disclosed)
        if not subjects:
            return True
        scopes_of = self._scopes_of
        for fields in disclosed.shown()[0]:
            for name, decision in fields.items():
                scopes = scopes_of.get(name)
                if scopes is None or decision == "deny":
                    continue
                type_scope, own_scope = scopes
                if type_scope in quotas and reserved.get(type_scope, 0) < subjects:
                    return False
                if (own_scope is not None and decision == "allow" and own_scope in quotas
                        and reserved.get(own_scope, 0) < subjects):
                    return False
        return True

    def _settle(
        self, client: str, held: Held, shown: Mapping[str, Collection[str]] | Disclosed,
        quotas: Mapping[str, int] = NO_QUOTAS, draws: Mapping[str, tuple[_Lease, int]] = NO_DRAWS,
    ) -> None:
        """Send the count of an answer within its reservations (every scope held, subjects or none),
        awaited by nobody on the request's path; ``settled`` and ``aclose`` wait for it. Given the
        answer's ``Disclosed`` (and the caller's quotas), its subjects are worked out after the
        answer went, in the count's own task, which starts on the loop's next turn."""
        self._unsent.append((client, held, shown, quotas, draws))
        if self._sending is None:
            self._sending = asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._sending = None
        unsent, self._unsent = self._unsent, []
        loop = asyncio.get_running_loop()
        for client, held, shown, quotas, draws in unsent:
            if isinstance(shown, Disclosed):  # an answer told within from its number of subjects
                self._counted_reserved.inc()
                task = loop.create_task(self._counting(client, held, shown, quotas))
            else:
                task = loop.create_task(self._settling(client, held, shown, draws))
            self._settles.add(task)
            task.add_done_callback(self._settles.discard)

    async def _counting(self, client: str, held: Held, disclosed: Disclosed, quotas: Mapping[str, int]) -> None:
        """The subjects of an answer already given (persons' keyed hashes included), then their count."""
        try:
            pseudonyms = await self._pseudonyms()
            shown = shown_under(disclosed, self._scopes_of, quotas, pseudonyms) if len(disclosed) else {}
        except Exception:  # nobody's to raise to: logged, and the reservation keeps its room (never under-counts)
            self.metrics.unsettled.inc()
            log.exception(
                "an answer's subjects could not be worked out for its quota count: its reservation of %s keeps "
                "counting as used until the day's counters end", dict(held.reserved),
            )
            return
        await self._settling(client, held, shown)

    async def _settling(
        self, client: str, held: Held, shown: Mapping[str, Collection[str]],
        draws: Mapping[str, tuple[_Lease, int]] = NO_DRAWS,
    ) -> None:
        counted: dict[str, Collection[str]] = dict.fromkeys(held.reserved, ())
        counted.update(shown)  # within the reservations (and draws) by the test that sent it: every subject counted
        taken: Mapping[str, int] | None = None
        try:
            taken = await self.counters.settle(client, held.day, held.ticket, counted, self._holder if draws else "")
        except CountersUnavailable as exc:  # the reservation keeps holding its units: over-counted, never under
            self._lost(exc)
            self.metrics.unsettled.inc()
            log.warning(
                "an answer's quota count could not be sent (%s): its reservation of %s keeps counting as used "
                "until the day's counters end", exc, dict(held.reserved),
            )
        except Exception:  # a settle is nobody's to raise to: logged, and its room stays held
            self.metrics.unsettled.inc()
            log.exception("an answer's quota count failed: its reservation keeps counting as used")
        finally:
            for scope, (lease, extra) in draws.items():
                lease.drawn -= extra
                # told: the units the subjects took; not told: as if all were taken (what is left of them
                # stays held in the counters, over-counted for the day, never drawn twice)
                lease.units -= extra if taken is None else taken.get(scope, 0)

    async def settled(self) -> None:
        """Wait for every count sent after an answer (``aclose`` does, before the counters close)."""
        while True:
            if self._unsent:  # not started yet: started now, on this loop
                if self._sending is not None:
                    self._sending.cancel()
                self._send()
            if not self._settles:
                return
            task = next(iter(self._settles))  # a settle raises nothing (``_settling`` keeps its failures)
            await task
            self._settles.discard(task)  # done: its own callback would only come on the loop's next turn

    async def aclose(self) -> None:
        """Flush the counts sent after answers, then close the shared counters."""
        try:
            await self.settled()
        finally:
            await self.counters.aclose()

    async def usage(self, client: str, limits: ClientLimits, scopes: Mapping[str, int]) -> Usage | None:
        """A client's consumption now (None when the shared counters cannot be read); ``held`` is the
        room its requests still running have reserved, which counts as used until they answer."""
        now = self.clock()
        try:
            return await self.counters.usage(client, limits, now, self.day(now), list(scopes))
        except CountersUnavailable:
            return None

    def _over_budget(self, limits: ClientLimits, admission: Admission, cost: int, now: float) -> Refusal:
        per_minute = admission.refused == "cost_per_minute"
        budget = limits.cost_per_minute if per_minute else limits.cost_per_day
        refills = (now // MINUTE + 1) * MINUTE if per_minute else self.day_ends(self.day(now))
        window = "minute" if per_minute else "day"
        left = int(admission.left)
        never = " (more than the whole budget: it cannot run under this budget)" if cost > budget else ""
        message = (
            f"the operation costs {cost}; {left} is left of this client's budget of {budget} per {window}, "
            f"which refills at {_iso(refills)}{never}"
        )
        extensions = {
            "code": "COST_BUDGET_EXCEEDED", "budget": admission.refused, "cost": cost, "limit": budget,
            "left": left, "refillsAt": _iso(refills),
        }
        return Refusal(429, message, extensions, {"Retry-After": _seconds(refills - now)})

    def _unavailable(self, client: str) -> Refusal:
        self.metrics.refusals.labels(client, "unavailable").inc()
        message = (
            "the disclosure quotas on this client's grants cannot be counted right now (the hub's counter "
            "store is unreachable), so no answer is given; try again shortly"
        )
        return Refusal(503, message, {"code": QUOTA_UNAVAILABLE}, {"Retry-After": "1"})

    def _lost(self, exc: CountersUnavailable) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "fair-use counters unreachable (%s): quotas refuse with 503, rate limits and cost budgets "
                "are counted by each replica on its own until they are back", exc,
            )

    def _recovered(self) -> None:
        if self._outage:
            self._outage = False
            log.warning("fair-use counters reachable again: limits are shared by every replica once more")


def _rate_limited(limits: ClientLimits, admission: Admission) -> Refusal:
    message = (
        f"this client is over its rate limit ({limits.rate:g} requests per second, bursts of {limits.burst}); "
        f"nothing was run: retry after {admission.retry_after:.2f} s"
    )
    extensions = {
        "code": "RATE_LIMITED", "rate": limits.rate, "burst": limits.burst,
        "retryAfter": round(admission.retry_after, 3),
    }
    return Refusal(429, message, extensions, {"Retry-After": _seconds(admission.retry_after)})


def _seconds(delay: float) -> str:
    return str(max(1, math.ceil(delay)))


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
