"""SQL expressions that SQLite and PostgreSQL spell differently, and the one percentile rule
the reports use, so that every report computes a day, a month or a 90th percentile the same
way on both engines."""
from sqlalchemy import Date, Integer, case, cast, func, literal_column

from inventory.extensions import db


def on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def utc_day(moment):
    """The UTC day of a timestamp."""
    if on_postgres():
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment, type_=Date)


def days_between(since, day):
    """Whole days from the date `since` to the date `day`."""
    if on_postgres():
        return day - since
    return cast(func.julianday(day) - func.julianday(since), Integer)


def first_of_month(day):
    """The first day of `day`'s month (the unit written into the SQL, so GROUP BY matches it)."""
    if on_postgres():
        return cast(func.date_trunc(literal_column("'month'"), day), Date)
    return func.date(day, literal_column("'start of month'"), type_=Date)


def nearest_rank(values, rank, size, numerator: int, denominator: int):
    """The percentile numerator/denominator of a group by the nearest-rank rule: the value at
    rank ⌈n·p⌉ (ranks from 1, in order), that is the smallest value that at least that share
    of the group reached. An aggregate over rows carrying their `rank` and group `size`
    (window functions); integer arithmetic, so both engines agree exactly."""
    return func.max(case((rank == (numerator * size + denominator - 1) // denominator, values)))
