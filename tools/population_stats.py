"""The shared synthetic population's mix and speed: `python tools/population_stats.py [--size N] [--sample N]`.

Prints the start-up time, generation time per person, the mix of a sample (income sources, Self Assessment, Child
Benefit, ages, quirks), what HMRC would answer on a date, and the time to collect N (claimant, child aged 16+) pairs
the way the monthly Child Benefit check does (with the claimants' NINOs, then with whole claimants).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import statistics
import sys
import time
import tracemalloc

from cms_simulation.population import Population
from cms_simulation.population.child_benefit import age_on, child_status
from cms_simulation.population.hmrc import hmrc_figure, latest_available_tax_year


def pct(n: int, of: int) -> str:
    return f"{100 * n / of:5.1f}%" if of else "  n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2012)
    ap.add_argument("--sample", type=int, default=30_000, help="people generated for the mix")
    ap.add_argument(
        "--on",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 11, 22),
        help="the date asked about",
    )
    ap.add_argument(
        "--children", type=int, default=150_000, help="16+ (claimant, child) pairs to collect"
    )
    args = ap.parse_args(argv)

    tracemalloc.start()
    t = time.perf_counter()
    population = Population(size=args.size, seed=args.seed)
    print(
        f"population of {args.size:,} (seed {args.seed}, horizon {population.horizon}): "
        f"started in {1000 * (time.perf_counter() - t):.2f} ms, {tracemalloc.get_traced_memory()[1] / 1024:.0f} KiB"
    )
    tracemalloc.stop()

    stride = max(1, args.size // args.sample)
    stride += stride % 3 == 0  # sample every position in the families (blocks of three)
    indexes = range(0, min(args.size, stride * args.sample), stride)
    t = time.perf_counter()
    people = [population.generator.person(i) for i in indexes]
    per_person = (time.perf_counter() - t) / max(1, len(people))
    print(
        f"generation: {1e6 * per_person:.0f} µs per person ({len(people):,} people, every {stride:,}th index)"
    )

    n = len(people)
    c = collections.Counter()
    ages, gross = [], []
    for p in people:
        ages.append(age_on(p.date_of_birth, args.on))
        live = [e for e in p.employments if e.end_date is None or e.end_date >= args.on]
        c["employed now"] += any(not e.occupational_pension for e in live)
        c["occupational pension now"] += any(e.occupational_pension for e in live)
        c["any PAYE employment since 2013-14"] += bool(p.employments)
        c["self-employed"] += p.self_employed
        c["registered for Self Assessment"] += bool(p.self_assessment_utr)
        c["no income data at all"] += not p.tax_years
        c["Child Benefit claimant"] += p.child_benefit is not None
        c["opted out of Child Benefit payment"] += bool(
            p.child_benefit and p.child_benefit.elected_not_to_be_paid
        )
        c["paying/receiving parent (other_parent_nino)"] += bool(p.other_parent_nino)
        c["has a partner (partner_nino)"] += bool(p.partner_nino)
        c["deceased"] += p.date_of_death is not None
        c["restricted record"] += p.restricted
        for q in p.quirks:
            c[f"quirk {q.value}"] += 1
        year = latest_available_tax_year(p, args.on)
        if year is None:
            c["HMRC: no tax year available"] += 1
        else:
            figure = hmrc_figure(year, p.employments)
            c[f"HMRC: source {figure.source}"] += 1
            c[f"HMRC: latest year {year.tax_year}"] += 1
            gross.append(figure.gross_pence / 100)
            if year.unearned is not None and year.unearned.total_pence >= 2_500_00:
                c["HMRC: unearned income >= £2,500"] += 1
        if p.child_benefit:
            kids = p.child_benefit.children
            c["claimant with a child aged 16-19"] += any(
                16 <= age_on(k.date_of_birth, args.on) <= 19 for k in kids
            )
            for k in kids:
                c["children"] += 1
                s = child_status(p.child_benefit, k, args.on)
                c["children entitled"] += s.entitled
                c["children in payment"] += s.in_payment
    print(f"\nmix on {args.on} ({n:,} people; Child Benefit lines are of claimants):")
    claimants = c["Child Benefit claimant"]
    of_claimants = {"opted out of Child Benefit payment", "claimant with a child aged 16-19"}
    for key in sorted(c):
        if key.startswith("children"):
            continue
        print(f"  {key:48} {c[key]:8,} {pct(c[key], claimants if key in of_claimants else n)}")
    print(
        f"  {'children on awards (entitled / in payment)':48} {c['children']:8,} "
        f"({pct(c['children entitled'], c['children'])} / {pct(c['children in payment'], c['children'])})"
    )
    if gross:
        q = statistics.quantiles(gross, n=10)
        print(
            f"  HMRC figure £: median {statistics.median(gross):,.0f}, deciles "
            + ", ".join(f"{x:,.0f}" for x in q)
        )
    buckets = collections.Counter(min(a // 10 * 10, 70) for a in ages)
    print(
        "  ages: "
        + ", ".join(f"{b}-{b + 9}: {pct(buckets[b], n).strip()}" for b in sorted(buckets))
    )

    for label, pairs in (
        ("claimant NINOs", population.child_benefit_children(16, args.on, limit=args.children)),
        (
            "whole claimants",
            population.child_benefit_children_aged(16, args.on, limit=args.children),
        ),
    ):
        t = time.perf_counter()
        got = sum(1 for _ in pairs)
        took = time.perf_counter() - t
        print(
            f"16+ Child Benefit children on {args.on} with {label}: {got:,} pairs in {took:.1f} s "
            f"({got / took:,.0f}/s){'' if got == args.children else ' (all there are)'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
