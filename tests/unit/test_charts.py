"""The geometry of server-drawn charts (inventory/charts.py): numbers in, coordinates and
words out, with no Flask and no database."""
from datetime import date

import pytest

from inventory.charts import (
    LABEL_CHARS,
    WIDTH,
    DayMarker,
    Line,
    Row,
    Series,
    Table,
    bar_chart,
    line_chart,
    money,
    plain,
    spoken_date,
    whole_pounds,
)


def bars(rows, *, series=("Units",), **options):
    return bar_chart("test", "A chart", "What it shows.", series=series, rows=rows, row_heading="Thing", **options)


def widths(chart):
    return [[segment.width for segment in row.segments] for row in chart.rows]


def test_bars_are_as_long_as_their_values_from_a_common_zero():
    chart = bars([Row("Alarms", (10,)), Row("Locks", (20,)), Row("Cameras", (40,))])
    (short,), (middle,), (long,) = widths(chart)
    assert middle == pytest.approx(2 * short, abs=0.2) and long == pytest.approx(4 * short, abs=0.2)
    assert {segment.x for row in chart.rows for segment in row.segments} == {chart.zero_x}
    assert long + chart.zero_x < WIDTH  # the longest bar still leaves room for its value


def test_each_bar_carries_its_label_and_its_value_in_words():
    chart = bars([Row("Alarms", (1250,)), Row("Locks", (75,))], fmt=money)
    assert [(row.label, row.value_text) for row in chart.rows] == [("Alarms", "£12.50"), ("Locks", "£0.75")]
    for row in chart.rows:
        assert row.value_x > row.segments[0].x + row.segments[0].width  # the value sits after its bar
        assert row.label_y < row.segments[0].y  # the label sits above it


def test_stacked_segments_follow_each_other_and_the_row_shows_their_total():
    chart = bars([Row("April", (300, 100))], series=("Locks", "Alarms"))
    locks, alarms = chart.rows[0].segments
    assert alarms.x == pytest.approx(locks.x + locks.width, abs=0.1)
    assert locks.width == pytest.approx(3 * alarms.width, abs=0.2)
    assert chart.rows[0].value_text == "400"
    assert [series.name for series in chart.legend] == ["Locks", "Alarms"]


def test_a_negative_value_is_drawn_left_of_zero_in_proportion():
    chart = bars([Row("Credits", (-50,)), Row("Spend", (100,))])
    (negative,), (positive,) = widths(chart)
    credit = chart.rows[0].segments[0]
    assert chart.zero_x > credit.x and credit.x + credit.width == pytest.approx(chart.zero_x, abs=0.1)
    assert positive == pytest.approx(2 * negative, abs=0.2)


def test_negative_parts_of_a_stack_go_left_and_positive_parts_right():
    chart = bars([Row("May", (-20, 60))], series=("Refunds", "Spend"))
    refund, spend = chart.rows[0].segments
    assert refund.x + refund.width == pytest.approx(chart.zero_x, abs=0.1) == spend.x
    assert chart.rows[0].value_text == "40"


def test_grouped_bars_sit_one_under_another_and_each_names_its_series():
    chart = bars([Row("High risk", (2.5, 6))], series=("Median", "90th percentile"), stacked=False,
                 fmt=lambda v: f"{v} days")
    median, p90 = chart.rows[0].segments
    assert chart.grouped and median.x == p90.x == chart.zero_x and p90.y > median.y
    assert (median.text, p90.text) == ("Median: 2.5 days", "90th percentile: 6 days")
    assert p90.width == pytest.approx(median.width * 6 / 2.5, abs=0.2)
    assert chart.rows[0].value_text == ""  # no total for a group


def test_a_marker_is_drawn_at_its_value_and_counted_in_the_scale():
    chart = bars([Row("Alarms", (2,), marker=4), Row("Locks", (8,), marker=None)], marker_name="reorder level")
    alarms, locks = chart.rows
    (two,), (eight,) = widths(chart)
    assert alarms.marker.x - chart.zero_x == pytest.approx(2 * two, abs=0.2)
    assert alarms.marker.y1 < alarms.segments[0].y < alarms.marker.y2
    assert alarms.note == "reorder level 4" and locks.marker is None and locks.note == ""


def test_a_marker_beyond_every_bar_stretches_the_scale_to_hold_it():
    chart = bars([Row("Standard risk", (3,), marker=14)], marker_name="target")
    (bar,) = chart.rows[0].segments
    assert chart.rows[0].marker.x > bar.x + bar.width
    assert bar.width == pytest.approx((chart.rows[0].marker.x - chart.zero_x) * 3 / 14, abs=0.2)


def test_a_missing_figure_draws_no_bar_and_reads_as_a_dash():
    chart = bars([Row("Medium risk", (None, None), note="none installed"), Row("High risk", (2, 4))],
                 series=("Median", "90th percentile"), stacked=False)
    assert widths(chart)[0] == [0, 0]
    assert [s.text for s in chart.rows[0].segments] == ["Median: —", "90th percentile: —"]
    assert chart.table.rows[0] == ("Medium risk", "—", "—")


def test_no_rows_is_no_data_yet_not_a_division_by_zero():
    chart = bars([])
    assert chart.empty and chart.empty_text == "No data yet." and chart.rows == ()
    assert chart.table.rows == ()


def test_only_zeros_draw_empty_bars_without_dividing_by_zero():
    chart = bars([Row("Alarms", (0,)), Row("Locks", (0,))])
    assert not chart.empty and widths(chart) == [[0], [0]]
    assert [row.value_text for row in chart.rows] == ["0", "0"]


def test_the_numbers_table_holds_every_figure_with_totals_and_markers():
    chart = bars([Row("Personal alarm", (3, 1, 2), marker=4, extra=("yes",))],
                 series=("In stock", "On order", "Reserved"), marker_name="reorder level", extra_columns=("Low",),
                 caption="Units by type")
    assert chart.table == Table("Units by type", ("Thing", "In stock", "On order", "Reserved", "Total",
                                                  "Reorder level", "Low"),
                                (("Personal alarm", "3", "1", "2", "6", "4", "yes"),))


def test_a_long_label_is_shortened_in_the_drawing_but_whole_in_the_table():
    name = "Wifi solar-powered CCTV camera with passive infrared sensor and floodlight, white"
    chart = bars([Row(name, (1,), marker=2)], marker_name="reorder level")
    row = chart.rows[0]
    assert row.label.endswith("…") and len(row.label) + len(row.note) + 3 <= LABEL_CHARS
    assert chart.table.rows[0][0] == name


def test_a_row_must_give_one_value_per_series():
    with pytest.raises(ValueError, match="2 values for 3 series"):
        bars([Row("April", (1, 2))], series=("A", "B", "C"))


def test_series_never_share_both_colour_and_pattern():
    looks = {(series.colour, series.pattern) for series in (Series(str(i), i) for i in range(12))}
    assert len(looks) == 12
    assert Series("first", 0).pattern == "solid" and Series("second", 1).pattern != "solid"


def test_the_drawing_grows_with_its_rows():
    one = bars([Row("A", (1,))])
    three = bars([Row("A", (1,)), Row("B", (2,)), Row("C", (3,))])
    assert three.height > one.height > 0 and one.width == three.width == WIDTH


# Line charts

APRIL = date(2026, 4, 1)
ELEVENTH = date(2026, 4, 11)
TABLE = Table("Numbers", ("Day", "Value"), ())


def test_a_line_runs_from_the_first_day_at_the_left_to_the_last_at_the_right():
    chart = line_chart("line", "Available", "Falls.", lines=[Line("Available", [(APRIL, 10_000), (ELEVENTH, 0)])],
                       starts_on=APRIL, ends_on=ELEVENTH, table=TABLE)
    (start, end) = [tuple(map(float, point.split(","))) for point in chart.lines[0].points.split()]
    assert start == (chart.plot_left, chart.plot_top) and end == (chart.plot_right, chart.zero_y)
    assert chart.zero_y == chart.plot_bottom  # nothing below zero: the zero line is the bottom


def test_points_between_are_placed_in_proportion():
    chart = line_chart("line", "T", "D", lines=[Line("Even", [(date(2026, 4, 6), 5_000)])], starts_on=APRIL,
                       ends_on=ELEVENTH, table=TABLE)
    x, y = map(float, chart.lines[0].points.split(","))
    assert x == pytest.approx((chart.plot_left + chart.plot_right) / 2, abs=0.1)
    assert y == pytest.approx(chart.plot_top, abs=0.1)  # the highest value is the top


def test_a_value_below_zero_has_room_under_the_zero_line():
    chart = line_chart("line", "T", "D", lines=[Line("Available", [(APRIL, -5_000)]),
                                                Line("Plan", [(APRIL, 5_000), (ELEVENTH, 0)], "dotted")],
                       starts_on=APRIL, ends_on=ELEVENTH, table=TABLE, axis_fmt=whole_pounds)
    assert chart.zero_y == pytest.approx((chart.plot_top + chart.plot_bottom) / 2, abs=0.1)
    assert [label.text for label in chart.y_labels] == ["−£50", "£0", "£50"]
    assert chart.lines[0].points.endswith(f",{float(chart.plot_bottom)}")


def test_lines_keep_their_dash_style_and_a_line_without_points_is_not_in_the_key():
    chart = line_chart("line", "T", "D", lines=[Line("Available", [(APRIL, 1)]), Line("Forecast", [], "dashed"),
                                                Line("Plan", [(APRIL, 1), (ELEVENTH, 0)], "dotted")],
                       starts_on=APRIL, ends_on=ELEVENTH, table=TABLE)
    assert [(line.name, line.style) for line in chart.legend] == [("Available", "solid"), ("Plan", "dotted")]


def test_a_line_chart_with_no_points_is_no_data_yet():
    chart = line_chart("line", "T", "D", lines=[Line("Available", [])], starts_on=APRIL, ends_on=APRIL,
                       table=TABLE)
    assert chart.empty and chart.empty_text == "No data yet."


def test_an_unknown_line_style_is_refused():
    with pytest.raises(ValueError, match="unknown line style"):
        Line("Available", [], "wavy")


def test_day_markers_inside_the_range_are_drawn_and_labelled_inside_the_drawing():
    chart = line_chart("line", "T", "D", lines=[Line("A", [(APRIL, 1)])], starts_on=APRIL, ends_on=ELEVENTH,
                       table=TABLE, markers=[DayMarker(date(2026, 4, 10), "Contract ends"),
                                             DayMarker(date(2026, 5, 1), "Outside")])
    (marker,) = chart.markers
    assert marker.label.text == "Contract ends" and marker.label.anchor == "end"
    assert chart.plot_left < marker.x < chart.plot_right


def test_the_date_axis_names_the_first_middle_and_last_months():
    chart = line_chart("line", "T", "D", lines=[Line("A", [(APRIL, 1)])], starts_on=APRIL,
                       ends_on=date(2027, 3, 31), table=TABLE)
    assert [label.text for label in chart.x_labels] == ["Apr 2026", "Sep 2026", "Mar 2027"]


@pytest.mark.parametrize("value, words", [(0, "£0"), (12_345, "£123"), (-5_000, "−£50"), (-40, "£0"),
                                          (123_456_789, "£1,234,568")])
def test_axis_labels_are_whole_pounds(value, words):
    assert whole_pounds(value) == words


def test_figures_read_as_people_write_them():
    assert (plain(1234), plain(2.5), money(-150), spoken_date(APRIL)) == ("1,234", "2.5", "−£1.50", "1 April 2026")


def test_a_value_that_would_cross_the_marker_is_written_after_it():
    chart = bars([Row("High risk", (2.8, 2.9), marker=3)], series=("Median", "90th percentile"), stacked=False)
    median, p90 = chart.rows[0].segments
    marker = chart.rows[0].marker
    assert median.text_x == pytest.approx(marker.x + 5) and p90.text_x == pytest.approx(marker.x + 5)
    clear = bars([Row("Standard risk", (30,), marker=3)], marker_name="target").rows[0]
    assert clear.value_x == pytest.approx(clear.segments[0].x + clear.segments[0].width + 5, abs=0.1)
