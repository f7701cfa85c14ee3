"""What the benchmarks (tools/bench_*.py) print alike: a summary table of each figure next to its target."""

from __future__ import annotations


def fmt(value: float, spec: str = ",.0f") -> str:
    return "n/a" if value != value else format(value, spec)  # NaN is "n/a"


def seconds(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f} s"


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_summary(
    rows: list[tuple[str, str, str, str]], *, name_width: int = 46, value_width: int = 12
) -> None:
    """rows: (measure, value, target, met)."""
    head = f"{'measure':<{name_width}} | {'value':>{value_width}} | {'target':>{value_width}} | {'met':>3}"
    print(head)
    print("-" * len(head))
    for name, value, target, ok in rows:
        print(f"{name:<{name_width}} | {value:>{value_width}} | {target:>{value_width}} | {ok:>3}")
