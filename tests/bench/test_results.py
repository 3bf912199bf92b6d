"""bench/results.py: each measurement against its target, and the table."""

from bench.results import Measurement, Report, Target


def test_a_measurement_meets_or_misses_its_target():
    assert Measurement("p99", 24.9, "ms", Target("<", 25)).verdict == "ok"
    assert Measurement("p99", 25.0, "ms", Target("<", 25)).verdict == "MISSED"
    assert Measurement("import", 15_000, "rows/s", Target(">=", 15_000)).ok is True


def test_nothing_measured_misses_and_no_target_is_neither():
    assert Measurement("page", None, "ms", Target("<", 300), note="answered 500").ok is False
    assert Measurement("throughput", 812.0, "req/s").ok is None


def test_the_table_has_a_row_per_measurement_with_target_and_verdict(capsys):
    report = Report()
    report.add(Measurement("rescore_leads", 9_500, "leads/s", Target(">=", 10_000), "1M", "lower bound"))

    table = report.table().splitlines()

    assert table[0].split() == ["measurement", "data", "value", "unit", "target", "note"]
    assert table[2].split() == ["rescore_leads", "1M", "9,500", "leads/s", ">=", "10000", "MISSED", "lower", "bound"]
    assert [m.name for m in report.missed()] == ["rescore_leads"]
