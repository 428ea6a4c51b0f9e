"""FC routing: which fulfillment center serves an order, and why (pure; stdlib only).

Every FC is scored on four factors. The weights are tiered so that a better tier always wins
over any sum of the lower ones: having every line (one parcel) beats keeping the promised date,
which beats being near the customer, which beats a short backlog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.words import count

EARTH_RADIUS_KM = 6371.0

# Carrier transit days by distance: up to 50 km next day, 500 km two days, 1500 km three,
# anything farther four.
TRANSIT_DAYS: tuple[tuple[float, int], ...] = ((50.0, 1), (500.0, 2), (1500.0, 3))
FAR_TRANSIT_DAYS = 4

# Tiered weights: STOCK > PROMISE + DISTANCE + BACKLOG, PROMISE > DISTANCE + BACKLOG.
STOCK_POINTS = 1000.0
PROMISE_POINTS = 100.0
DISTANCE_POINTS = 10.0
BACKLOG_POINTS = 5.0
# Distance scores fall linearly to zero at this range (about the length of India).
DISTANCE_SCALE_KM = 3000.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def transit_days(distance_km: float | None) -> int:
    """The carrier's transit days for a distance (unknown distance: the farthest band)."""
    if distance_km is None:
        return FAR_TRANSIT_DAYS
    for up_to, days in TRANSIT_DAYS:
        if distance_km <= up_to:
            return days
    return FAR_TRANSIT_DAYS


def ship_date(now: datetime, cutoff_hour: int, tz: ZoneInfo) -> date:
    """The local day an FC hands the parcel over: today before its cut-off hour, else tomorrow."""
    local = now.astimezone(tz)
    return local.date() if local.hour < cutoff_hour else local.date() + timedelta(days=1)


def delivery_date(now: datetime, cutoff_hour: int, distance_km: float | None,
                  tz: ZoneInfo) -> date:
    """The local day the customer would receive a parcel from this FC."""
    return ship_date(now, cutoff_hour, tz) + timedelta(days=transit_days(distance_km))


@dataclass(frozen=True, slots=True)
class FcView:
    """What routing knows about one FC for one order."""

    fc_id: str
    latitude: float
    longitude: float
    cutoff_hour: int
    daily_capacity: int
    backlog: int                      # shipments not yet shipped
    available: dict[str, int] = field(default_factory=dict)  # SKU → units free to lock


@dataclass(frozen=True, slots=True)
class Candidate:
    """One FC's score, its factors and a sentence a supervisor can read."""

    fc_id: str
    score: float
    factors: dict[str, float]
    reason: str
    has_every_line: bool

    def as_json(self) -> dict[str, object]:
        return {"fc_id": self.fc_id, "score": self.score, "factors": dict(self.factors),
                "reason": self.reason}


def customer_point(ship_to: dict[str, object]) -> tuple[float, float] | None:
    """The customer's coordinates, or None when the storefront sent none (0, 0)."""
    lat = float(ship_to.get("latitude") or 0.0)  # type: ignore[arg-type]  # an address's values are JSON scalars
    lon = float(ship_to.get("longitude") or 0.0)  # type: ignore[arg-type]  # an address's values are JSON scalars
    return None if lat == 0.0 and lon == 0.0 else (lat, lon)


def score_fc(fc: FcView, needs: dict[str, int], customer: tuple[float, float] | None,
             promised_by: datetime | None, now: datetime, tz: ZoneInfo) -> Candidate:
    """Score one FC for an order's needs (SKU → units)."""
    short = {sku: (q, fc.available.get(sku, 0)) for sku, q in needs.items()
             if fc.available.get(sku, 0) < q}
    total = sum(needs.values()) or 1
    servable = sum(min(q, max(fc.available.get(sku, 0), 0)) for sku, q in needs.items())
    stock = servable / total
    has_all = not short

    distance = None if customer is None else haversine_km(fc.latitude, fc.longitude, *customer)
    days = transit_days(distance)
    arrives = delivery_date(now, fc.cutoff_hour, distance, tz)
    promise_day = None if promised_by is None else promised_by.astimezone(tz).date()
    promise_met = promise_day is None or arrives <= promise_day
    past_cutoff = now.astimezone(tz).hour >= fc.cutoff_hour
    load = fc.backlog / fc.daily_capacity if fc.daily_capacity > 0 else float(fc.backlog > 0)

    points = {
        "stock_points": STOCK_POINTS if has_all else STOCK_POINTS * 0.5 * stock,
        "promise_points": PROMISE_POINTS if promise_met else 0.0,
        # Unknown distance scores neutral (half), so it neither helps nor hurts an FC.
        "distance_points": DISTANCE_POINTS * (0.5 if distance is None
                                              else max(0.0, 1 - distance / DISTANCE_SCALE_KM)),
        "backlog_points": BACKLOG_POINTS * max(0.0, 1 - min(load, 1.0)),
    }
    factors = {
        "stock": round(stock, 4), "distance_km": -1.0 if distance is None else round(distance, 1),
        "transit_days": float(days), "promise": 1.0 if promise_met else 0.0,
        "past_cutoff": 1.0 if past_cutoff else 0.0, "backlog": float(fc.backlog),
        "daily_capacity": float(fc.daily_capacity), "backlog_ratio": round(load, 4),
        **{k: round(v, 4) for k, v in points.items()},
    }
    parts = []
    if has_all:
        parts.append("has every line")
    else:
        parts.append("lacks " + ", ".join(f"{sku} (needs {q}, has {max(have, 0)})"
                                          for sku, (q, have) in sorted(short.items())))
    parts.append("distance unknown (no customer coordinates), scored neutral" if distance is None
                 else f"{distance:.0f} km away")
    when = "after" if past_cutoff else "before"
    if promise_day is None:
        parts.append(f"would deliver by {arrives} (no promised date)")
    else:
        verb = "keeps" if promise_met else "misses"
        parts.append(f"{when} its {fc.cutoff_hour:02d}:00 cut-off, delivers by {arrives} "
                     f"({count(days, 'transit day')}) and {verb} the promised {promise_day}")
    parts.append(f"backlog {fc.backlog}/{fc.daily_capacity} a day")
    return Candidate(fc.fc_id, round(sum(points.values()), 4), factors,
                     f"{fc.fc_id}: " + "; ".join(parts), has_all)


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first; equal scores go to the lower FC id, so a decision is reproducible."""
    return sorted(candidates, key=lambda c: (-c.score, c.fc_id))


def why_chosen(winner: Candidate, runner_up: Candidate | None) -> str:
    """The sentence saying why the winner won (the deciding factor against the runner-up)."""
    if runner_up is None:
        return f"chosen: the only fulfillment center; {winner.reason}"
    w, r = winner.factors, runner_up.factors
    if winner.has_every_line and not runner_up.has_every_line:
        why = f"it has every line and {runner_up.fc_id} does not (one parcel)"
    elif w["promise"] > r["promise"]:
        why = f"it keeps the promised date and {runner_up.fc_id} does not"
    elif w["distance_points"] > r["distance_points"]:
        if r["distance_km"] < 0:
            why = f"it is {w['distance_km']:.0f} km away"
        else:
            why = (f"it is nearer ({w['distance_km']:.0f} km against "
                   f"{r['distance_km']:.0f} km for {runner_up.fc_id})")
    elif w["backlog_points"] > r["backlog_points"]:
        why = f"its backlog is shorter than {runner_up.fc_id}'s"
    else:
        why = f"it ties with {runner_up.fc_id} and comes first by id"
    return f"chosen because {why}; {winner.reason}"


def plan_split(ranked: list[Candidate], views: dict[str, FcView],
               needs: dict[str, int]) -> dict[tuple[str, str], int] | None:
    """No FC has every line: lock each SKU at the best-scored FCs that hold it; None if short."""
    plan: dict[tuple[str, str], int] = {}
    for sku, q in sorted(needs.items()):
        left = q
        for cand in ranked:
            take = min(left, max(views[cand.fc_id].available.get(sku, 0), 0))
            if take > 0:
                plan[(cand.fc_id, sku)] = take
                left -= take
            if left == 0:
                break
        if left > 0:
            return None
    return plan
