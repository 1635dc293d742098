"""The burn-down chart as inline SVG, drawn on the server: no JavaScript, no CDN, no
internet. Pure geometry, so it is tested without Flask."""
from dataclasses import dataclass
from datetime import date

from inventory.money import format_pence

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 16, 36  # margins for the axis labels


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class BurnDownChart:
    width: int
    height: int
    actual_points: str
    plan_points: str
    zero_y: float
    plot_left: int
    plot_right: int
    y_labels: list[Label]
    x_labels: list[Label]
    description: str


def burn_down(series: list[tuple[date, int]], *, starts_on: date, ends_on: date, spend_by: date,
              allocated_pence: int) -> BurnDownChart:
    """`series`: available at the end of each day so far. The plan is an even spend of the
    allocation from `starts_on` to `spend_by` (the period end, or the contract end if sooner)."""
    values = [amount for _, amount in series] + [allocated_pence, 0]
    low, high = min(values), max(max(values), 1)
    span_days = max((ends_on - starts_on).days, 1)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + plot_width * (day - starts_on).days / span_days, 1)

    def y(pence: int) -> float:
        return round(TOP + plot_height * (high - pence) / (high - low), 1)

    def points(pairs) -> str:
        return " ".join(f"{x(day)},{y(amount)}" for day, amount in pairs)

    middle = starts_on.fromordinal((starts_on.toordinal() + ends_on.toordinal()) // 2)
    now_available = series[-1][1] if series else 0
    return BurnDownChart(
        width=WIDTH, height=HEIGHT,
        actual_points=points(series),
        plan_points=points([(starts_on, allocated_pence), (spend_by, 0)]),
        zero_y=y(0), plot_left=LEFT, plot_right=WIDTH - RIGHT,
        y_labels=[Label(LEFT - 6, y(v) + 4, format_pence(v)) for v in sorted({high, 0, low})],
        x_labels=[Label(x(d), HEIGHT - 12, f"{d:%b %Y}") for d in (starts_on, middle, ends_on)],
        description=(f"Available fell from {format_pence(series[0][1] if series else 0)} to "
                     f"{format_pence(now_available)}; an even spend reaches zero on {spend_by:%d %B %Y}."),
    )

