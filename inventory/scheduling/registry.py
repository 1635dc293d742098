"""What a scheduled job is: a plain function of "now", when it runs, and what it is for.

`schedule` holds APScheduler trigger arguments, e.g. `{"trigger": "cron", "hour": 2,
"minute": 15}` (every day at 02:15, in the scheduler's time zone) or `{"trigger":
"interval", "minutes": 15}`. Interval triggers count from a fixed origin, so every
scheduler process agrees on when each one is due (which is how a second scheduler knows a
trigger's time is already done).
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from inventory.notices import JobOutcome

INTERVAL_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}


@dataclass(frozen=True, eq=False)
class ScheduledJob:
    name: str
    function: Callable[[datetime], JobOutcome]
    schedule: dict
    description: str
    # Every notice kind the job can report: a run that no longer reports one closes it.
    kinds: tuple[str, ...] = ()

    def trigger(self, timezone: tzinfo) -> BaseTrigger:
        arguments = dict(self.schedule)
        kind = arguments.pop("trigger")
        if kind == "cron":
            return CronTrigger(timezone=timezone, **arguments)
        if kind == "interval":
            return IntervalTrigger(timezone=timezone, start_date=INTERVAL_ORIGIN, **arguments)
        raise ValueError(f"{self.name}: unknown trigger {kind!r} (cron or interval)")

    def next_run_after(self, now: datetime, timezone: tzinfo) -> datetime | None:
        return self.trigger(timezone).get_next_fire_time(None, now)

    def due_at(self, now: datetime, timezone: tzinfo, *, within: timedelta) -> datetime | None:
        """The trigger's latest time at or before `now`, if one fell in the last `within`
        (the scheduler runs nothing later than that after it was due): the time a run at
        `now` is for."""
        trigger = self.trigger(timezone)
        due, fire = None, trigger.get_next_fire_time(None, now - within)
        while fire is not None and fire <= now:
            due, fire = fire, trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        return due

    @property
    def schedule_in_words(self) -> str:
        return schedule_in_words(self.schedule)


def schedule_in_words(schedule: dict) -> str:
    """"Every day at 02:15", "Every Monday at 07:00", "Every 15 minutes"; other schedules
    as their trigger arguments."""
    arguments = dict(schedule)
    kind = arguments.pop("trigger")
    if kind == "interval" and arguments and set(arguments) <= set(INTERVAL_UNITS):
        parts = [(arguments[unit], unit) for unit in INTERVAL_UNITS if arguments.get(unit)]
        if len(parts) == 1 and parts[0][0] == 1:
            return f"Every {parts[0][1][:-1]}"
        return "Every " + " ".join(f"{n} {unit[:-1] if n == 1 else unit}" for n, unit in parts)
    hour, minute = arguments.get("hour"), arguments.get("minute", 0)
    day = arguments.get("day_of_week")
    if kind == "cron" and isinstance(minute, int) and set(arguments) <= {"hour", "minute", "day_of_week"} and (
            day is None or day in DAY_NAMES or day == "mon-fri"):
        days = DAY_NAMES.get(day) or ("weekday" if day else "day")
        if isinstance(hour, int):
            return f"Every {days} at {hour:02d}:{minute:02d}"
        if isinstance(hour, str) and re.fullmatch(r"\d{1,2}-\d{1,2}", hour):
            first, last = (int(h) for h in hour.split("-"))
            return f"Every {days}, hourly from {first:02d}:{minute:02d} to {last:02d}:{minute:02d}"
    return f"{kind}: " + ", ".join(f"{name}={value}" for name, value in arguments.items())
