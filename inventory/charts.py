"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, no internet, nothing a
strict Content-Security-Policy would block. This module is pure geometry (numbers in,
coordinates and text out), so it is tested without Flask; `templates/_charts.html` turns a
chart into markup.

Every chart carries what people who cannot see it need: a title, a description in words
(the SVG's <title> and <desc>), and its numbers as a table (`Table`) one click away. Series
differ by pattern or dash as well as colour, and each bar is labelled with its value, so
nothing is told by colour alone. The drawing is sized by its viewBox and scales to the
width of the page, a phone's included.

Three kinds:
- `bar_chart`: horizontal bars, one row per label, each row one bar or several (stacked or
  grouped), with an optional reference marker per row (a target, a reorder level).
- `line_chart`: series over dates, solid, dashed (a forecast) or dotted (a plan).
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from inventory.money import format_pence

Number = int | float
Format = Callable[[Number], str]

WIDTH = 400  # viewBox units; text is 14 units high, readable scaled down to a 390 px phone
CHAR_WIDTH = 7.4  # a rough width of one character at that size, to leave room for values
PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "grid")
COLOURS = 6  # chart__colour--0..5 in the stylesheet, each at least 4.5:1 against white
LINE_STYLES = ("solid", "dashed", "dotted")
NO_DATA = "No data yet."


def plain(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def whole_pounds(pence: Number) -> str:
    """An axis label: pounds without pence (−£1,234)."""
    pounds = round(abs(pence) / 100)
    return f"{'−' if pence < 0 and pounds else ''}£{pounds:,}"


def money(pence: Number) -> str:
    return format_pence(int(pence))


def spoken_date(day: date) -> str:
    """1 April 2026: a date as a description reads it."""
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Table:
    """The chart's numbers: the first column heads the rows (<th scope="row">)."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Series:
    name: str
    index: int

    @property
    def pattern(self) -> str:
        return PATTERNS[self.index % len(PATTERNS)]

    @property
    def colour(self) -> int:
        # Walk the colours and the patterns out of step, so no two series share both.
        return (self.index + self.index // len(PATTERNS)) % COLOURS


# Bar charts

@dataclass(frozen=True)
class Row:
    """One label's values, one per series; `marker` is a reference value drawn across the row
    (named by the chart's `marker_name`); `extra` are more cells for the numbers table."""

    label: str
    values: tuple[Number | None, ...]  # None: no figure (drawn as no bar, shown as "—")
    marker: Number | None = None
    note: str = ""
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    series: Series
    value: Number
    x: float
    y: float
    width: float
    height: float
    text: str  # drawn beside the bar when the chart is grouped
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Marker:
    x: float
    y1: float
    y2: float


@dataclass(frozen=True)
class BarRow:
    label: str
    note: str
    label_y: float
    segments: tuple[Segment, ...]
    value_text: str  # the row's total, drawn after the bar (stacked or single bars)
    value_x: float
    value_y: float
    marker: Marker | None


@dataclass(frozen=True)
class BarChart:
    key: str  # unique on a page: element ids derive from it
    title: str
    description: str
    width: int
    height: int
    series: tuple[Series, ...]
    rows: tuple[BarRow, ...]
    zero_x: float
    top: float
    bottom: float
    stacked: bool
    marker_name: str | None
    table: Table
    empty_text: str = NO_DATA
    kind: str = field(default="bars", init=False)

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def grouped(self) -> bool:
        """Bars of several series one under another, each labelled with its series."""
        return not self.stacked and len(self.series) > 1

    @property
    def legend(self) -> tuple[Series, ...]:
        """A key is needed only when there is more than one series."""
        return self.series if len(self.series) > 1 else ()


LABEL_HEIGHT = 18  # the row's label line above its bar
BAR = 16  # a single or stacked bar
GROUPED_BAR = 13  # each bar of a group
GROUP_GAP = 3
ROW_GAP = 12
EDGE = 8
LABEL_CHARS = int((WIDTH - 2 * EDGE) / CHAR_WIDTH)  # a label line's room


def bar_chart(key: str, title: str, description: str, *, series: Sequence[str], rows: Sequence[Row],
              row_heading: str, stacked: bool = True, fmt: Format = plain, marker_name: str | None = None,
              extra_columns: Sequence[str] = (), caption: str | None = None,
              empty_text: str = NO_DATA) -> BarChart:
    """Horizontal bars, one row per `Row`, each with a value per series: stacked end to end
    (negative values to the left of zero) or grouped one under another. The scale runs from
    the lowest to the highest of zero, every bar's end and every marker, so a bar's length is
    proportional to its value; with nothing but zeros it still draws (empty bars), and with no
    rows the chart is `empty` and says so rather than dividing by zero."""
    names = tuple(Series(name, index) for index, name in enumerate(series))
    for row in rows:
        if len(row.values) != len(names):
            raise ValueError(f"row {row.label!r} has {len(row.values)} values for {len(names)} series")
    table = _bar_table(caption or title, names, rows, row_heading, stacked, fmt, marker_name, extra_columns)
    if not rows:
        return BarChart(key, title, description, WIDTH, 0, names, (), 0, 0, 0, stacked, marker_name, table,
                        empty_text)

    def ends(row: Row) -> list[Number]:
        if stacked:
            return [sum(v for v in row.values if v and v < 0), sum(v for v in row.values if v and v > 0)]
        return [v for v in row.values if v is not None]

    values = [v for row in rows for v in ends(row)] + [row.marker for row in rows if row.marker is not None]
    low, high = min(0, *values), max(0, *values)
    if high == low:
        high = low + 1  # all zero: empty bars, no division by zero
    grouped = not stacked and len(names) > 1
    texts = [_grouped_text(name, value, fmt) for row in rows for name, value in zip(names, row.values)] if grouped \
        else [_total(row, fmt) for row in rows]
    left, right = EDGE, WIDTH - EDGE - min(180, 6 + CHAR_WIDTH * max(len(text) for text in texts))

    def x(value: Number) -> float:
        return round(left + (right - left) * (value - low) / (high - low), 1)

    zero, drawn, y = x(0), [], float(EDGE)
    for row in rows:
        marker_x = None if row.marker is None else x(row.marker)
        label_y = y + LABEL_HEIGHT - 5
        bars_top = y + LABEL_HEIGHT
        segments = []
        if stacked:
            positive = negative = 0
            for name, value in zip(names, row.values):
                value = value or 0
                start = positive if value >= 0 else negative + value
                if value >= 0:
                    positive += value
                else:
                    negative += value
                segments.append(Segment(name, value, x(start), bars_top, round(x(start + abs(value)) - x(start), 1),
                                        BAR, fmt(value), 0, 0))
            bars_bottom = bars_top + BAR
        else:
            for index, (name, value) in enumerate(zip(names, row.values)):
                top = bars_top + index * (GROUPED_BAR + GROUP_GAP)
                start, end = sorted((x(0), x(value or 0)))
                text = _grouped_text(name, value, fmt) if grouped else fmt(value)
                segments.append(Segment(name, value, start, top, round(end - start, 1), GROUPED_BAR, text,
                                        _text_x(max(end, zero), text, marker_x), top + GROUPED_BAR - 2))
            bars_bottom = bars_top + len(names) * (GROUPED_BAR + GROUP_GAP) - GROUP_GAP
        end = max([zero] + [s.x + s.width for s in segments])
        note = "; ".join(part for part in (row.note, row.marker is not None and marker_name
                                           and f"{marker_name} {fmt(row.marker)}" or "") if part)
        value_text = "" if grouped else _total(row, fmt)
        drawn.append(BarRow(
            _shorten(row.label, LABEL_CHARS - len(note) - 3 if note else LABEL_CHARS), note, label_y, tuple(segments),
            value_text=value_text, value_x=_text_x(end, value_text, marker_x), value_y=bars_top + BAR - 3,
            marker=None if marker_x is None else Marker(marker_x, bars_top - 3, bars_bottom + 3)))
        y = bars_bottom + ROW_GAP
    return BarChart(key, title, description, WIDTH, round(y + EDGE - ROW_GAP), names, tuple(drawn), zero,
                    float(EDGE), y - ROW_GAP, stacked, marker_name, table, empty_text)


def _text_x(bar_end: float, text: str, marker_x: float | None) -> float:
    """Where a value's text starts: just after its bar, or just after the row's marker if the
    text would otherwise be struck through by it."""
    start = bar_end + 5
    if marker_x is not None and start - 2 <= marker_x <= start + CHAR_WIDTH * len(text):
        start = marker_x + 5
    return round(start, 1)


def _shorten(text: str, chars: int) -> str:
    """A label cut to fit the drawing's width (the table keeps it whole)."""
    chars = max(chars, 16)
    return text if len(text) <= chars else text[:chars - 1].rstrip() + "…"


def _show(value: Number | None, fmt: Format) -> str:
    return "—" if value is None else fmt(value)


def _total(row: Row, fmt: Format) -> str:
    present = [v for v in row.values if v is not None]
    return _show(sum(present) if present else None, fmt)


def _grouped_text(series: Series, value: Number | None, fmt: Format) -> str:
    """Each bar of a group names its series beside its value: no colour to decode."""
    return f"{series.name}: {_show(value, fmt)}"


def _bar_table(caption, names, rows, row_heading, stacked, fmt, marker_name, extra_columns) -> Table:
    total = stacked and len(names) > 1
    columns = (row_heading, *(n.name for n in names), *(("Total",) if total else ()),
               *((marker_name[0].upper() + marker_name[1:],) if marker_name else ()), *extra_columns)
    return Table(caption, columns, tuple(
        (row.label, *(_show(v, fmt) for v in row.values), *((_total(row, fmt),) if total else ()),
         *(("—" if row.marker is None else fmt(row.marker),) if marker_name else ()), *row.extra)
        for row in rows))


# Line charts over dates

@dataclass(frozen=True)
class Line:
    name: str
    points: Sequence[tuple[date, Number]]
    style: str = "solid"  # solid | dashed (a forecast) | dotted (a plan)

    def __post_init__(self):
        if self.style not in LINE_STYLES:
            raise ValueError(f"unknown line style {self.style!r}")


@dataclass(frozen=True)
class DayMarker:
    day: date
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class DrawnLine:
    name: str
    style: str
    points: str  # "x,y x,y ..." for <polyline points>


@dataclass(frozen=True)
class DrawnMarker:
    x: float
    y1: float
    y2: float
    label: Label


@dataclass(frozen=True)
class LineChart:
    key: str
    title: str
    description: str
    width: int
    height: int
    lines: tuple[DrawnLine, ...]
    zero_y: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_labels: tuple[Label, ...]
    x_labels: tuple[Label, ...]
    markers: tuple[DrawnMarker, ...]
    table: Table
    empty_text: str = NO_DATA
    kind: str = field(default="line", init=False)

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)

    @property
    def legend(self) -> tuple[DrawnLine, ...]:
        return tuple(line for line in self.lines if line.points)


LINE_HEIGHT = 230
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 70, 14, 24, 28


def line_chart(key: str, title: str, description: str, *, lines: Sequence[Line], starts_on: date, ends_on: date,
               table: Table, axis_fmt: Format = plain, markers: Sequence[DayMarker] = (),
               empty_text: str = NO_DATA) -> LineChart:
    """Series over the days from `starts_on` to `ends_on`. The vertical scale always holds zero
    and every value, so a series below zero (an overspend) has room under the zero line."""
    values = [value for line in lines for _, value in line.points]
    low, high = min([0, *values]), max([0, *values])
    if high == low:
        high = low + 1
    span = max((ends_on - starts_on).days, 1)
    plot_right, plot_bottom = WIDTH - LINE_RIGHT, LINE_HEIGHT - LINE_BOTTOM

    def x(day: date) -> float:
        return round(LINE_LEFT + (plot_right - LINE_LEFT) * (day - starts_on).days / span, 1)

    def y(value: Number) -> float:
        return round(LINE_TOP + (plot_bottom - LINE_TOP) * (high - value) / (high - low), 1)

    middle = starts_on + timedelta(days=span // 2)
    return LineChart(
        key, title, description, WIDTH, LINE_HEIGHT,
        lines=tuple(DrawnLine(line.name, line.style, " ".join(f"{x(d)},{y(v)}" for d, v in line.points))
                    for line in lines),
        zero_y=y(0), plot_left=LINE_LEFT, plot_right=plot_right, plot_top=LINE_TOP, plot_bottom=plot_bottom,
        y_labels=tuple(Label(LINE_LEFT - 6, y(v) + 5, axis_fmt(v), "end") for v in sorted({low, 0, high})),
        x_labels=(Label(x(starts_on), LINE_HEIGHT - 8, f"{starts_on:%b %Y}", "start"),
                  Label(x(middle), LINE_HEIGHT - 8, f"{middle:%b %Y}"),
                  Label(x(ends_on), LINE_HEIGHT - 8, f"{ends_on:%b %Y}", "end")),
        markers=tuple(DrawnMarker(x(m.day), LINE_TOP - 4, plot_bottom,
                                  Label(x(m.day), LINE_TOP - 9, m.label, _anchor(x(m.day), LINE_LEFT, plot_right)))
                      for m in markers if starts_on <= m.day <= ends_on),
        table=table, empty_text=empty_text)


def _anchor(position: float, left: float, right: float) -> str:
    """Keep a label inside the drawing near either edge."""
    if position - left < 60:
        return "start"
    if right - position < 60:
        return "end"
    return "middle"
