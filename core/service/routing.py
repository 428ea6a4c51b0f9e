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

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain import routing as rules_
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.order import OrderStatus
from core.persistence.direct import HotStatement
from core.persistence.fulfillment_models import PickLine, RoutingDecision, Shipment
from core.persistence.models import FulfillmentCenter, Order, SoftLock
from core.service import inventory, orders, shipments

SPLIT_POLICIES = ("split",)
# Shipments that still weigh on an FC's day: not yet handed to a carrier.
OPEN_SHIPMENT_STATUSES = ("pending", "picking", "picked", "packing", "packed")

FCS = FulfillmentCenter.__table__
DECISIONS = RoutingDecision.__table__
_SHIPMENTS = Shipment.__table__
_PICK_LINES = PickLine.__table__
_LOCKS = SoftLock.__table__

_ALL_FCS = HotStatement(select(FCS.c.fc_id, FCS.c.latitude, FCS.c.longitude,
                              FCS.c.cutoff_hour, FCS.c.daily_capacity))
# Reached through the open orders (indexed by status) so the count costs the work in progress,
# not every shipment ever made; SHIPPED because a split order ships one parcel at a time.
_OPEN_ORDERS = select(Order.__table__.c.order_id).where(Order.__table__.c.status.in_(
    [OrderStatus.PROCESSING, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.SHIPPED]))
_BACKLOG = (select(_SHIPMENTS.c.fc_id, func.count())
            .where(_SHIPMENTS.c.order_id.in_(_OPEN_ORDERS),
                   _SHIPMENTS.c.status.in_(OPEN_SHIPMENT_STATUSES))
            .group_by(_SHIPMENTS.c.fc_id))
_DROP_DECISION = HotStatement(delete(DECISIONS).where(
    DECISIONS.c.order_id == bindparam("order_id")))
_INSERT_DECISION = HotStatement(insert(DECISIONS), ["order_id", "chosen_fc_id", "candidates",
                                                    "decided_at", "overridden_by"])


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
                self._counts = {fc: int(n) for fc, n in conn.execute(_BACKLOG)}
                self._expires = now + self._ttl
            return dict(self._counts)

    def routed(self, fc_ids: Iterable[str]) -> None:
        """New shipments at these FCs (one each), counted until the next count."""
        with self._lock:
            if self._counts is not None:
                for fc in fc_ids:
                    self._counts[fc] = self._counts.get(fc, 0) + 1


def _views(conn: Connection, levels: list[Any],
           backlog_cache: BacklogCache | None = None) -> dict[str, rules_.FcView]:
    backlog = (backlog_cache.counts(conn) if backlog_cache is not None
               else {fc: int(n) for fc, n in conn.execute(_BACKLOG)})
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    for level in levels:
        stock[level.fc_id][level.sku] = inventory.available(level)
    return {fc.fc_id: rules_.FcView(fc.fc_id, fc.latitude, fc.longitude, fc.cutoff_hour,
                                    fc.daily_capacity, int(backlog.get(fc.fc_id, 0)),
                                    stock.get(fc.fc_id, {}))
            for fc in _ALL_FCS.execute(conn)}


def score_all(conn: Connection, order: Any, levels: list[Any], needs: dict[str, int],
              now: datetime, rules: RoutingRules, backlog: BacklogCache | None = None,
              ) -> tuple[list[rules_.Candidate], dict[str, rules_.FcView]]:
    """Every FC scored for the order, best first (backlog: counted now unless a cache)."""
    views = _views(conn, levels, backlog)
    customer = rules_.customer_point(order.ship_to or {})
    ranked = rules_.rank([rules_.score_fc(v, needs, customer, order.promised_by, now, rules.tz)
                          for v in views.values()])
    return ranked, views


def lock_where_routed(conn: Connection, order: Any, needs: dict[str, int], now: datetime,
                      rules: RoutingRules = DEFAULT_RULES,
                      backlog: BacklogCache | None = None) -> tuple[str | None, str]:
    """Route the order and soft-lock its units there; record the decision. Like soft_lock."""
    decided: list[dict[str, Any]] = []
    plan_fcs: list[set[str]] = []  # the FCs of the last plan: one new shipment each

    def planner(levels: list[Any], needs: dict[str, int]) -> dict[tuple[str, str], int] | None:
        ranked, views = score_all(conn, order, levels, needs, now, rules, backlog)
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

    main_fc, detail = inventory.soft_lock(conn, order.order_id, needs, planner)
    if main_fc is not None and backlog is not None and plan_fcs:
        backlog.routed(plan_fcs[-1])
    if main_fc is not None and decided:
        chosen = decided[-1]
        _DROP_DECISION.execute(conn, {"order_id": order.order_id})
        _INSERT_DECISION.execute(conn, {
            "order_id": order.order_id, "chosen_fc_id": chosen["chosen"],
            "candidates": chosen["candidates"], "decided_at": now, "overridden_by": None})
        detail = f"{detail}; routed to {chosen['chosen']}"
    return main_fc, detail


def explain(session: Session, order_id: str) -> RoutingDecision:
    """The stored routing decision of an order (NOT_FOUND before routing)."""
    decision = session.get(RoutingDecision, order_id)
    if decision is None:
        if session.get(Order, order_id) is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        raise NotFound(f"order {order_id} has not been routed yet: routing runs when its stock "
                       "is soft-locked; ask again once it is PROCESSING")
    return decision


_ORDERS = Order.__table__
_STOCK = inventory.STOCK
_ORDER_FOR_UPDATE = select(_ORDERS).where(_ORDERS.c.order_id == bindparam("o")).with_for_update()
_ORDER_PICK_LINES = select(_PICK_LINES.c.fc_id, _PICK_LINES.c.task_id).where(
    _PICK_LINES.c.order_id == bindparam("o")).with_for_update()
_ORDER_SHIPMENTS = select(_SHIPMENTS.c.fc_id, _SHIPMENTS.c.status).where(
    _SHIPMENTS.c.order_id == bindparam("o"), _SHIPMENTS.c.status != "cancelled")
_ORDER_LOCKS = select(_LOCKS.c.fc_id, _LOCKS.c.sku, _LOCKS.c.quantity,
                      _LOCKS.c.hard_quantity).where(_LOCKS.c.order_id == bindparam("o"))
_AVAILABLE_AT = select(_STOCK.c.sku, _STOCK.c.on_hand - _STOCK.c.soft_locked
                       - _STOCK.c.hard_locked).where(
    _STOCK.c.fc_id == bindparam("fc"), _STOCK.c.sku.in_(bindparam("skus", expanding=True)))
_UNLOCK = (update(_STOCK)
           .where(_STOCK.c.fc_id == bindparam("fc"), _STOCK.c.sku == bindparam("s"))
           .values(soft_locked=_STOCK.c.soft_locked - bindparam("q")))
# Conditional, like the saga's lock: the units move only while they are still available.
_RELOCK = (update(_STOCK)
           .where(_STOCK.c.fc_id == bindparam("fc"), _STOCK.c.sku == bindparam("s"),
                  _STOCK.c.on_hand - _STOCK.c.soft_locked - _STOCK.c.hard_locked
                  >= bindparam("q"))
           .values(soft_locked=_STOCK.c.soft_locked + bindparam("q")))


def assign_order(session: Session, order_id: str, fc_id: str, who: str,
                 now: datetime) -> orders.OrderSnapshot:
    """A supervisor sends an order to another FC before picking starts: its soft locks move
    there (or nothing changes), its shipments and pick lines are rebuilt; Order_Assigned."""
    conn = session.connection()
    order = conn.execute(_ORDER_FOR_UPDATE, {"o": order_id}).one_or_none()
    if order is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    if conn.execute(select(FCS.c.fc_id).where(FCS.c.fc_id == fc_id)).first() is None:
        raise NotFound(f"no fulfillment center {fc_id[:64]!r}: list them with "
                       "ListFulfillmentCenters")
    if order.status != OrderStatus.PROCESSING or order.cancel_requested:
        state = "being cancelled" if order.cancel_requested else order.status
        raise FailedPrecondition(
            f"order {order_id} is {state}: an order can be reassigned only while it is "
            "PROCESSING, before picking starts")
    # Locking the queued lines keeps pickers (SKIP LOCKED) from claiming them meanwhile.
    in_task = {ln.fc_id for ln in conn.execute(_ORDER_PICK_LINES, {"o": order_id})
               if ln.task_id is not None}
    started = {s.fc_id for s in conn.execute(_ORDER_SHIPMENTS, {"o": order_id})
               if s.status != "pending"} | in_task
    if started:
        raise FailedPrecondition(
            f"picking of order {order_id} has started at {', '.join(sorted(started))}: it can "
            "no longer be reassigned (report a short pick to re-route missing units)")
    locks = list(conn.execute(_ORDER_LOCKS, {"o": order_id}))
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
    have: dict[str, int] = dict(
        conn.execute(_AVAILABLE_AT, {"fc": fc_id, "skus": list(moving)}).tuples().all())
    for sku, q in sorted(moving.items()):
        if have.get(sku, 0) < q:
            raise FailedPrecondition(
                f"{fc_id} lacks stock for {sku}: needs {q}, {max(have.get(sku, 0), 0)} "
                f"available; order {order_id} stays where it is")
    for lock in locks:
        if lock.fc_id != fc_id and lock.quantity:
            conn.execute(_UNLOCK, {"fc": lock.fc_id, "s": lock.sku, "q": lock.quantity})
    for sku, q in sorted(moving.items()):
        if conn.execute(_RELOCK, {"fc": fc_id, "s": sku, "q": q}).rowcount != 1:
            # Taken meanwhile by another order: this transaction rolls back, nothing moves.
            raise FailedPrecondition(f"{fc_id} lacks stock for {sku}: it was just taken by "
                                     f"another order; order {order_id} stays where it is")
    conn.execute(delete(_LOCKS).where(_LOCKS.c.order_id == order_id))
    conn.execute(insert(_LOCKS), [{"order_id": order_id, "fc_id": fc_id, "sku": sku,
                                   "quantity": q, "hard_quantity": 0}
                                  for sku, q in sorted(total.items())])
    previous = order.fc_id or "none"
    conn.execute(update(_ORDERS).where(_ORDERS.c.order_id == order_id)
                 .values(fc_id=fc_id, updated_at=now))
    _record_override(conn, order_id, fc_id, previous, who, now)
    moved = ", ".join(f"{q}×{sku}" for sku, q in sorted(moving.items()))
    shipments.requeue_for_order(
        conn, _OrderLike(order_id, order.status, fc_id, order.storefront), now,
        f"reassigned to {fc_id} by {who}: overrides routing's choice of {previous}; "
        f"moved soft locks of {moved}")
    return orders.load(session, order_id)


@dataclass(frozen=True, slots=True)
class _OrderLike:
    order_id: str
    status: str
    fc_id: str
    storefront: str


def _record_override(conn: Connection, order_id: str, fc_id: str, previous: str, who: str,
                     now: datetime) -> None:
    row = conn.execute(select(DECISIONS.c.candidates)
                       .where(DECISIONS.c.order_id == order_id)).one_or_none()
    note = f"assigned by {who} over routing's choice of {previous}"
    if row is None:
        _INSERT_DECISION.execute(conn, {"order_id": order_id, "chosen_fc_id": fc_id,
                                        "candidates": [], "decided_at": now,
                                        "overridden_by": who})
        return
    candidates = [{**c, "reason": f"{note}; {c['reason']}"} if c["fc_id"] == fc_id else c
                  for c in row.candidates]
    conn.execute(update(DECISIONS).where(DECISIONS.c.order_id == order_id).values(
        chosen_fc_id=fc_id, candidates=candidates, decided_at=now, overridden_by=who))
