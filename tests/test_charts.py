"""SVG charts are drawn from the numbers they show, and escape their labels."""

from core.charts import bar_chart, column_chart


def test_bars_are_as_long_as_their_values_and_print_them():
    svg = bar_chart([("Botox", 40), ("Peel", 10)], title="Leads")
    assert svg.startswith("<svg") and "<title>Leads</title>" in svg
    assert svg.count("<rect") == 2
    assert ">40<" in svg and ">10<" in svg
    assert 'width="230"' in svg and 'width="58"' in svg  # 10 is a quarter of 40 (rounded)


def test_labels_are_escaped():
    svg = bar_chart([("<script>alert(1)</script>", 1)], title="x")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_an_empty_or_all_zero_chart_still_renders():
    assert "<svg" in bar_chart([], title="Nothing")
    assert "<svg" in column_chart([("1 Nov", 0), ("2 Nov", 0)], title="Nothing")


def test_a_step_chart_steps_through_its_values_and_marks_its_events():
    from datetime import datetime, timedelta

    from core.charts import step_chart

    start = datetime(2026, 11, 1, 9)
    svg = step_chart([(start + timedelta(days=1), 85), (start + timedelta(days=5), 40)], start=start,
                     end=start + timedelta(days=10), marks=[(start + timedelta(days=5), "v<2>")], title="Score")
    assert svg.count("<circle") == 2
    assert "85 from 02 Nov 2026 09:00" in svg and "40 from 06 Nov 2026 09:00" in svg
    assert svg.count('class="mark"') == 1 and "v&lt;2&gt;" in svg and "<2>" not in svg
