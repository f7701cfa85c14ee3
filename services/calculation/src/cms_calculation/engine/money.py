"""Integer-pence arithmetic with explicit rounding (no floats anywhere near money)."""

from __future__ import annotations

# No figure the scheme meets comes near £10bn; bounding each keeps every sum the engine forms (income plus
# variations, apportionments) well inside the contract's int64, so one item can never overflow its answer.
MAX_AMOUNT_PENCE = 10**12


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (both non-negative)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("div_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def round_to_pound_half_up(pence: int) -> int:
    return div_half_up(pence, 100) * 100


def exact_pounds(numerator: int, denominator: int) -> str:
    """numerator / denominator pence shown in pounds without rounding (denominator a power of ten):
    5249_52 / 100 → "£52.4952"."""
    whole, rest = divmod(numerator, denominator * 100)
    digits = len(str(denominator * 100)) - 1
    fraction = f"{rest:0{digits}d}".rstrip("0").ljust(2, "0")
    return f"£{whole:,}.{fraction}"


def split_balanced(total: int, weights: list[int]) -> list[int]:
    """Split `total` pence in proportion to `weights` so the parts add up exactly (largest remainder)."""
    if len(weights) == 1 and weights[0] > 0:
        return [total]
    if not weights or sum(weights) <= 0:
        raise ValueError("weights must be positive")
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


def pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def percent(basis_points: int) -> str:
    """2000 → "20%", 1410 → "14.1%", 250 → "2.5%"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"
