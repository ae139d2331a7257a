"""Quote arithmetic: integer cents, basis points, half-up rounding to the cent."""

import pytest

from fieldcrm.lib.errors import InvalidInput
from fieldcrm.sales.money import depth_bp, line_amounts, quote_amounts, round_half_up, yuan


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (-5, 10, -1), (-15, 10, -2), (0, 7, 0), (10_000, 10_000, 1)],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_a_half_cent_discount_rounds_up_and_the_line_total_takes_the_rest() -> None:
    # 1 x 1.05 yuan at 10 %: the discount is 10.5 cents -> 11; the line comes to 94 cents.
    line = line_amounts(quantity=1, list_price_cents=105, unit_price_cents=105, discount_bp=1000)
    assert (line.discount_cents, line.total_cents) == (11, 94)
    # 1 x 1.04 at 10 %: 10.4 cents -> 10.
    line = line_amounts(quantity=1, list_price_cents=104, unit_price_cents=104, discount_bp=1000)
    assert (line.discount_cents, line.total_cents) == (10, 94)


def test_zero_and_full_discounts() -> None:
    none = line_amounts(quantity=3, list_price_cents=999, unit_price_cents=999, discount_bp=0)
    assert (none.discount_cents, none.total_cents, none.depth_bp) == (0, 2997, 0)
    full = line_amounts(quantity=3, list_price_cents=999, unit_price_cents=999, discount_bp=10_000)
    assert (full.discount_cents, full.total_cents, full.depth_bp) == (2997, 0, 10_000)


def test_a_unit_price_below_list_counts_toward_the_depth() -> None:
    line = line_amounts(quantity=2, list_price_cents=10_000, unit_price_cents=9_000, discount_bp=500)
    # gross 18,000; 5 % off = 900; total 17,100 against 20,000 at list: 14.5 % deep.
    assert (line.gross_cents, line.discount_cents, line.total_cents, line.depth_bp) == (18_000, 900, 17_100, 1450)


def test_many_lines_add_up_exactly() -> None:
    # 1,000 lines of 0.01..10.00 yuan at 33.33 %: the quote total is the sum of the rounded line totals.
    lines = [
        line_amounts(quantity=n % 7 + 1, list_price_cents=n, unit_price_cents=n, discount_bp=3333)
        for n in range(1, 1001)
    ]
    totals = quote_amounts(lines)
    assert totals.total_cents == sum(line.total_cents for line in lines)
    assert totals.list_total_cents == sum((n % 7 + 1) * n for n in range(1, 1001))
    exact = sum((n % 7 + 1) * n - round_half_up((n % 7 + 1) * n * 3333, 10_000) for n in range(1, 1001))
    assert totals.total_cents == exact
    assert totals.discount_bp == depth_bp(totals.list_total_cents, totals.total_cents)
    assert 3330 <= totals.discount_bp <= 3336


def test_huge_quantities_stay_exact() -> None:
    # A billion IoT cards at 0.99 yuan less 12.34 %: beyond float's exact range for cents times basis points.
    line = line_amounts(quantity=1_000_000_000, list_price_cents=99, unit_price_cents=99, discount_bp=1234)
    assert line.gross_cents == 99_000_000_000
    assert line.discount_cents == 12_216_600_000
    assert line.total_cents == 86_783_400_000
    odd = line_amounts(quantity=999_999_999_999, list_price_cents=1, unit_price_cents=1, discount_bp=1)
    assert odd.discount_cents == round_half_up(999_999_999_999, 10_000) == 100_000_000


def test_amounts_past_the_cap_are_refused() -> None:
    with pytest.raises(InvalidInput):
        line_amounts(quantity=10**12, list_price_cents=10**9, unit_price_cents=10**9, discount_bp=0)


def test_an_empty_quote_is_zero_deep() -> None:
    totals = quote_amounts([])
    assert (totals.total_cents, totals.list_total_cents, totals.discount_bp) == (0, 0, 0)


def test_yuan_formatting_is_exact() -> None:
    assert yuan(123_456_789) == "¥1,234,567.89"
    assert yuan(5) == "¥0.05"
    assert yuan(-250) == "-¥2.50"
