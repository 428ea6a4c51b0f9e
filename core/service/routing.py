"""FC routing in the saga (where soft locks go), its explanation, a supervisor's override."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain import routing as rules_
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.order import OrderStatus
from core.persistence.fulfillment_models import RoutingDecision
from core.persistence.repos import orders as order_repo
from core.persistence.repos import routing as repo
from core.persistence.repos import shipments as shipment_repo
from core.persistence.repos import stock as stock_repo
from core.persistence.repos.orders import OrderRecord
from core.persistence.repos.stock import Level
from core.service import inventory, orders, shipments

SPLIT_POLICIES = ("split",)


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """The routing rules a deployment configures (FulfillmentSettings' local_tz, split_policy)."""

    local_tz: str = "Asia/Kolkata"
    split_policy: str = "split"

    def __post_init__(self) -> None:
        if self.split_policy == "backorder":
            raise InvalidArgument("split_policy 'backorder' is not available yet: use 'split' "
                                  "(an order no single FC can serve ships from several FCs)",
                                  field="split_policy")
        if self.split_policy not in SPLIT_POLICIES:
            raise InvalidArgument(f"split_policy must be 'split', got {self.split_policy!r}",
                                  field="split_policy")
        try:
            ZoneInfo(self.local_tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidArgument(f"local_tz {self.local_tz!r} is not an IANA time zone "
                                  "(e.g. Asia/Kolkata)", field="local_tz") from None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.local_tz)


DEFAULT_RULES = RoutingRules()


class BacklogCache:
    """Open shipments per FC for routing, counted at most once per `ttl_s`.

    Counting the work in progress costs a query over every open order; the saga routes
    hundreds of orders a second, and a backlog measured against a *daily* capacity does not
    change in a second. Between counts the shipments this process routes are added at once, so
    a stream of orders still spreads out; shipments that leave (handed off, cancelled) and
    those other processes route show up at the next count.
    """

    def __init__(self, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] | None = None
        self._expires = 0.0

    def counts(self, conn: Connection) -> dict[str, int]:
        with self._lock:
            now = self._clock()
            if self._counts is None or now >= self._expires:
                self._counts = repo.backlog(conn)
                self._expires = now + self._ttl
            return dict(self._counts)

    def routed(self, fc_ids: Iterable[str]) -> None:
        """New shipments at these FCs (one each), counted until the next count."""
        with self._lock:
            if self._counts is not None:
                for fc in fc_ids:
                    self._counts[fc] = self._counts.get(fc, 0) + 1


class RoutingInputs:
    """What routing an order reads — its lines, their stock at every FC, the FCs — asked for
    together before they are needed (`inputs_soon`): one round trip on PostgreSQL."""

    def __init__(self, conn: Connection, order_id: str) -> None:
        self._needs = order_repo.line_needs_soon(conn, order_id)
        self._levels = stock_repo.levels_for_order_soon(conn, order_id)
        self._sites = repo.sites_soon(conn)

    def needs(self) -> dict[str, int]:
        """Units per SKU over the order's lines."""
        needs: dict[str, int] = defaultdict(int)
        for sku, quantity in self._needs.get():
            needs[sku] += quantity
        return dict(needs)

    def levels(self) -> list[Level]:
        return self._levels.get()

    def sites(self) -> list[repo.FcSite]:
        return self._sites.get()


def inputs_soon(conn: Connection, order_id: str) -> RoutingInputs:
    return RoutingInputs(conn, order_id)


def _views(conn: Connection, levels: list[Level],
           backlog_cache: BacklogCache | None = None,
           inputs: RoutingInputs | None = None) -> dict[str, rules_.FcView]:
    backlog = backlog_cache.counts(conn) if backlog_cache is not None else repo.backlog(conn)
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    for level in levels:
        stock[level.fc_id][level.sku] = inventory.available(level)
    return {fc.fc_id: rules_.FcView(fc.fc_id, fc.latitude, fc.longitude, fc.cutoff_hour,
                                    fc.daily_capacity, int(backlog.get(fc.fc_id, 0)),
                                    stock.get(fc.fc_id, {}))
            for fc in (inputs.sites() if inputs is not None else repo.sites(conn))}


def score_all(conn: Connection, order: OrderRecord, levels: list[Level], needs: dict[str, int],
              now: datetime, rules: RoutingRules, backlog: BacklogCache | None = None,
              inputs: RoutingInputs | None = None,
              ) -> tuple[list[rules_.Candidate], dict[str, rules_.FcView]]:
    """Every FC scored for the order, best first (backlog: counted now unless a cache)."""
    views = _views(conn, levels, backlog, inputs)
    customer = rules_.customer_point(order.ship_to or {})
    ranked = rules_.rank([rules_.score_fc(v, needs, customer, order.promised_by, now, rules.tz)
                          for v in views.values()])
    return ranked, views


def lock_where_routed(conn: Connection, order: OrderRecord, needs: dict[str, int], now: datetime,
                      rules: RoutingRules = DEFAULT_RULES,
                      backlog: BacklogCache | None = None,
                      inputs: RoutingInputs | None = None) -> tuple[str | None, str]:
    """Route the order and soft-lock its units there; record the decision. Like soft_lock.
    `inputs`: what routing reads, asked for already (the stock and the FCs)."""
    decided: list[dict[str, Any]] = []
    plan_fcs: list[set[str]] = []  # the FCs of the last plan: one new shipment each

    def planner(levels: list[Level], needs: dict[str, int]) -> dict[tuple[str, str], int] | None:
        ranked, views = score_all(conn, order, levels, needs, now, rules, backlog, inputs)
        if not ranked:
            return None
        best = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        if best.has_every_line:
            plan = {(best.fc_id, sku): q for sku, q in needs.items()}
            why = rules_.why_chosen(best, runner_up)
        else:
            split = rules_.plan_split(ranked, views, needs)
            if split is None:
                return None
            plan = split
            units: dict[str, int] = defaultdict(int)
            for (fc, _sku), q in plan.items():
                units[fc] += q
            fcs = sorted(units, key=lambda fc: (-units[fc], fc))
            where = ", ".join(f"{q}×{sku} from {fc}" for (fc, sku), q in sorted(plan.items()))
            why = (f"split into {len(fcs)} shipments because no fulfillment center has every "
                   f"line ({where}); best-scored FCs first")
            best = next(c for c in ranked if c.fc_id == fcs[0])
            why = f"{why}; {best.reason}"
        plan_fcs.append({fc for fc, _sku in plan})
        decided.append({"chosen": best.fc_id, "candidates": [
            {**c.as_json(), "reason": why} if c.fc_id == best.fc_id else c.as_json()
            for c in ranked]})
        return plan

    main_fc, detail = inventory.soft_lock(
        conn, order.order_id, needs, planner,
        levels=None if inputs is None else _in_needs_order(inputs.levels(), needs))
    if main_fc is not None and backlog is not None and plan_fcs:
        backlog.routed(plan_fcs[-1])
    if main_fc is not None and decided:
        chosen = decided[-1]
        repo.replace_decision(conn, order.order_id, chosen["chosen"], chosen["candidates"], now)
        detail = f"{detail}; routed to {chosen['chosen']}"
    return main_fc, detail


def _in_needs_order(levels: list[Level], needs: dict[str, int]) -> list[Level]:
    """The levels as soft_lock reads them itself: SKU by SKU in the order of `needs`."""
    by_sku: dict[str, list[Level]] = defaultdict(list)
    for level in levels:
        by_sku[level.sku].append(level)
    return [level for sku in needs for level in by_sku.get(sku, [])]


def explain(session: Session, order_id: str) -> RoutingDecision:
    """The stored routing decision of an order (NOT_FOUND before routing)."""
    decision = repo.decision(session, order_id)
    if decision is None:
        if order_repo.get(session, order_id) is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        raise NotFound(f"order {order_id} has not been routed yet: routing runs when its stock "
                       "is soft-locked; ask again once it is PROCESSING")
    return decision


def assign_order(session: Session, order_id: str, fc_id: str, who: str,
                 now: datetime) -> orders.OrderSnapshot:
    """A supervisor sends an order to another FC before picking starts: its soft locks move
    there (or nothing changes), its shipments and pick lines are rebuilt; Order_Assigned."""
    conn = session.connection()
    order = order_repo.lock(conn, order_id)
    if order is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    if repo.fc(conn, fc_id) is None:
        raise NotFound(f"no fulfillment center {fc_id[:64]!r}: list them with "
                       "ListFulfillmentCenters")
    if order.status != OrderStatus.PROCESSING or order.cancel_requested:
        state = "being cancelled" if order.cancel_requested else order.status
        raise FailedPrecondition(
            f"order {order_id} is {state}: an order can be reassigned only while it is "
            "PROCESSING, before picking starts")
    # Locking the queued lines keeps pickers (SKIP LOCKED) from claiming them meanwhile.
    started = shipment_repo.started_at(conn, order_id)
    if started:
        raise FailedPrecondition(
            f"picking of order {order_id} has started at {', '.join(sorted(started))}: it can "
            "no longer be reassigned (report a short pick to re-route missing units)")
    locks = stock_repo.locks_of(conn, order_id)
    if any(lock.hard_quantity for lock in locks):
        raise FailedPrecondition(f"order {order_id} has picked units: it can no longer be "
                                 "reassigned")
    moving: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for lock in locks:
        total[lock.sku] += lock.quantity
        if lock.fc_id != fc_id:
            moving[lock.sku] += lock.quantity
    if not moving:  # already there (a retried call): nothing to do
        return orders.load(session, order_id)
    have = stock_repo.available_at(conn, fc_id, list(moving))
    for sku, q in sorted(moving.items()):
        if have.get(sku, 0) < q:
            raise FailedPrecondition(
                f"{fc_id} lacks stock for {sku}: needs {q}, {max(have.get(sku, 0), 0)} "
                f"available; order {order_id} stays where it is")
    for lock in locks:
        if lock.fc_id != fc_id and lock.quantity:
            stock_repo.unlock(conn, lock.fc_id, lock.sku, lock.quantity)
    for sku, q in sorted(moving.items()):
        if not stock_repo.relock(conn, fc_id, sku, q):
            # Taken meanwhile by another order: this transaction rolls back, nothing moves.
            raise FailedPrecondition(f"{fc_id} lacks stock for {sku}: it was just taken by "
                                     f"another order; order {order_id} stays where it is")
    stock_repo.replace_locks(conn, order_id, fc_id, dict(total))
    previous = order.fc_id or "none"
    order.fc_id, order.updated_at = fc_id, now
    order_repo.save(conn, order)
    _record_override(conn, order_id, fc_id, previous, who, now)
    moved = ", ".join(f"{q}×{sku}" for sku, q in sorted(moving.items()))
    shipments.requeue_for_order(
        conn, order, now,
        f"reassigned to {fc_id} by {who}: overrides routing's choice of {previous}; "
        f"moved soft locks of {moved}")
    return orders.load(session, order_id)


def _record_override(conn: Connection, order_id: str, fc_id: str, previous: str, who: str,
                     now: datetime) -> None:
    stored = repo.candidates_of(conn, order_id)
    note = f"assigned by {who} over routing's choice of {previous}"
    if stored is None:
        repo.replace_decision(conn, order_id, fc_id, [], now, overridden_by=who)
        return
    candidates = [{**c, "reason": f"{note}; {c['reason']}"} if c["fc_id"] == fc_id else c
                  for c in stored]
    repo.override(conn, order_id, fc_id, candidates, now, who)
