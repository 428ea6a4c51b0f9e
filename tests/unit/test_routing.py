"""FC routing's pure rules: distance, transit days, the promise against cut-off, the weights."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain import routing as r
from core.domain.errors import InvalidArgument
from core.service.routing import RoutingRules

IST = ZoneInfo("Asia/Kolkata")
CUSTOMER = (12.97, 77.6)  # Bengaluru
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=IST).astimezone(UTC)
EVENING = datetime(2026, 3, 2, 18, 0, tzinfo=IST).astimezone(UTC)
PROMISED = MORNING + timedelta(days=3)


def fc(fc_id: str, lat: float, lon: float = 77.6, cutoff: int = 16, stock: int = 5,
       backlog: int = 0, capacity: int = 100, sku: str = "TEA") -> r.FcView:
    return r.FcView(fc_id, lat, lon, cutoff, capacity, backlog, {sku: stock})


def best(views: list[r.FcView], now: datetime = MORNING, needs: dict[str, int] | None = None,
         customer: tuple[float, float] | None = CUSTOMER) -> list[r.Candidate]:
    return r.rank([r.score_fc(v, needs or {"TEA": 2}, customer, PROMISED, now, IST)
                   for v in views])


def test_haversine_bengaluru_to_delhi_is_about_1740_km():
    assert r.haversine_km(12.97, 77.59, 28.61, 77.21) == pytest.approx(1740, abs=10)
    assert r.haversine_km(10, 20, 10, 20) == 0


@pytest.mark.parametrize(("km", "days"), [(0, 1), (50, 1), (50.1, 2), (500, 2), (1500, 3),
                                          (1500.5, 4), (9000, 4), (None, 4)])
def test_transit_days_follow_the_distance_table(km, days):
    assert r.transit_days(km) == days


def test_after_the_cut_off_the_parcel_leaves_the_next_day():
    assert r.ship_date(MORNING, 16, IST) == datetime(2026, 3, 2).date()
    assert r.ship_date(EVENING, 16, IST) == datetime(2026, 3, 3).date()
    # 23:30 UTC is already the next day in India: the local date counts, not UTC's.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert r.ship_date(late, 16, IST) == datetime(2026, 3, 3).date()


def test_the_nearer_fc_wins_when_both_have_stock():
    ranked = best([fc("FAR", 13.6), fc("NEAR", 13.0)])
    assert [c.fc_id for c in ranked] == ["NEAR", "FAR"]
    assert "nearer" in r.why_chosen(ranked[0], ranked[1])


def test_the_farther_fc_wins_when_the_nearer_lacks_a_line():
    ranked = best([fc("NEAR", 13.0, stock=1), fc("FAR", 28.6)])
    assert ranked[0].fc_id == "FAR"
    assert ranked[1].factors["stock"] == 0.5 and not ranked[1].has_every_line
    assert "lacks TEA (needs 2, has 1)" in ranked[1].reason
    assert "has every line" in r.why_chosen(ranked[0], ranked[1])


def test_an_fc_past_its_cut_off_that_would_miss_the_promise_loses_to_a_farther_one():
    # NEAR (~610 km, 3 transit days) ships tomorrow after 16:00 → day 4; FAR (~1000 km, 3
    # days) has a 20:00 cut-off, ships today → day 3, the promised day.
    near, far = fc("NEAR", 18.47, cutoff=16), fc("FAR", 21.97, cutoff=20)
    ranked = best([near, far], now=EVENING)
    assert [c.fc_id for c in ranked] == ["FAR", "NEAR"]
    assert ranked[1].factors["promise"] == 0 and ranked[1].factors["past_cutoff"] == 1
    assert "misses the promised" in ranked[1].reason
    assert "keeps the promised date" in r.why_chosen(ranked[0], ranked[1])
    # In the morning NEAR makes its cut-off too, and then it is simply nearer.
    assert best([near, far], now=MORNING)[0].fc_id == "NEAR"


def test_stock_outweighs_promise_distance_and_backlog_together():
    perfect_but_short = fc("A", 12.97, cutoff=23, stock=1, backlog=0)
    late_far_busy = fc("B", 35.0, cutoff=0, stock=9, backlog=500)
    assert best([perfect_but_short, late_far_busy], now=EVENING)[0].fc_id == "B"


def test_promise_outweighs_distance_and_backlog_together():
    keeps = fc("KEEPS", 21.97, cutoff=20, backlog=100)
    misses = fc("MISSES", 18.47, cutoff=16, backlog=0)
    assert best([keeps, misses], now=EVENING)[0].fc_id == "KEEPS"


def test_a_shorter_backlog_breaks_a_tie_in_distance():
    ranked = best([fc("BUSY", 13.0, backlog=90), fc("IDLE", 13.0, backlog=10)])
    assert ranked[0].fc_id == "IDLE" and ranked[0].factors["backlog_ratio"] == 0.1
    assert "backlog is shorter" in r.why_chosen(ranked[0], ranked[1])


def test_an_unknown_customer_location_scores_distance_neutral_and_says_so():
    ranked = best([fc("A", 13.0), fc("B", 28.6)], customer=r.customer_point(
        {"latitude": 0.0, "longitude": 0.0}))
    assert ranked[0].factors["distance_points"] == ranked[1].factors["distance_points"] == 5
    assert ranked[0].factors["distance_km"] == -1
    assert "distance unknown" in ranked[0].reason


def test_a_split_takes_each_sku_from_the_best_scored_fcs_first():
    views = [fc("NEAR", 13.0, stock=2), fc("FAR", 28.6, stock=2), fc("MID", 20.0, stock=0)]
    ranked = best(views, needs={"TEA": 3})
    plan = r.plan_split(ranked, {v.fc_id: v for v in views}, {"TEA": 3})
    assert plan == {("NEAR", "TEA"): 2, ("FAR", "TEA"): 1}
    assert r.plan_split(ranked, {v.fc_id: v for v in views}, {"TEA": 5}) is None


def test_backorder_is_refused_until_it_exists():
    with pytest.raises(InvalidArgument, match="not available yet"):
        RoutingRules(split_policy="backorder")
    with pytest.raises(InvalidArgument, match="IANA"):
        RoutingRules(local_tz="Mars/Olympus")
