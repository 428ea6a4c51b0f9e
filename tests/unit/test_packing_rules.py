"""Packing rules: the weight gate, boxes, the carrier's rate and the final amounts."""

import pytest

from core.domain import packing as rules
from core.domain.errors import FailedPrecondition, InvalidArgument
from core.domain.order import PaymentMethod


def _line(picked: int, quantity: int = 2, missing: int = 0) -> rules.PackedLine:
    return rules.PackedLine("MUG", quantity, picked, missing, 350, 49_900)


def test_expected_weight_is_catalog_weight_of_picked_units_plus_the_box():
    assert rules.expected_weight([_line(2)], "M") == 2 * 350 + 250
    assert rules.expected_weight([_line(1, missing=1)], "") == 350


def test_unknown_box_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidArgument, match="S 150 g, M 250 g, L 400 g") as exc:
        rules.box_tare("XL")
    assert exc.value.field == "box"


def test_weight_within_tolerance_passes_and_a_box_30_percent_light_is_refused():
    rules.check_weight(1000, 700, "M", 10, 50)
    rules.check_weight(1040, 700, "M", 10, 50)
    with pytest.raises(FailedPrecondition, match="700 g measured but 1000 g are expected") as exc:
        rules.check_weight(700, 750, "M", 10, 50)
    assert "missing" in exc.value.message
    with pytest.raises(FailedPrecondition, match="extra"):
        rules.check_weight(1300, 750, "M", 10, 50)


def test_a_refused_weight_names_the_chosen_box_and_its_tare():
    with pytest.raises(FailedPrecondition) as exc:
        rules.check_weight(700, 750, "M", 10, 50)
    assert "1000 g are expected = 750 g of items + box M 250 g (± 100 g)" in exc.value.message


def test_a_reading_that_fits_another_box_says_the_box_may_be_the_wrong_one():
    # 1000 g of items packed in S (150 g) but M (250 g) chosen: 100 g light, nothing missing.
    with pytest.raises(FailedPrecondition) as exc:
        rules.check_weight(1150, 1000, "M", 5, 50)
    message = exc.value.message
    assert "1150 g fits box S 150 g: if it is in S, choose S" in message
    assert "if not, something is missing from the box" in message
    # In L (400 g) with M chosen: heavy, and the reading names L.
    with pytest.raises(FailedPrecondition) as exc:
        rules.check_weight(1400, 1000, "M", 5, 50)
    assert "1400 g fits box L 400 g" in exc.value.message
    assert "if not, something extra is in the box" in exc.value.message


def test_a_reading_that_fits_no_box_only_says_what_is_wrong_with_the_box():
    with pytest.raises(FailedPrecondition) as exc:
        rules.check_weight(500, 1000, "M", 5, 50)
    assert "fits" not in exc.value.message
    assert "box M 250 g" in exc.value.message


def test_an_unknown_box_is_refused_before_the_weight_is_looked_at():
    with pytest.raises(InvalidArgument, match="not one of the packing station's boxes"):
        rules.check_weight(0, 1000, "XL", 10, 50)


def test_tolerance_has_a_floor_for_light_parcels():
    assert rules.tolerance(100, 10, 50) == 50
    assert rules.tolerance(2000, 10, 50) == 200
    rules.check_weight(140, 100, "", 10, 50)


def test_a_shipment_with_units_left_to_pick_cannot_be_packed():
    with pytest.raises(FailedPrecondition, match="3 of 4 units picked; finish the pick task"):
        rules.check_picked([_line(2), _line(1)])
    rules.check_picked([_line(2), _line(1, missing=1)])
    with pytest.raises(FailedPrecondition, match="0 of 1 unit picked"):
        rules.check_picked([_line(0, quantity=1)])
    with pytest.raises(FailedPrecondition, match="nothing to pack"):
        rules.check_picked([_line(0, missing=2)])


def test_carrier_cost_grows_with_weight_and_distance():
    rate = rules.CarrierRate()
    near_light = rate.cost(400, 5)
    assert rate.cost(1200, 5) > near_light
    assert rate.cost(400, 900) > near_light
    assert near_light == 3_000 + 1_000 + 500


def test_distance_between_bengaluru_and_mumbai_is_about_840_km():
    assert 820 < rules.distance_km(12.97, 77.59, 19.08, 72.88) < 860


def test_final_amounts_per_payment_method():
    card = rules.final_amounts(PaymentMethod.CARD, 49_900, 4_000, 103_800)
    assert card == rules.FinalAmounts(capture_minor=53_900)
    upi = rules.final_amounts(PaymentMethod.UPI, 49_900, 4_000, 103_800)
    assert upi == rules.FinalAmounts(capture_minor=53_900, refund_minor=49_900)
    cod = rules.final_amounts(PaymentMethod.COD, 49_900, 4_000, 103_800)
    assert cod == rules.FinalAmounts(cod_due_minor=53_900)
    # Never more than was authorized.
    assert rules.final_amounts(PaymentMethod.CARD, 90_000, 4_000, 50_000).capture_minor == 50_000
