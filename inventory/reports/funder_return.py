"""The funder's return: what the Police and Crime Commissioner is told for a quarter (or a
financial year), for the whole service and for each organisation, every figure counted in
SQL, and small numbers suppressed so that no survivor can be singled out.

What each figure means, and the suppression rules, are in docs/domain.md ("The funder's
return"). The days of the return are UTC days, as everywhere in SafeHold (`clock.today()`).
"""
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, String, and_, case, cast, exists, func, null, or_, select, text, union_all
from sqlalchemy.orm import aliased

from inventory.accounts.models import Organisation, OrganisationKind
from inventory.budget.models import SPEND_KINDS, BudgetCategory, EntryKind, LedgerEntry
from inventory.cases.models import FEELS_SAFER_SCALE, Case, CaseReview, ReferralSource, RiskLevel, SupportEnded
from inventory.catalogue.models import ItemType
from inventory.csv_files import Column, write_csv
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.jobs.models import ItemReturn, ReturnCondition
from inventory.money import format_pence
from inventory.reports.periods import ReportPeriod, last_complete_quarter, parse_quarter, parse_year
from inventory.requests.models import DeclinedAs, EquipmentRequest, RequestState
from inventory.requests.performance import first_installs
from inventory.sql import days_between, first_of_month, nearest_rank, on_postgres, utc_day
from inventory.stock.models import Item, ItemEvent, ItemEventKind

COUNT, PENCE, DAYS, PERCENT = "count", "pence", "days", "percent"
ALL = "all"  # the scope of the whole service, beside each organisation's id
WITHHELD = "withheld"  # shown for a figure hidden to protect a small one (secondary suppression)
NOT_RECORDED = "not_recorded"


# --- What the return holds -------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One figure: its value (None: nothing to compute, such as an average over nobody) or,
    when `withheld` says so, what is shown instead ("fewer than 5", "withheld")."""

    value: int | float | None
    unit: str
    withheld: str | None = None

    @property
    def shown(self) -> str:
        if self.withheld:
            return self.withheld
        if self.value is None:
            return "—"
        if self.unit == PENCE:
            return format_pence(self.value)
        if self.unit == PERCENT:
            return f"{self.value}%"
        return f"{self.value:g}" if isinstance(self.value, float) else str(self.value)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    figures: tuple[Figure, ...]  # one per column of its section


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: tuple[Measure, ...]
    rows: tuple[Row, ...]

    def row(self, key: str) -> Row:
        return next(row for row in self.rows if row.key == key)


@dataclass(frozen=True)
class ScopeReturn:
    """The return for the whole service (`organisation_id` None) or for one organisation:
    its cases, and the money spent for them."""

    organisation_id: int | None
    name: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def figure(self, section: str, row: str, column: int = 0) -> Figure:
        return self.section(section).row(row).figures[column]


@dataclass(frozen=True)
class FunderReturn:
    starts_on: date
    ends_on: date
    threshold: int
    overall: ScopeReturn
    organisations: tuple[ScopeReturn, ...]

    @property
    def scopes(self) -> tuple[ScopeReturn, ...]:
        return (self.overall, *self.organisations)

    @property
    def small(self) -> str:
        return small_text(self.threshold)


def small_text(threshold: int) -> str:
    return f"fewer than {threshold}"


# --- Small-number suppression (pure: no database) --------------------------------------

Key = tuple[str, ...]
Scope = int | str


def suppress(tables: Mapping[Scope, Mapping[Key, int]], groups: Iterable[tuple[Key, tuple[Key, ...]]], *,
             threshold: int) -> dict[tuple[Scope, Key], str]:
    """Which counts to hide, and what to show instead, for `tables` (counts by scope: ALL and
    each organisation, whose counts add up to ALL's).

    Primary: a count from 1 to threshold − 1 shows as "fewer than <threshold>" (zero shows).
    Secondary: where a total is shown and exactly one of the counts adding up to it is hidden,
    it could be found by subtraction, so the smallest other non-zero count is hidden too
    ("withheld"). The parts of a total are the `groups` (a total key and its parts, in every
    scope) and, for every count, the organisations' counts under ALL's. Repeated until
    nothing changes, since one hidden count can expose another."""
    hidden: dict[tuple[Scope, Key], str] = {
        (scope, key): small_text(threshold)
        for scope, table in tables.items() for key, value in table.items() if 0 < value < threshold}
    groups = list(groups)
    organisations = [scope for scope in tables if scope != ALL]
    keys = {key for table in tables.values() for key in table}

    def value(cell: tuple[Scope, Key]) -> int:
        return tables.get(cell[0], {}).get(cell[1], 0)

    def protect(total: tuple[Scope, Key], parts: list[tuple[Scope, Key]]) -> bool:
        if total in hidden or sum(part in hidden for part in parts) != 1:
            return False
        others = [part for part in parts if part not in hidden and value(part) > 0]
        if not others:
            return False
        hidden[min(others, key=lambda part: (value(part), str(part)))] = WITHHELD
        return True

    changed = True
    while changed:
        changed = False
        for scope in tables:
            for total, parts in groups:
                changed |= protect((scope, total), [(scope, part) for part in parts])
        for key in keys:
            changed |= protect((ALL, key), [(scope, key) for scope in organisations])
    return hidden


# --- The period asked for --------------------------------------------------------------

def period_asked(args: Mapping, *, today: date) -> ReportPeriod:
    """The quarter (`quarter=2026Q3`) or financial year (`year=2026`) asked for; the last
    complete quarter when neither is given. A period that has not begun is refused."""
    quarter, year = (args.get("quarter") or "").strip(), (args.get("year") or "").strip()
    if quarter and year:
        message = "Ask for a quarter or a year, not both."
        raise InvalidInput(message, fields={"quarter": message, "year": message})
    if year:
        period, field = parse_year(year), "year"
    elif quarter:
        period, field = parse_quarter(quarter), "quarter"
    else:
        return last_complete_quarter(today)
    if not period.has_begun(today):
        message = f"{period.label} has not begun yet: there is nothing to report."
        raise InvalidInput(message, fields={field: message})
    return period


def return_asked(args: Mapping, *, today: date, formats: tuple[str, ...]) -> tuple[ReportPeriod, str | None]:
    """The period (`period_asked`) and the `format` (one of `formats`, or None) asked for;
    InvalidInput names every bad field at once."""
    problems: list[InvalidInput] = []
    period = None
    try:
        period = period_asked(args, today=today)
    except InvalidInput as error:
        problems.append(error)
    output = (args.get("format") or "").strip().lower() or None
    if output is not None and output not in formats:
        message = f"One of: {', '.join(formats)}."
        problems.append(InvalidInput(message, fields={"format": message}))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInput("Check the period and format asked for.",
                           fields={name: text for problem in problems for name, text in problem.fields.items()})
    return period, output


def csv_filename(period: ReportPeriod) -> str:
    return f"funder-return-{period.key}.csv"


# --- The figures, counted in SQL -------------------------------------------------------

@dataclass(frozen=True)
class _Window:
    starts_on: date
    ends_on: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.starts_on, time(0), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:  # exclusive
        return datetime.combine(self.ends_on + timedelta(days=1), time(0), tzinfo=UTC)

    def holds(self, moment):
        return and_(moment >= self.start_at, moment < self.end_at)

    @property
    def months(self) -> list[date]:
        months, month = [], self.starts_on.replace(day=1)
        while month <= self.ends_on:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


RISK_LEVELS = (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD)


class _Raw:
    """What the queries found, by scope: counts (of people and things: what suppression looks
    at), amounts (money, and the number of incidents: shown or withheld with the counts they
    come from), days (sums and percentiles); and the names of the rows that vary (item
    types, categories)."""

    def __init__(self):
        self.counts: dict[Scope, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
        self.amounts: dict[Scope, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
        self.days: dict[Scope, dict[Key, int]] = {}
        self.item_types: dict[str, str] = {}
        self.categories: dict[str, str] = {}

    def count(self, organisation_id: int, key: Key, value) -> None:
        """Counts add up: ALL's is the sum of the organisations'."""
        self.counts[organisation_id][key] += int(value or 0)
        self.counts[ALL][key] += int(value or 0)

    def amount(self, organisation_id: int | None, key: Key, value) -> None:
        """An amount of no organisation (spend not for a case) counts towards ALL only."""
        if organisation_id is not None:
            self.amounts[organisation_id][key] += int(value or 0)
        self.amounts[ALL][key] += int(value or 0)


def _count_issues(window: _Window, raw: _Raw) -> None:
    """Items handed over to cases in the window (the item events `issued`), per organisation
    of the case: survivors supported, their purchase cost, which of them had been out with a
    case before (re-used); and per item type. One statement: the handovers are read once
    (a materialised CTE) and grouped both ways."""
    event, earlier = ItemEvent, aliased(ItemEvent)
    # The window's handovers first, from their own index: joined to cases in one step, they
    # were planned as a merge join that read every handover in the history.
    handovers = (select(event.item_id, event.case_id, event.occurred_at)
                 .where(event.kind == ItemEventKind.ISSUED, window.holds(event.occurred_at))
                 .cte("handovers").prefix_with("MATERIALIZED"))
    reissued = exists().where(earlier.item_id == handovers.c.item_id, earlier.kind == ItemEventKind.ISSUED,
                              earlier.occurred_at < handovers.c.occurred_at)
    issues = (select(Case.organisation_id.label("organisation_id"), handovers.c.case_id.label("case_id"),
                     Item.item_type_id.label("item_type_id"), Item.purchase_cost_pence.label("cost"),
                     case((reissued, 1), else_=0).label("reissued"))
              .select_from(handovers).join(Case, Case.id == handovers.c.case_id)
              .join(Item, Item.id == handovers.c.item_id)
              .cte("issues").prefix_with("MATERIALIZED"))
    by_organisation = (select(issues.c.organisation_id, cast(null(), Integer), cast(null(), String),
                              func.count(issues.c.case_id.distinct()), func.count(), func.sum(issues.c.cost),
                              func.sum(issues.c.reissued), func.sum(issues.c.reissued * issues.c.cost))
                       .group_by(issues.c.organisation_id))
    by_type = (select(issues.c.organisation_id, issues.c.item_type_id, ItemType.name, null(), func.count(), null(),
                      null(), null())
               .join(ItemType, ItemType.id == issues.c.item_type_id)
               .group_by(issues.c.organisation_id, issues.c.item_type_id, ItemType.name))
    rows = db.session.execute(union_all(by_organisation, by_type))
    for organisation_id, item_type_id, name, survivors, items, cost, reissued_count, reissued_cost in rows:
        if item_type_id is not None:
            raw.item_types[str(item_type_id)] = name
            raw.count(organisation_id, ("items_issued", str(item_type_id)), items)
            continue
        raw.count(organisation_id, ("survivors", "supported"), survivors)
        raw.count(organisation_id, ("items_issued", "total"), items)
        raw.count(organisation_id, ("recovery", "reissued"), reissued_count)
        raw.amount(organisation_id, ("survivors", "cost"), cost)
        raw.amount(organisation_id, ("recovery", "value_reused"), reissued_cost)


def _count_recovered(window: _Window, raw: _Raw) -> None:
    """Items that came back from a case in the window (not those written off as lost)."""
    for organisation_id, items in db.session.execute(
            select(Case.organisation_id, func.count()).select_from(ItemReturn).join(Case, Case.id == ItemReturn.case_id)
            .where(window.holds(ItemReturn.returned_at), ItemReturn.condition != ReturnCondition.LOST)
            .group_by(Case.organisation_id)):
        raw.count(organisation_id, ("recovery", "recovered"), items)


def _sum_spend(window: _Window, raw: _Raw) -> None:
    """Spend dated in the window, per organisation of the case an entry names (none when it
    names no case, or a reference that is no case), budget category and month."""
    original = aliased(LedgerEntry)
    # A reversal counts as spend when its original does: looked up by key for reversals only,
    # as a correlated subquery (an EXISTS, or a join, was planned as a hash join that read
    # every spend entry in the ledger's history).
    original_kind = select(original.kind).where(original.id == LedgerEntry.reverses_id).scalar_subquery()
    spend = or_(LedgerEntry.kind.in_(SPEND_KINDS),
                and_(LedgerEntry.kind == EntryKind.REVERSAL, original_kind.in_(SPEND_KINDS)))
    month = first_of_month(LedgerEntry.entry_date)
    rows = db.session.execute(
        select(Case.organisation_id, LedgerEntry.category_id, BudgetCategory.name, month,
               -func.sum(LedgerEntry.amount_pence))
        .select_from(LedgerEntry)
        .outerjoin(Case, Case.reference == LedgerEntry.case_reference)
        .outerjoin(BudgetCategory, BudgetCategory.id == LedgerEntry.category_id)
        .where(LedgerEntry.entry_date.between(window.starts_on, window.ends_on), spend)
        .group_by(Case.organisation_id, LedgerEntry.category_id, BudgetCategory.name, month))
    for organisation_id, category_id, name, month_start, pence in rows:
        category = str(category_id) if category_id is not None else "uncategorised"
        raw.categories[category] = name or "Uncategorised"
        raw.amount(organisation_id, ("spend_by_category", category), pence)
        raw.amount(organisation_id, ("spend_by_month", f"{month_start:%Y-%m}"), pence)
        raw.amount(organisation_id, ("spend_by_category", "total"), pence)
        raw.amount(None, ("spend_by_organisation", str(organisation_id or "none")), pence)


def _timeliness(section: str, facts, raw: _Raw) -> None:
    """Requests, their days (sum and nearest-rank 90th percentile: the smallest number of
    days that at least 90% took) and how many were within target, per risk level, for each
    organisation and for ALL. `facts` is a subquery of (organisation_id, risk, days, within)."""
    ranked = select(
        facts, func.row_number().over(partition_by=[facts.c.organisation_id, facts.c.risk],
                                      order_by=facts.c.days).label("rank_in_organisation"),
        func.count().over(partition_by=[facts.c.organisation_id, facts.c.risk]).label("in_organisation"),
        func.row_number().over(partition_by=facts.c.risk, order_by=facts.c.days).label("rank_in_all"),
        func.count().over(partition_by=facts.c.risk).label("in_all"),
    ).cte()

    def percentile_90(rank, size):
        return nearest_rank(ranked.c.days, rank, size, 9, 10)

    by_organisation = (select(ranked.c.organisation_id, ranked.c.risk, func.count(), func.sum(ranked.c.days),
                              func.sum(ranked.c.within),
                              percentile_90(ranked.c.rank_in_organisation, ranked.c.in_organisation))
                       .group_by(ranked.c.organisation_id, ranked.c.risk))
    overall = (select(cast(null(), Integer), ranked.c.risk, func.count(), func.sum(ranked.c.days),
                      func.sum(ranked.c.within), percentile_90(ranked.c.rank_in_all, ranked.c.in_all))
               .group_by(ranked.c.risk))
    for organisation_id, risk, requests, days, within, p90 in db.session.execute(union_all(by_organisation, overall)):
        scope = ALL if organisation_id is None else organisation_id
        if organisation_id is not None:
            raw.count(organisation_id, (section, risk, "requests"), requests)
            raw.count(organisation_id, (section, risk, "within"), within)
            raw.count(organisation_id, (section, risk, "late"), requests - within)
        raw.days.setdefault(scope, {})[(section, risk, "days")] = int(days)
        raw.days[scope][(section, risk, "p90")] = int(p90)


def _decision_times(window: _Window, raw: _Raw) -> None:
    """Requests decided in the window: days from the request (its first submission) to the
    decision, and whether by its `decide_by`."""
    request = EquipmentRequest
    decided_on = utc_day(request.decided_at)
    facts = (select(Case.organisation_id.label("organisation_id"), Case.risk_level.label("risk"),
                    days_between(request.submitted_on, decided_on).label("days"),
                    case((decided_on <= request.decide_by, 1), else_=0).label("within"))
             .select_from(request).join(Case, Case.id == request.case_id)
             .where(request.decided_at.is_not(None), window.holds(request.decided_at)).subquery())
    _timeliness("decision_times", facts, raw)


def _install_times(window: _Window, raw: _Raw) -> None:
    """Requests installed in the window (their first item handed over falls in it): days from
    the request to that handover, and whether by its `install_by`."""
    first = first_installs(window.start_at, window.end_at)
    request = EquipmentRequest
    installed_on = utc_day(first.c.installed_at)
    facts = (select(Case.organisation_id.label("organisation_id"), Case.risk_level.label("risk"),
                    days_between(request.submitted_on, installed_on).label("days"),
                    case((installed_on <= request.install_by, 1), else_=0).label("within"))
             .select_from(first).join(request, request.id == first.c.request_id)
             .join(Case, Case.id == request.case_id).subquery())
    _timeliness("install_times", facts, raw)


def _count_referrals(window: _Window, raw: _Raw) -> None:
    """Cases opened in the window, by where the referral came from."""
    for organisation_id, source, cases in db.session.execute(
            select(Case.organisation_id, Case.referral_source, func.count()).where(window.holds(Case.created_at))
            .group_by(Case.organisation_id, Case.referral_source)):
        raw.count(organisation_id, ("referrals", source or NOT_RECORDED), cases)
        raw.count(organisation_id, ("referrals", "total"), cases)


def _count_declines(window: _Window, raw: _Raw) -> None:
    """Requests rejected in the window, by what they were declined as."""
    request = EquipmentRequest
    for organisation_id, declined_as, requests in db.session.execute(
            select(Case.organisation_id, request.declined_as, func.count()).select_from(request)
            .join(Case, Case.id == request.case_id)
            .where(request.state == RequestState.REJECTED, window.holds(request.decided_at))
            .group_by(Case.organisation_id, request.declined_as)):
        raw.count(organisation_id, ("declined", declined_as or NOT_RECORDED), requests)
        raw.count(organisation_id, ("declined", "total"), requests)


def _count_reviews(window: _Window, raw: _Raw) -> None:
    """Reviews dated in the window: one grouped statement of conditional counts."""
    review = CaseReview
    measures = {
        ("reviews", "total"): func.count(),
        **{("feels_safer", str(point)): func.count().filter(review.feels_safer == point)
           for point in FEELS_SAFER_SCALE},
        ("feels_safer", NOT_RECORDED): func.count().filter(review.feels_safer.is_(None)),
        ("still_at_address", "yes"): func.count().filter(review.still_at_address.is_(True)),
        ("still_at_address", "no"): func.count().filter(review.still_at_address.is_(False)),
        ("still_at_address", NOT_RECORDED): func.count().filter(review.still_at_address.is_(None)),
        ("incidents", "none"): func.count().filter(review.incidents_since_fitting == 0),
        ("incidents", "some"): func.count().filter(review.incidents_since_fitting > 0),
        ("incidents", NOT_RECORDED): func.count().filter(review.incidents_since_fitting.is_(None)),
        ("incidents", "incidents"): func.coalesce(func.sum(review.incidents_since_fitting), 0),
        ("support_ended", "total"): func.count().filter(review.support_ended.is_not(None)),
        **{("support_ended", str(reason)): func.count().filter(review.support_ended == reason)
           for reason in SupportEnded},
    }
    for organisation_id, *values in db.session.execute(
            select(Case.organisation_id, *measures.values()).select_from(review).join(Case, Case.id == review.case_id)
            .where(review.reviewed_on.between(window.starts_on, window.ends_on)).group_by(Case.organisation_id)):
        for key, value in zip(measures, values, strict=True):
            if key == ("incidents", "incidents"):  # how many incidents, not how many people
                raw.amount(organisation_id, key, value)
            else:
                raw.count(organisation_id, key, value)


# --- Putting the return together -------------------------------------------------------

SCALE_ROWS = [(str(point), label) for point, label in sorted(FEELS_SAFER_SCALE.items(), reverse=True)]

# Sections whose rows add up to a total row (their parts, for secondary suppression), with
# their fixed rows; items issued has a row per item type, found in the data.
FIXED_BREAKDOWNS: dict[str, tuple[Key, list[tuple[str, str]]]] = {
    "referrals": (("referrals", "total"),
                  [(str(source), source.label) for source in ReferralSource] + [(NOT_RECORDED, "Not recorded")]),
    "declined": (("declined", "total"),
                 [(str(reason), reason.label) for reason in DeclinedAs] + [(NOT_RECORDED, "Not recorded")]),
    "feels_safer": (("reviews", "total"), SCALE_ROWS + [(NOT_RECORDED, "Not answered")]),
    "still_at_address": (("reviews", "total"),
                         [("yes", "Still living at the address"), ("no", "Moved"), (NOT_RECORDED, "Not answered")]),
    "incidents": (("reviews", "total"), [("none", "Reviews with no incident reported since fitting"),
                                         ("some", "Reviews with one or more incidents reported"),
                                         (NOT_RECORDED, "Not answered")]),
    "support_ended": (("support_ended", "total"), [(str(reason), reason.label) for reason in SupportEnded]),
}


# What each section counts, in a sentence, for the page (docs/domain.md has the whole of it).
SECTION_NOTES = {
    "survivors": "Cases with at least one item handed over in the period. Cost: the purchase cost of the items "
                 "handed over; the average divides it by the survivors supported.",
    "items_issued": "Items handed over in the period, by type.",
    "recovery": "Items recorded back from a case in the period (not those lost), and items handed over in the "
                "period that had been out with a case before.",
    "spend_by_category": "Ledger spend dated in the period: actuals less credits, reversals "
                         "counted with what they reverse.",
    "spend_by_month": "The same spend, by the month it is dated in.",
    "spend_by_organisation": "Spend by the organisation of the case its ledger entry names; entries for no case "
                             "(stock, general costs) are not for a particular case.",
    "decision_times": "Requests decided in the period: days from the request to the decision, and the share "
                      "decided by its target date. The 90th percentile is the days at least 90% took.",
    "install_times": "Requests whose first item was handed over in the period: days from the request, and the "
                     "share installed by its target date.",
    "referrals": "Cases opened in the period, by where the referral came from.",
    "declined": "Requests declined in the period, by the ground given.",
    "feels_safer": "Reviews in the period: the survivor's answer on the five-point scale.",
    "still_at_address": "Reviews in the period: still living at the address where equipment was fitted.",
    "incidents": "Reviews in the period: incidents reported since the equipment was fitted.",
    "support_ended": "Closing reviews in the period: why support ended.",
}


def _groups(raw: _Raw) -> list[tuple[Key, tuple[Key, ...]]]:
    groups = [(total, tuple((section, row) for row, _ in rows)) for section, (total, rows) in FIXED_BREAKDOWNS.items()]
    groups.append((("items_issued", "total"), tuple(("items_issued", key) for key in raw.item_types)))
    for section in ("decision_times", "install_times"):
        for risk in RISK_LEVELS:
            groups.append(((section, str(risk), "requests"), ((section, str(risk), "within"),
                                                              (section, str(risk), "late"))))
    return groups


class _Builder:
    """Turns one scope's raw figures into figures to show, applying the suppression found."""

    def __init__(self, scope: Scope, raw: _Raw, hidden: dict, months: list[date]):
        self.scope, self.raw, self.hidden, self.months = scope, raw, hidden, months
        self.counts = raw.counts.get(scope, {})
        self.amounts = raw.amounts.get(scope, {})
        self.days = raw.days.get(scope, {})

    def value(self, key: Key) -> int:
        return self.counts.get(key, 0)

    def count(self, key: Key) -> Figure:
        hidden = self.hidden.get((self.scope, key))
        return Figure(None if hidden else self.value(key), COUNT, hidden)

    def derived(self, value, unit: str, *bases: Key) -> Figure:
        """A figure computed from counts: withheld while any of them is hidden."""
        if any((self.scope, base) in self.hidden for base in bases):
            return Figure(None, unit, WITHHELD)
        return Figure(value, unit)

    def pence(self, key: Key) -> Figure:
        return Figure(self.amounts.get(key, 0), PENCE)

    def sections(self, organisation_names: dict[int, str]) -> tuple[Section, ...]:
        value = self.value
        single = (Measure("value", "Value"),)
        survivors = value(("survivors", "supported"))
        cost = self.amounts.get(("survivors", "cost"), 0)
        average = (cost + survivors // 2) // survivors if survivors else None
        sections = [
            Section("survivors", "Survivors supported", single, (
                Row("supported", "Survivors supported (cases with an item issued)",
                    (self.count(("survivors", "supported")),)),
                Row("cost", "Cost of the items issued (purchase cost)",
                    (self.derived(cost, PENCE, ("items_issued", "total")),)),
                Row("average_spend", "Average spend per survivor supported",
                    (self.derived(average, PENCE, ("survivors", "supported")),)),
            )),
            Section("items_issued", "Items issued by type", (Measure("items", "Items"),), tuple(
                [Row(key, name, (self.count(("items_issued", key)),))
                 for key, name in sorted(self.raw.item_types.items(), key=lambda pair: pair[1])
                 if value(("items_issued", key))]
                + [Row("total", "All items", (self.count(("items_issued", "total")),))])),
            Section("recovery", "Items recovered and re-used", single, (
                Row("recovered", "Items recovered from cases", (self.count(("recovery", "recovered")),)),
                Row("reissued", "Items issued again after being out with a case",
                    (self.count(("recovery", "reissued")),)),
                Row("value_reused", "Value re-used (purchase cost of the items issued again)",
                    (self.derived(self.amounts.get(("recovery", "value_reused"), 0), PENCE,
                                  ("recovery", "reissued")),)),
            )),
            self._spend_by_category(),
            Section("spend_by_month", "Spend by month", (Measure("spend", "Spend"),), tuple(
                [Row(f"{month:%Y-%m}", f"{month:%B %Y}", (self.pence(("spend_by_month", f"{month:%Y-%m}")),))
                 for month in self.months]
                + [Row("total", "All months", (self.pence(("spend_by_category", "total")),))])),
        ]
        if self.scope == ALL:
            sections.append(self._spend_by_organisation(organisation_names))
        sections += [self._times("decision_times", "Referral to decision, by risk level"),
                     self._times("install_times", "Referral to install, by risk level")]
        for key, title in (("referrals", "Referrals by source (cases opened)"),
                           ("declined", "Requests declined, by reason"),
                           ("feels_safer", "Reviews: does the survivor feel safer?"),
                           ("still_at_address", "Reviews: still living at the address?"),
                           ("incidents", "Reviews: incidents since fitting"),
                           ("support_ended", "Closing reviews: why support ended")):
            sections.append(self._breakdown(key, title))
        return tuple(sections)

    def _spend_by_category(self) -> Section:
        categories = sorted((key for key in self.raw.categories if ("spend_by_category", key) in self.amounts),
                            key=lambda key: self.raw.categories[key])
        return Section("spend_by_category", "Spend by budget category", (Measure("spend", "Spend"),), tuple(
            [Row(key, self.raw.categories[key], (self.pence(("spend_by_category", key)),)) for key in categories]
            + [Row("total", "All categories", (self.pence(("spend_by_category", "total")),))]))

    def _spend_by_organisation(self, names: dict[int, str]) -> Section:
        rows = [Row(str(organisation_id), name, (self.pence(("spend_by_organisation", str(organisation_id))),))
                for organisation_id, name in names.items()]
        rows.append(Row("none", "Not for a particular case", (self.pence(("spend_by_organisation", "none")),)))
        rows.append(Row("total", "All spend", (self.pence(("spend_by_category", "total")),)))
        return Section("spend_by_organisation", "Spend by organisation (of the case it was for)",
                       (Measure("spend", "Spend"),), tuple(rows))

    def _times(self, section: str, title: str) -> Section:
        columns = (Measure("requests", "Requests"), Measure("average_days", "Average days"),
                   Measure("p90_days", "90th percentile days"), Measure("within_target", "Within target"))
        rows = []
        for risk in RISK_LEVELS:
            key = (section, str(risk))
            requests, within = self.value((*key, "requests")), self.value((*key, "within"))
            base = (*key, "requests")
            parts = (base, (*key, "within"), (*key, "late"))
            average = round(self.days[(*key, "days")] / requests, 1) if requests else None
            p90 = self.days[(*key, "p90")] if requests else None
            share = round(100 * within / requests) if requests else None
            rows.append(Row(str(risk), risk.label, (
                self.count(base), self.derived(average, DAYS, base), self.derived(p90, DAYS, base),
                self.derived(share, PERCENT, *parts))))
        return Section(section, title, columns, tuple(rows))

    def _breakdown(self, section: str, title: str) -> Section:
        total, parts = FIXED_BREAKDOWNS[section]
        rows = [Row(key, label, (self.count((section, key)),)) for key, label in parts]
        if section == "incidents":
            rows.append(Row("incidents", "Incidents reported, in all",
                            (self.derived(self.amounts.get(("incidents", "incidents"), 0), COUNT,
                                          ("incidents", "some")),)))
        label = {"referrals": "All referrals", "declined": "All declined", "support_ended": "All closing reviews"}
        rows.append(Row("total", label.get(section, "All reviews"), (self.count(total),)))
        return Section(section, title, (Measure("value", "Number"),), tuple(rows))


def funder_return(starts_on: date, ends_on: date, *, threshold: int) -> FunderReturn:
    """The return for the days from `starts_on` to `ends_on` (inclusive): a fixed number of
    grouped SQL statements, whatever the size of the data."""
    if threshold < 1:
        raise ValueError("the suppression threshold is at least 1")
    window = _Window(starts_on, ends_on)
    raw = _Raw()
    if on_postgres():
        # Each statement runs in well under a second; compiling it first (PostgreSQL's JIT,
        # triggered by the planner's cost estimates) took longer than running it.
        db.session.execute(text("SET LOCAL jit = off"))
    for count in (_count_issues, _count_recovered, _sum_spend, _decision_times, _install_times, _count_referrals,
                  _count_declines, _count_reviews):
        count(window, raw)
    organisations = dict(db.session.execute(
        select(Organisation.id, Organisation.name)
        .order_by(Organisation.kind != OrganisationKind.LEAD, Organisation.name)).all())
    # Every organisation has a scope, if only of zeros.
    tables = {scope: dict(raw.counts.get(scope, {})) for scope in (ALL, *organisations)}
    hidden = suppress(tables, _groups(raw), threshold=threshold)

    def scope_return(scope: Scope, name: str) -> ScopeReturn:
        builder = _Builder(scope, raw, hidden, window.months)
        return ScopeReturn(None if scope == ALL else scope, name, builder.sections(organisations))

    return FunderReturn(starts_on, ends_on, threshold, scope_return(ALL, "All organisations"),
                        tuple(scope_return(organisation_id, name) for organisation_id, name in organisations.items()))


# --- The CSV ---------------------------------------------------------------------------

CSV_COLUMNS = (Column("Period from"), Column("Period to"), Column("Organisation"), Column("Section"),
               Column("Line"), Column("Measure"), Column("Unit"), Column("Value", numeric=True), Column("Shown as"))


def as_csv(report: FunderReturn) -> str:
    """One line per figure; a withheld figure has no value, only what is shown instead."""
    rows = []
    for scope in report.scopes:
        for section in scope.sections:
            for row in section.rows:
                for column, figure in zip(section.columns, row.figures, strict=True):
                    value = None if figure.withheld or figure.value is None else str(figure.value)
                    rows.append((report.starts_on.isoformat(), report.ends_on.isoformat(), scope.name,
                                 section.title, row.label, column.label, figure.unit, value, figure.shown))
    return write_csv(CSV_COLUMNS, rows)
