"""Exact quote arithmetic in integer cents; discounts in basis points (1 bp = 0.01 %).

The rounding rule, stated once: a line's discount is ``quantity x unit price x discount_bp / 10000``
rounded to the cent **half up** (0.5 cent rounds away from zero; every amount here is >= 0); the
line total is the gross minus that discount, so lines always add up to the quote total exactly.
The quote's overall discount depth is ``(list total - total) x 10000 / list total`` basis points,
rounded half up as well (0 when the list total is 0). No float is ever involved.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from fieldcrm.lib.errors import InvalidInput

BP = 10_000
MAX_AMOUNT_CENTS = 10**15  # ten trillion yuan: well inside a 64-bit column after any sum of lines


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away from zero (denominator > 0)."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


@dataclass(frozen=True)
class LineAmounts:
    """What one line comes to."""

    gross_cents: int  # quantity x unit price
    list_cents: int  # quantity x list price
    discount_cents: int
    total_cents: int
    depth_bp: int  # this line's depth below list price (unit price and discount together)


@dataclass(frozen=True)
class QuoteAmounts:
    """What a quote comes to."""

    lines: list[LineAmounts]
    list_total_cents: int
    total_cents: int
    discount_bp: int  # overall depth below list price


def line_amounts(*, quantity: int, list_price_cents: int, unit_price_cents: int, discount_bp: int) -> LineAmounts:
    """One line's gross, discount and total (see the module's rounding rule)."""
    if quantity < 0 or unit_price_cents < 0 or list_price_cents < 0 or not 0 <= discount_bp <= BP:
        msg = "quantities and prices must be 0 or more and discounts between 0 and 10000 basis points"
        raise InvalidInput(msg, field="lines")
    gross = quantity * unit_price_cents
    at_list = quantity * list_price_cents
    if gross > MAX_AMOUNT_CENTS or at_list > MAX_AMOUNT_CENTS:
        msg = f"a line may come to at most {MAX_AMOUNT_CENTS // 100:,} yuan; split it or check the quantity"
        raise InvalidInput(msg, field="lines")
    discount = round_half_up(gross * discount_bp, BP)
    total = gross - discount
    return LineAmounts(
        gross_cents=gross,
        list_cents=at_list,
        discount_cents=discount,
        total_cents=total,
        depth_bp=depth_bp(at_list, total),
    )


def depth_bp(list_cents: int, total_cents: int) -> int:
    """How far ``total`` lies below ``list`` in basis points, half up; 0 if at or above list, or list is 0."""
    if list_cents <= 0 or total_cents >= list_cents:
        return 0
    return round_half_up((list_cents - total_cents) * BP, list_cents)


def quote_amounts(lines: Sequence[LineAmounts]) -> QuoteAmounts:
    """The totals of a quote from its lines."""
    list_total = sum(line.list_cents for line in lines)
    total = sum(line.total_cents for line in lines)
    if total > MAX_AMOUNT_CENTS or list_total > MAX_AMOUNT_CENTS:
        msg = f"a quote may come to at most {MAX_AMOUNT_CENTS // 100:,} yuan; split it into several quotes"
        raise InvalidInput(msg, field="lines")
    return QuoteAmounts(
        lines=list(lines), list_total_cents=list_total, total_cents=total, discount_bp=depth_bp(list_total, total)
    )


def yuan(cents: int) -> str:
    """Cents as ``¥1,234.56`` (exact: integer arithmetic only)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}¥{whole:,}.{part:02d}"
