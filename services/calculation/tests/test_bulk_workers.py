"""How many worker processes a bulk run uses."""

from __future__ import annotations

from cms_calculation.calculations.bulk import default_workers


def test_bulk_workers_follow_the_container_cpu_limit(tmp_path):
    limit = tmp_path / "cpu.max"
    limit.write_text("100000 100000\n")
    assert default_workers(str(limit)) == 0  # one CPU: calculate in-process
    limit.write_text("max 100000\n")
    assert default_workers(str(limit)) == default_workers(str(tmp_path / "absent"))
