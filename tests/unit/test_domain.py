"""The pure domain: money, shipping rates, card-number spotting, GTINs, the saga table, and
PlaceOrder validation (no I/O)."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

import pytest

from core.domain.cards import contains_card_number
from core.domain.commands import (
    MAX_LINES,
    MAX_QUANTITY,
    Address,
    LineRequest,
    PaymentRequest,
    PlaceOrder,
    validate_place_order,
)
from core.domain.errors import InvalidArgument
from core.domain.gtin import check_gtin, gs1_check_digit
from core.domain.money import Money, plain_amount
from core.domain.order import PaymentMethod
from core.domain.saga import Decision, StepOutcome, decide
from core.domain.shipping import RateTable

# --- Money ----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [1.0, 10.5, Decimal("1.00"), "100", True, None])
def test_money_refuses_anything_but_an_int_of_minor_units(amount):
    with pytest.raises(TypeError, match="int"):
        Money(amount, "INR")


@pytest.mark.parametrize("currency", ["inr", "RUPEE", "", "IN", "I1R"])
def test_money_refuses_a_currency_that_is_not_an_iso_code(currency):
    with pytest.raises(InvalidArgument) as exc:
        Money(100, currency)
    assert exc.value.field == "currency"


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (0, "INR", "0.00"),
    (5, "INR", "0.05"),
    (123_450, "INR", "1234.50"),
    (-1, "USD", "-0.01"),
    (-123_456, "EUR", "-1234.56"),
    (1500, "JPY", "1500"),
    (-7, "KRW", "-7"),
    (1, "KWD", "0.001"),
    (12_345, "KWD", "12.345"),
    (-1_000, "BHD", "-1.000"),
    # Far beyond what a float holds exactly: integer math keeps every digit.
    (12_345_678_901_234_567_891, "INR", "123456789012345678.91"),
    (10**21 + 1, "KWD", "1000000000000000000.001"),
])
def test_decimal_str_uses_the_currencys_exponent_with_integer_math(amount, currency, text):
    assert Money(amount, currency).decimal_str() == text
    assert plain_amount(amount, currency) == text


def test_money_adds_subtracts_and_multiplies_within_one_currency():
    a, b = Money(49_900, "INR"), Money(7_000, "INR")
    assert a + b == Money(56_900, "INR")
    assert a - b == Money(42_900, "INR")
    assert a.times(3) == Money(149_700, "INR")


@pytest.mark.parametrize("op", ["add", "sub"])
def test_money_refuses_to_mix_currencies(op):
    inr, usd = Money(100, "INR"), Money(100, "USD")
    with pytest.raises(InvalidArgument, match="INR.*USD"):
        inr + usd if op == "add" else inr - usd


# --- shipping rate table --------------------------------------------------------------------


@pytest.mark.parametrize(("grams", "fee"), [
    (0, 4000), (1, 4000), (500, 4000), (501, 7000), (2000, 7000), (2001, 12000),
    (5000, 12000),
    # Above the last band: one step fee per started 1000 g.
    (5001, 14500), (6000, 14500), (6001, 17000), (8000, 19500),
])
def test_default_rate_table_quotes_by_band_then_by_started_step(grams, fee):
    assert RateTable().quote(grams) == fee


def test_parsed_rate_table_sorts_bands_and_reads_the_step():
    table = RateTable.parse(" 2000:7000, 500:4000 ,+250:100")
    assert table.bands == ((500, 4000), (2000, 7000))
    assert (table.step_grams, table.step_fee_minor) == (250, 100)
    assert [table.quote(g) for g in (500, 1999, 2000, 2001, 2250, 2251)] == [
        4000, 7000, 7000, 7100, 7100, 7200]


def test_parsed_rate_table_without_a_step_charges_nothing_above_the_last_band():
    table = RateTable.parse("500:4000")
    assert table.quote(100_000) == 4000


@pytest.mark.parametrize("text", [
    "", ",", "500", "500:", ":4000", "a:b", "500:40.5", "500:4000:1", "+1000:2500",
    "0:4000", "-5:4000", "500:-1", "500:4000,+0:100", "500:4000,+x:100",
])
def test_a_bad_rate_table_is_refused_with_the_expected_format(text):
    with pytest.raises(InvalidArgument, match="rate table"):
        RateTable.parse(text)


# --- card numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "4242424242424242",
    "4242 4242 4242 4242",
    "4242-4242-4242-4242",
    "4000000000000002",
    "378282246310005",             # Amex, 15 digits
    "3782 822463 10005",           # as Amex groups them
    "6011111111111117",            # Discover
    "4222222222222",               # 13 digits
    "6304000000000000018",         # 19 digits (Maestro)
    "card 4242424242424242 exp 12/31",
    "tok_4242424242424242",
    "4242424242424242-1",
    "cust:4242 4242 4242 4242.",
    "42424242424242424242",        # 20 digits: a card number with its expiry (MMYY) glued on
])
def test_a_luhn_valid_run_of_13_to_19_digits_is_a_card_number(text):
    assert contains_card_number(text)


@pytest.mark.parametrize("text", [
    "4242424242424241",            # Luhn fails
    "4242 4242 4242 4241",
    "424242424242",                # 12 digits
    "424242424242424242424242",    # 24 digits: too long to be a card with its expiry glued on
    "+919800000001",               # E.164 phone
    "+91 98000 00001",
    "+14155550123",
    "+4915112345678",
    "tok_abc",
    "tok_01HZX3Y5Q8M2N6P4R7T9V1W3Y5",
    "ord_01J0000000000000000000000",
    "5f0c9a4b1c2d4e3f8a7b6c5d4e3f2a10",
    "cust-00042",
    "",
])
def test_phone_numbers_ids_and_gateway_tokens_are_not_card_numbers(text):
    assert not contains_card_number(text)


@pytest.mark.parametrize("key", [
    # uuid4().hex keys holding a Luhn-valid run of 12-16 digits between letters (found by a
    # search: about 1 random hex key in 300 is like these) ...
    "02dd861b19b54c70824057554410f002",
    "6fd70373762040968c441876e1ef723a",
    "943f216844264863a6ee910d9979f0e8",
    # ... and str(uuid4()) keys whose dash-joined groups of 8 and 4 digits pass Luhn.
    "33649991-2599-4746-a0d0-394dd5720c79",
    "78746232-9986-4402-aef5-7f4910cfc0a1",
])
def test_uuid_idempotency_keys_are_not_card_numbers(key):
    assert not contains_card_number(key)


# --- GTINs ----------------------------------------------------------------------------------

REAL_GTINS = [
    "4006381333931",   # GTIN-13 (Stabilo pen)
    "5901234123457",   # GTIN-13, GS1's example
    "9780306406157",   # GTIN-13 of a book (ISBN-13)
    "036000291452",    # GTIN-12 / UPC-A
    "96385074",        # GTIN-8
    "10614141000415",  # GTIN-14
]


@pytest.mark.parametrize("gtin", REAL_GTINS)
def test_real_gtins_pass_their_check_digit(gtin):
    assert check_gtin(gtin) == gtin
    assert gs1_check_digit(gtin[:-1]) == int(gtin[-1])


@pytest.mark.parametrize("gtin", REAL_GTINS)
def test_every_single_digit_error_in_a_gtin_is_rejected(gtin):
    wrong = [gtin[:i] + d + gtin[i + 1:] for i in range(len(gtin))
             for d in "0123456789" if d != gtin[i]]
    assert len(wrong) == 9 * len(gtin)
    for bad in wrong:
        with pytest.raises(InvalidArgument, match="check digit") as exc:
            check_gtin(bad, field="product.gtin")
        assert exc.value.field == "product.gtin"


@pytest.mark.parametrize("gtin", ["", "400638133393", "40063813339311", "4006381333931a",
                                  "123456789", "1234567", "400638133393 1",
                                  "٤٠٠٦٣٨١٣٣٣٩٣١", "４００６３８１３３３９３１"])
def test_a_gtin_of_the_wrong_shape_is_rejected_naming_the_field(gtin):
    with pytest.raises(InvalidArgument) as exc:
        check_gtin(gtin, field="product.gtin")
    assert exc.value.field == "product.gtin"


# --- the saga decision table ----------------------------------------------------------------

RUNNING, DONE, FAILED = StepOutcome.RUNNING, StepOutcome.DONE, StepOutcome.FAILED
COMPENSATING, COMPENSATED = StepOutcome.COMPENSATING, StepOutcome.COMPENSATED


# The whole table, written out by hand from the saga's rules (DESIGN.md, "The order saga"):
# both steps done → PROCESSING; anything failed, being undone or undone, or a cancel → undo
# what is left; CANCELLED only once every step has failed or been undone; otherwise wait.
# Rows: the inventory step; columns: the payment step. W wait, P complete (PROCESSING),
# U compensate (undo what is left), X cancel (CANCELLED).
#
#             running done failed compensating compensated
_TABLE = {
    False: """
    running      W      W     U         U           U
    done         W      P     U         U           U
    failed       U      U     X         U           X
    compensating U      U     U         U           U
    compensated  U      U     X         U           X
    """,
    True: """
    running      U      U     U         U           U
    done         U      U     U         U           U
    failed       U      U     X         U           X
    compensating U      U     U         U           U
    compensated  U      U     X         U           X
    """,
}
_LETTER = {"W": Decision.WAIT, "P": Decision.COMPLETE, "U": Decision.COMPENSATE,
           "X": Decision.CANCEL}
_COLUMNS = [RUNNING, DONE, FAILED, COMPENSATING, COMPENSATED]


def _expected() -> dict[tuple[StepOutcome, StepOutcome, bool], Decision]:
    out = {}
    for cancel, grid in _TABLE.items():
        for row in grid.strip().splitlines():
            inventory, *letters = row.split()
            for payment, letter in zip(_COLUMNS, letters, strict=True):
                out[(StepOutcome(inventory), payment, cancel)] = _LETTER[letter]
    return out


EXPECTED = _expected()
CASES = sorted(EXPECTED, key=str)


def test_the_decision_table_covers_every_combination():
    assert set(EXPECTED) == set(itertools.product(StepOutcome, StepOutcome, (False, True)))


@pytest.mark.parametrize(("inventory", "payment", "cancel"), CASES)
def test_saga_decides_per_the_table(inventory, payment, cancel):
    got = decide({"inventory": inventory, "payment": payment}, cancel_requested=cancel)
    assert got == EXPECTED[(inventory, payment, cancel)]


@pytest.mark.parametrize(("inventory", "payment", "cancel"), CASES)
def test_the_steps_are_equals_and_a_cancel_never_waits_or_completes(inventory, payment, cancel):
    decision = decide({"inventory": inventory, "payment": payment}, cancel_requested=cancel)
    assert decision == decide({"inventory": payment, "payment": inventory},
                              cancel_requested=cancel)
    if cancel:
        assert decision in (Decision.COMPENSATE, Decision.CANCEL)


@pytest.mark.parametrize(("inventory", "payment", "cancel", "decision"), [
    (DONE, DONE, False, Decision.COMPLETE),
    (RUNNING, DONE, False, Decision.WAIT),
    (DONE, RUNNING, False, Decision.WAIT),
    (DONE, FAILED, False, Decision.COMPENSATE),      # release the soft locks
    (FAILED, DONE, False, Decision.COMPENSATE),      # void the hold
    (FAILED, RUNNING, False, Decision.COMPENSATE),   # an unknown hold must be voided too
    (FAILED, FAILED, False, Decision.CANCEL),
    (COMPENSATED, FAILED, False, Decision.CANCEL),
    (FAILED, COMPENSATING, False, Decision.COMPENSATE),
    (DONE, DONE, True, Decision.COMPENSATE),          # the customer cancelled
    (COMPENSATED, COMPENSATED, True, Decision.CANCEL),
    (DONE, COMPENSATED, False, Decision.COMPENSATE),  # never wait forever half-undone
])
def test_saga_decisions_a_person_would_name(inventory, payment, cancel, decision):
    assert decide({"inventory": inventory, "payment": payment},
                  cancel_requested=cancel) == decision


# --- PlaceOrder validation ------------------------------------------------------------------

GOOD = PlaceOrder(
    storefront="shop-a", idempotency_key="k-1", customer_id="cust-1",
    lines=(LineRequest("MUG-1", 2),),
    ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                    postal_code="560001", country="IN", phone="+919800000001",
                    latitude=12.97, longitude=77.6),
    payment=PaymentRequest(PaymentMethod.CARD, card_token="tok_abc"), currency="INR",
)


def _with(**changes):  # type: ignore[no-untyped-def]
    return dataclasses.replace(GOOD, **changes)


def _ship_to(**changes):  # type: ignore[no-untyped-def]
    return _with(ship_to=dataclasses.replace(GOOD.ship_to, **changes))


def test_a_good_order_validates():
    validate_place_order(GOOD)
    validate_place_order(_with(payment=PaymentRequest(PaymentMethod.UPI, upi_vpa="a@okbank")))
    validate_place_order(_with(payment=PaymentRequest(PaymentMethod.COD)))
    validate_place_order(_with(customer_id="+919800000001"))


@pytest.mark.parametrize(("cmd", "field"), [
    (_with(idempotency_key=""), "idempotency_key"),
    (_with(idempotency_key="   "), "idempotency_key"),
    (_with(idempotency_key="k" * 129), "idempotency_key"),
    (_with(idempotency_key="4242424242424242"), "idempotency_key"),
    (_with(customer_id=""), "customer_id"),
    (_with(customer_id="x" * 1_000_000), "customer_id"),
    (_with(customer_id="4242 4242 4242 4242"), "customer_id"),
    (_with(currency=""), "currency"),
    (_with(currency="rupees"), "currency"),
    (_with(lines=()), "lines"),
    (_with(lines=(LineRequest("A", 1),) * (MAX_LINES + 1)), "lines"),
    (_with(lines=(LineRequest("", 1),)), "lines[0].sku"),
    (_with(lines=(LineRequest("A", 1), LineRequest("B" * 65, 1))), "lines[1].sku"),
    (_with(lines=(LineRequest("A", 0),)), "lines[0].quantity"),
    (_with(lines=(LineRequest("A", 1), LineRequest("B", -1))), "lines[1].quantity"),
    (_with(lines=(LineRequest("A", MAX_QUANTITY + 1),)), "lines[0].quantity"),
    (_ship_to(name=""), "ship_to.name"),
    (_ship_to(name="n" * 1_000_000), "ship_to.name"),
    (_ship_to(line1=" "), "ship_to.line1"),
    (_ship_to(city=""), "ship_to.city"),
    (_ship_to(postal_code=""), "ship_to.postal_code"),
    (_ship_to(country=""), "ship_to.country"),
    (_ship_to(line2="l" * 257), "ship_to.line2"),
    (_ship_to(phone="9" * 257), "ship_to.phone"),
    (_ship_to(name="4242424242424242"), "ship_to.name"),
    (_ship_to(line2="card 4242 4242 4242 4242"), "ship_to.line2"),
    (_ship_to(line1="12 MG Road 4000-0000-0000-0002"), "ship_to.line1"),
    (_ship_to(latitude=91.0), "ship_to"),
    (_ship_to(longitude=-181.0), "ship_to"),
    (_with(payment=PaymentRequest(PaymentMethod.CARD)), "payment.card.token"),
    (_with(payment=PaymentRequest(PaymentMethod.CARD, card_token="4242424242424242")),
     "payment.card.token"),
    (_with(payment=PaymentRequest(PaymentMethod.CARD, card_token="4242 4242 4242 4242")),
     "payment.card.token"),
    (_with(payment=PaymentRequest(PaymentMethod.CARD, card_token="t" * 257)),
     "payment.card.token"),
    (_with(payment=PaymentRequest(PaymentMethod.UPI)), "payment.upi.vpa"),
    (_with(payment=PaymentRequest(PaymentMethod.UPI, upi_vpa="no-at-sign")), "payment.upi.vpa"),
    (_with(payment=PaymentRequest(PaymentMethod.UPI, upi_vpa="a@b@c")), "payment.upi.vpa"),
    (_with(payment=PaymentRequest(PaymentMethod.UPI, upi_vpa="@bank")), "payment.upi.vpa"),
])
def test_validation_names_the_field_that_is_wrong(cmd, field):
    with pytest.raises(InvalidArgument) as exc:
        validate_place_order(cmd)
    assert exc.value.field == field
    assert field.split("[")[0].split(".")[0] in exc.value.message


@pytest.mark.parametrize("key", ["02dd861b19b54c70824057554410f002",
                                 "33649991-2599-4746-a0d0-394dd5720c79"])
def test_uuid_keys_with_luhn_valid_digit_runs_validate(key):
    validate_place_order(_with(idempotency_key=key, customer_id=key))


def test_validation_never_echoes_a_card_number_back():
    cmd = _with(payment=PaymentRequest(PaymentMethod.CARD, card_token="4242424242424242"))
    with pytest.raises(InvalidArgument) as exc:
        validate_place_order(cmd)
    assert "4242" not in exc.value.message
