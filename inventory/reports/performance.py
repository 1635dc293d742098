"""The performance report's charts: requests open and overdue by risk level, and days from
referral to install against the target. `open_requests_chart` and `install_times_chart` are
pure functions of the figures (tested without Flask); `performance(today)` gathers the
figures (two grouped queries in `inventory.requests.performance`) and draws both, for the
report page and for any dashboard that wants one of them."""
from dataclasses import dataclass
from datetime import date

from inventory import clock
from inventory.charts import BarChart, Row, bar_chart, plain, spoken_date
from inventory.requests import performance as figures
from inventory.requests.performance import InstallTimes, OpenRequests


def days(value: float | int) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} day" if text == "1" else f"{text} days"


def open_requests_chart(counts: list[OpenRequests]) -> BarChart:
    """Open requests per risk level, split into overdue and on time (stacked)."""
    total, late = sum(c.open for c in counts), sum(c.overdue for c in counts)
    words = (f"{total} open request{'' if total == 1 else 's'}, {late} of them overdue: "
             + "; ".join(f"{c.risk_level.label.lower()} risk {c.open} open, {c.overdue} overdue" for c in counts)
             + ".")
    rows = [Row(f"{c.risk_level.label} risk", (c.overdue, c.on_time)) for c in counts] if total else []
    return bar_chart("open-requests", "Open requests by risk level", words, series=("Overdue", "On time"),
                     rows=rows, row_heading="Risk level", fmt=plain, empty_text="No open requests.")


def install_times_chart(times: list[InstallTimes], since: date, until: date) -> BarChart:
    """Median and 90th-percentile days from referral to install per risk level (grouped
    bars), each level's target marked across its bars. A level with no installs shows no
    bars and says so."""
    period = f"requests first installed from {spoken_date(since)} to {spoken_date(until)}"
    sentences = []
    for t in times:
        level = f"{t.risk_level.label} risk"
        if not t.installed:
            sentences.append(f"{level}: none installed (target {days(t.target_days)}).")
        else:
            sentences.append(f"{level}: median {days(t.median_days)}, 90th percentile {days(t.p90_days)}, "
                             f"target {days(t.target_days)}; {t.within_target} of {t.installed} within it.")
    rows = [Row(f"{t.risk_level.label} risk", (t.median_days, t.p90_days), marker=t.target_days,
                note="" if t.installed else "none installed",
                extra=(str(t.installed), _share(t)))
            for t in times] if any(t.installed for t in times) else []
    return bar_chart(
        "install-times", "Days from referral to install", f"Days from referral to install, {period}. "
        + " ".join(sentences), series=("Median", "90th percentile"), rows=rows, row_heading="Risk level",
        stacked=False, fmt=days, marker_name="target", extra_columns=("Installed", "Within target"),
        caption=f"Days from referral to install, {period}",
        empty_text=f"No requests installed in the last 12 months ({period}).")


def _share(t: InstallTimes) -> str:
    share = t.share_within_target
    return "—" if share is None else f"{t.within_target} ({round(100 * share)}%)"


@dataclass(frozen=True)
class PerformanceCharts:
    open_requests: BarChart
    install_times: BarChart
    since: date
    until: date


def open_requests(today: date | None = None) -> BarChart:
    """The open requests chart alone (one query), for a dashboard."""
    return open_requests_chart(figures.open_by_risk(today or clock.today()))


def install_times(today: date | None = None) -> BarChart:
    """The days-to-install chart alone (one query), for a dashboard."""
    since, until = figures.window(today or clock.today())
    return install_times_chart(figures.install_times(since, until), since, until)


def performance(today: date | None = None) -> PerformanceCharts:
    """Both charts as of `today` (by default the clock's)."""
    today = today or clock.today()
    since, until = figures.window(today)
    return PerformanceCharts(open_requests_chart(figures.open_by_risk(today)),
                             install_times_chart(figures.install_times(since, until), since, until), since, until)
