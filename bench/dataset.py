"""A fictional SafeHold dataset at any fraction of national scale, for the benchmark.

    python -m bench.dataset --url sqlite:////tmp/bench.sqlite3 --scale 0.01 --migrate

Scale 1.0 is the national roll-out the design must stay fast at: 100,000 cases, about
500,000 items, about 1,000,000 ledger entries and 50,000 open requests, ten organisations,
five financial years of history up to `as_of` (default 31 March 2027). 0.01 is 1% of each
volume; the fixed world (organisations, users, catalogue, suppliers, budget periods) is the
same at every scale, as a real service's would be.

The data is made by simulating the service's life in memory — cases referred, requests
decided in priority order against targets, units taken from stock or ordered for the
request, goods received, invoices posted, visits completed, loans returned, reviews held,
cases closed — and is then written with bulk inserts (COPY on PostgreSQL). It keeps every
rule the schema and the app rely on: the ledger's hash chain and balance rows as
`inventory.budget.ledger` writes them (so `flask verify-ledger` passes), the item, request
and order state machines' tables, item codes with their check symbol, personal fields and
free text sealed with the app's data key, each bound to its row. It is deterministic: the same seed and scale give the same
data (the sealed fields aside, whose nonces are random).
"""
import argparse
import heapq
import random
import sys
import time as timer
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from string import ascii_uppercase
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select, text, update

from bench import fiction
from bench.loading import BulkLoader
from inventory import create_app
from inventory.accounts.passwords import hash_password
from inventory.budget.models import BUCKETS, BudgetCategory, EntryKind, LedgerEntry, category_key
from inventory.cases.models import reference_suffixes
from inventory.extensions import db
from inventory.jobs.issuing import add_months
from inventory.jobs.models import HANDOVER_CHECKS
from inventory.requests.priority import need_points, priority_key, targets_for
from inventory.requests.transitions import REQUEST_MACHINE
from inventory.sealing.columns import seal_row, sealed_tables
from inventory.stock.codes import ALPHABET, check_symbol
from inventory.stock.operations import ITEM_MACHINE

NATIONAL = {"cases": 100_000, "open_requests": 50_000}
DEFAULT_AS_OF = date(2027, 3, 31)
DEFAULT_SEED = 13
YEARS = 5
BENCH_PASSWORD = "bench-password-not-secret"  # every generated user's (fictional data only)

# name, category, loaned, connected device, standard cost (pence, gross), reorder level,
# supplier index, chance a request asks for it, most units asked for.
ITEM_TYPES = (
    ("Personal safety alarm", "personal_alarm", True, False, 2_499, 40, 3, 0.55, 2),
    ("Camera doorbell", "camera_doorbell", False, True, 8_999, 20, 1, 0.40, 1),
    ("PIR security light", "pir_light", False, False, 3_499, 20, 2, 0.30, 2),
    ("Window alarm", "window_alarm", False, False, 1_099, 60, 2, 0.35, 4),
    ("Door lock", "lock", False, False, 4_599, 20, 4, 0.35, 2),
    ("Window lock", "lock", False, False, 1_499, 40, 4, 0.25, 4),
    ("Door chain", "lock", False, False, 999, 20, 0, 0.15, 1),
    ("Portable wifi CCTV camera", "cctv_camera", True, True, 6_999, 10, 3, 0.12, 2),
    ("Solar CCTV PIR camera", "cctv_camera", False, True, 11_999, 10, 1, 0.08, 2),
)
CATEGORY_LABELS = {"personal_alarm": "Personal alarm", "camera_doorbell": "Camera doorbell", "pir_light": "PIR light",
                   "window_alarm": "Window alarm", "lock": "Lock", "cctv_camera": "CCTV camera"}

# The shape of the service (chances, delays), tuned so that scale 1.0 gives the volumes above.
STOCK_FIRST = 0.25  # a line is served from stock when some is there (else ordered for the request)
STOCK_BUFFER = 0.45  # monthly stock orders buy this share of the month's expected demand
DIRECT_PURCHASES_PER_CASE = 1.0
CREDIT_NOTE_CHANCE = 0.02
REVERSAL_CHANCE = 0.01  # of direct purchases (posted twice by mistake)
UNDECIDED_OPEN = 0.84  # of the open requests, those still waiting for a decision
MONTH_CLOSE_LAG_DAYS = 50  # finance closes a month this long after it ends


@dataclass(frozen=True)
class Plan:
    scale: float
    seed: int = DEFAULT_SEED
    as_of: date = DEFAULT_AS_OF

    @property
    def cases(self) -> int:
        return max(1, round(NATIONAL["cases"] * self.scale))

    @property
    def open_requests(self) -> int:
        return round(NATIONAL["open_requests"] * self.scale)

    @property
    def starts_on(self) -> date:
        return financial_year_start(self.as_of).replace(year=financial_year_start(self.as_of).year - (YEARS - 1))


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


class DatasetError(RuntimeError):
    pass


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class World:
    """The simulated service: rows by table (dicts, ids given in creation order) and the
    ledger's entries (ordered, chained and hashed at the end)."""

    def __init__(self, plan: Plan, categories: dict[str, tuple[int, str]]):

        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.config = current_app.config
        self.categories = categories  # category_key -> (id, name)
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.ledger: list[dict] = []
        self.pool: dict[int, list] = defaultdict(list)  # item type id -> heap of (available at, seq, item)
        self.codes: set[str] = set()
        self.serial = 0
        self.seq = 0

    # Rows ----------------------------------------------------------------------------------

    def add(self, table: str, **values) -> dict:
        rows = self.rows[table]
        values.setdefault("id", len(rows) + 1)
        rows.append(values)
        return values

    def moment(self, day: date, earliest: int = 9, latest: int = 17) -> datetime:
        seconds = self.rng.randrange(earliest * 3600, latest * 3600)
        return datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60,
                                          self.rng.randrange(1_000_000)), tzinfo=UTC)

    def later(self, moment: datetime, minutes: int = 5) -> datetime:
        return moment + timedelta(minutes=self.rng.randint(1, minutes), microseconds=self.rng.randrange(1_000_000))

    def pick(self, choices: dict):
        return self.rng.choices(list(choices), weights=list(choices.values()))[0]

    # The fixed world ---------------------------------------------------------------------------

    def build_fixed(self) -> None:

        first_day = self.plan.starts_on
        founded = datetime.combine(first_day - timedelta(days=30), time(9), tzinfo=UTC)
        password_hash = hash_password(BENCH_PASSWORD)
        self.lead = self.add("organisations", name=fiction.LEAD, kind="lead", active=True, created_at=founded,
                             case_reference_prefix=None)
        # Partners' prefixes of their own; the cases keep one numbering in the lead's NS format,
        # as an installation from before prefixes would.
        partners = [self.add("organisations", name=name, kind="partner", active=True, created_at=founded,
                             case_reference_prefix=f"P{ascii_uppercase[n]}")
                    for n, name in enumerate(fiction.PARTNERS)]
        self.organisations = [self.lead, *partners]
        self.org_weights = [30] + [70 / len(partners)] * len(partners)

        def user(role: str, number: int, organisation: dict) -> dict:
            row = self.add("users", email=f"{role}{number}.org{organisation['id']}@bench.example",
                           name=f"{role.capitalize()} {number} (bench)", organisation_id=organisation["id"],
                           password_hash=password_hash, active=True, created_at=founded,
                           password_changed_at=founded, last_login_at=None, totp_secret=None,
                           two_factor_enabled_at=None, totp_last_step=None)
            self.add("user_roles", user_id=row["id"], role=role)
            return row

        self.admins = [user("admin", 1, self.lead)]
        self.coordinators = [user("coordinator", n, self.lead) for n in range(1, 7)]
        self.finance = [user("finance", n, self.lead) for n in range(1, 4)]
        self.auditors = [user("auditor", 1, self.lead)]
        self.fitters = [user("fitter", n, self.lead) for n in range(1, 25)]
        self.caseworkers = {org["id"]: [user("caseworker", n, org) for n in range(1, 9)] for org in self.organisations}

        self.suppliers = [self.add("suppliers", name=name, contact_name=None, email=None, phone=None, address=None,
                                   website=None, account_reference=f"BENCH-{n:03d}", active=True, created_at=founded)
                          for n, name in enumerate(fiction.SUPPLIERS, 1)]
        self.types = []
        for name, category, loaned, connected, cost, reorder, supplier, chance, most in ITEM_TYPES:
            category_id, category_name = self.categories[_key(CATEGORY_LABELS[category])]
            row = self.add("item_types", name=name, category=category, other_category=None,
                           budget_category_id=category_id, description=None, loaned=loaned,
                           connected_device=connected, standard_cost_pence=cost, reorder_level=reorder,
                           active=True, created_at=founded)
            row.update(_supplier=self.suppliers[supplier], _chance=chance, _most=most, _category=category_name,
                       _net=round(cost / 1.2))
            self.add("supplier_product_codes", item_type_id=row["id"], supplier_id=self.suppliers[supplier]["id"],
                     product_code=f"SKU-{row['id']:03d}")
            self.types.append(row)
        self.store = self.add("stock_locations", name="Main store (bench)", kind="store", fitter_id=None, active=True)
        self.add("stock_locations", name="North store (bench)", kind="store", fitter_id=None, active=True)
        for fitter in self.fitters:
            self.add("stock_locations", name=f"Van of {fitter['name']}", kind="van", fitter_id=fitter["id"],
                     active=True)

        self.periods = []
        year = first_day.year
        while date(year, 4, 1) <= self.plan.as_of:
            self.periods.append(self.add(
                "budget_periods", name=f"{year}-{str(year + 1)[-2:]}", starts_on=date(year, 4, 1),
                ends_on=date(year + 1, 3, 31), created_at=datetime.combine(date(year, 3, 1), time(9), tzinfo=UTC)))
            year += 1

    def period_of(self, day: date) -> dict:
        for period in self.periods:
            if period["starts_on"] <= day <= period["ends_on"]:
                return period
        raise DatasetError(f"no budget period covers {day}")

    # Cases and what they ask for -------------------------------------------------------------

    def build_cases(self) -> list[dict]:
        plan, rng = self.plan, self.rng
        span = (plan.as_of - plan.starts_on).days
        days = sorted(rng.randrange(span) for _ in range(plan.cases))
        numbers: dict[int, int] = defaultdict(int)
        cases = []
        for offset in days:
            day = plan.starts_on + timedelta(days=offset)
            organisation = rng.choices(self.organisations, weights=self.org_weights)[0]
            numbers[day.year] += 1
            source = self.pick({"police": 45, "self": 15, "agency": 32, "other": 5, None: 3})
            tenure = self.pick({"owner_occupier": 20, "private_tenant": 30, "social_tenant": 35, "temporary": 10,
                                "other": 5})
            consent = "not_needed" if tenure == "owner_occupier" else self.pick(
                {"given": 80, "pending": 10, "refused": 5, "not_needed": 5})
            risk = self.pick({"high": 25, "medium": 45, "standard": 30})
            case = self.add(
                "cases", reference=f"NS-{day.year}-{numbers[day.year]:05d}", organisation_id=organisation["id"],
                created_by_id=rng.choice(self.caseworkers[organisation["id"]])["id"], created_at=self.moment(day),
                name=f"{rng.choice(fiction.FIRST_NAMES)} {rng.choice(fiction.SURNAMES)}",
                address=(f"{rng.randint(1, 240)} {rng.choice(fiction.STREETS)}, {rng.choice(fiction.TOWNS)}, "
                         f"NS{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                         f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"),
                phone=f"07700 900{rng.randrange(1000):03d}",
                safe_contact_notes=rng.choice(fiction.SAFE_CONTACT_NOTES) if rng.random() < 0.3 else None,
                police_reference=f"NP/{day.year}/{rng.randrange(10**6):06d}" if source == "police" else None,
                consent_on=day - timedelta(days=rng.randint(0, 3)), tenure=tenure, landlord_consent=consent,
                risk_tool=self.pick({"dash": 55, "s_dash": 25, "sash": 10, "professional_judgement": 10}),
                risk_level=risk, risk_assessed_on=day - timedelta(days=rng.randint(0, 10)),
                marac=risk == "high" and rng.random() < 0.4,
                address_known=rng.random() < 0.6, recent_escalation=rng.random() < 0.3,
                repeat_victimisation=rng.random() < 0.35, children=rng.random() < 0.4,
                vulnerability=rng.random() < 0.25, lives_alone=rng.random() < 0.3,
                police_request=source == "police" and rng.random() < 0.3,
                referral_source=source,
                referral_agency=rng.choice(fiction.REFERRING_AGENCIES) if source == "agency" else None,
                status="open", closed_on=None, anonymised_at=None, anonymised_reason=None)
            case.update(_day=day, _last=day, _open_requests=0, _first_install=None, _issued=[])
            cases.append(case)
            for suffix in reference_suffixes(case["reference"]):  # the search index Case keeps on flush
                self.add("case_reference_suffixes", suffix=suffix, case_id=case["id"])
        return cases

    def request_specs(self, cases: list[dict]) -> list[tuple]:
        """(case, submitted moment, undecided) for each request: one for every case, and open
        ones on top until there are as many open as planned (most of them recent)."""
        plan, rng = self.plan, self.rng
        specs, still_waiting = [], 0
        recent = plan.as_of - timedelta(days=21)
        for case in cases:  # the newest cases' requests are still in progress
            submitted = self.moment(case["_day"]) + timedelta(days=rng.choice((0, 0, 0, 1, 2)))
            still_waiting += case["_day"] >= recent
            specs.append((case, submitted, case["_day"] >= recent and rng.random() < UNDECIDED_OPEN))
        older = [case for case in cases if case["_day"] < recent]
        for _ in range(plan.open_requests - still_waiting if older else 0):
            case = rng.choice(older)
            undecided = rng.random() < UNDECIDED_OPEN
            # Waiting ones go back months (a backlog); decided ones are days old, still in progress.
            back = min(int(rng.expovariate(1 / 45)), 365) if undecided else rng.randint(2, 12)
            day = min(max(plan.as_of - timedelta(days=back), case["_day"] + timedelta(days=30)), plan.as_of)
            specs.append((case, self.moment(day), undecided))
        return specs

    def lines_for(self) -> list[tuple[dict, int]]:
        rng = self.rng
        lines = [(t, rng.randint(1, t["_most"])) for t in self.types if rng.random() < t["_chance"]]
        return lines or [(self.types[0], 1)]

    # Stock -----------------------------------------------------------------------------------------

    def new_item(self, item_type: dict, at: datetime, *, order: dict | None, receipt: dict | None) -> dict:

        while True:
            value = self.rng.getrandbits(60)
            data = "".join(ALPHABET[(value >> shift) & 31] for shift in range(55, -1, -5))
            code = f"{data[0:4]}-{data[4:8]}-{data[8:12]}-{check_symbol(data)}"
            if code not in self.codes:
                self.codes.add(code)
                break
        self.serial += 1
        item = self.add(
            "items", code=code, item_type_id=item_type["id"], state="on_order", location_id=None,
            serial_number=f"SN{self.serial:09d}" if item_type["connected_device"] else None,
            purchase_cost_pence=item_type["standard_cost_pence"], supplier_id=item_type["_supplier"]["id"],
            purchase_order_id=order["id"] if order else None, goods_receipt_id=receipt["id"] if receipt else None,
            reserved_for_request_id=None, issued_case_id=None, awaiting_wipe=False, write_off_reason=None,
            created_at=at, updated_at=at)
        item["_type"] = item_type
        self.add("item_codes", code=code, item_id=item["id"], issued_at=at, retired_at=None, retired_reason=None)
        self.step(item, "received", at, None, location_id=self.store["id"])
        return item

    def step(self, item: dict, kind: str, at: datetime, actor: dict | None, *, request_id=None, case_id=None,
             note=None, **changes) -> None:
        """Move an item along the app's own state machine table, or fail loudly."""

        transition = ITEM_MACHINE.transitions[kind]
        if item["state"] not in transition.sources:
            raise DatasetError(f"item {item['id']} cannot be {kind} from {item['state']}")
        from_state = item["state"]
        if transition.target is not None:
            item["state"] = str(transition.target)
        item.update(changes, updated_at=at)
        self.add("item_events", item_id=item["id"], occurred_at=at, actor_id=actor["id"] if actor else None,
                 kind=kind, from_state=from_state, to_state=item["state"], location_id=item["location_id"],
                 request_id=request_id, case_id=case_id, note=note)

    def put_back(self, item: dict, at: datetime) -> None:
        self.seq += 1
        heapq.heappush(self.pool[item["item_type_id"]], (at, self.seq, item))

    def take(self, item_type: dict, quantity: int, at: datetime) -> list[dict]:
        heap, taken = self.pool[item_type["id"]], []
        while heap and len(taken) < quantity and heap[0][0] <= at:
            taken.append(heapq.heappop(heap)[2])
        return taken

    # Money -------------------------------------------------------------------------------------------

    def entry(self, kind: str, amount: int, *, on: date, at: datetime, actor: dict, memo: str = "",
              category: str | None = None, case_reference: str | None = None, source=(None, None),
              commitment: dict | None = None, reverses: dict | None = None, settled_by: dict | None = None,
              vat: tuple[int, int, int] | None = None, period: dict | None = None) -> dict:
        """One ledger entry, as `inventory.budget.ledger._append` would write it (ids, chain
        positions and hashes are given once every entry is known)."""
        self.seq += 1
        follows = reverses if reverses is not None else commitment if kind == "release" else None
        if follows is not None:
            category = follows["category"]
        net, vat_pence, gross = vat or (None, None, None)
        row = {"kind": kind, "amount_pence": amount, "entry_date": on, "posted_at": at, "posted_by_id": actor["id"],
               "memo": memo, "category": category, "case_reference": case_reference, "source_type": source[0],
               "source_id": source[1], "net_pence": net, "vat_pence": vat_pence, "gross_pence": gross,
               "_period": period or self.period_of(on), "_commitment": commitment, "_reverses": reverses,
               "_settled_by": settled_by, "_seq": self.seq,
               "category_id": self.categories[_key(category)][0] if category else None}
        self.ledger.append(row)
        return row

    def within(self, period: dict, day: date) -> date:
        return min(max(day, period["starts_on"]), period["ends_on"])

    def purchase_order(self, supplier: dict, lines: list[tuple[dict, int, dict | None]], raised: datetime,
                       *, memo_for: dict | None = None) -> None:
        """An order raised, received and invoiced as far as `as_of` allows: `lines` are
        (item type, quantity, request line or None). Units arrive into stock (and are
        reserved to their request line) through `arrived`."""
        plan, rng, coordinator = self.plan, self.rng, self.rng.choice(self.coordinators)
        order = self.add("purchase_orders", supplier_id=supplier["id"], status="raised", notes=None,
                         created_at=raised - timedelta(minutes=rng.randint(5, 90)), created_by_id=coordinator["id"],
                         raised_at=raised, raised_by_id=coordinator["id"], cancelled_at=None, cancel_reason=None,
                         closed_at=None)
        reference = f"PO-{order['id']:05d}"
        order_lines = []
        for item_type, quantity, request_line in lines:
            order_lines.append(self.add(
                "purchase_order_lines", purchase_order_id=order["id"], item_type_id=item_type["id"],
                budget_category_id=item_type["budget_category_id"], supplier_product_code=f"SKU-{item_type['id']:03d}",
                quantity_ordered=quantity, quantity_received=0, unit_net_pence=item_type["_net"],
                unit_vat_pence=item_type["standard_cost_pence"] - item_type["_net"],
                request_line_id=request_line["id"] if request_line else None))
            if request_line is not None:  # the order takes over the request's commitment for these units
                commitment = request_line["_commitment"]
                self.entry("release", -commitment["amount_pence"], on=self.within(commitment["_period"], raised.date()),
                           at=self.later(raised, 1), actor=coordinator, memo=f"Request {request_line['request_id']}: "
                           f"converted to {reference}", case_reference=commitment["case_reference"],
                           source=commitment_source(commitment), commitment=commitment, period=commitment["_period"])
        commitments = {}
        for category, lines_of in _by_category(order_lines, self.types).items():
            amount = sum(line["quantity_ordered"] * (line["unit_net_pence"] + line["unit_vat_pence"])
                         for line in lines_of)
            commitments[category] = self.entry(
                "commitment", -amount, on=raised.date(), at=self.later(raised, 2), actor=coordinator,
                memo=f"{reference} to {supplier['name']}", category=category, source=("purchase_order", order["id"]))
        received = self.moment(raised.date() + timedelta(days=rng.randint(2, 8)), 9, 16)
        if received.date() > plan.as_of:
            return
        receiver = rng.choice(self.coordinators)
        receipt = self.add("goods_receipts", purchase_order_id=order["id"], location_id=self.store["id"],
                           received_at=received, received_by_id=receiver["id"], note=None)
        for line, (item_type, quantity, request_line) in zip(order_lines, lines, strict=True):
            self.add("goods_receipt_lines", goods_receipt_id=receipt["id"], purchase_order_line_id=line["id"],
                     quantity=quantity)
            line["quantity_received"] = quantity
            units = [self.new_item(item_type, received, order=order, receipt=receipt) for _ in range(quantity)]
            self.arrived(units, request_line, self.later(received, 2), receiver)
        order["status"] = "received"
        invoiced = received.date() + timedelta(days=rng.randint(3, 30))
        if invoiced > plan.as_of:
            return
        accountant = rng.choice(self.finance)
        posted = self.moment(invoiced, 9, 17)
        net = sum(line["quantity_ordered"] * line["unit_net_pence"] for line in order_lines)
        vat = sum(line["quantity_ordered"] * line["unit_vat_pence"] for line in order_lines)
        invoice = self.add("supplier_invoices", purchase_order_id=order["id"], supplier_id=supplier["id"],
                           kind="invoice", number=f"INV-{order['id']:07d}", invoice_date=invoiced, status="posted",
                           net_pence=net, vat_pence=vat, gross_pence=net + vat, mismatches=[], reason=None,
                           recorded_at=posted, recorded_by_id=accountant["id"], approved_by_id=None,
                           approval_reason=None, approved_at=None, posted_at=posted, reversed_at=None,
                           credited_invoice_id=None)
        invoice_lines = [self.add("supplier_invoice_lines", invoice_id=invoice["id"], purchase_order_line_id=line["id"],
                                  quantity=line["quantity_ordered"], unit_net_pence=line["unit_net_pence"],
                                  unit_vat_pence=line["unit_vat_pence"], credited_line_id=None)
                         for line in order_lines]
        memo = f"Invoice {invoice['number']} from {supplier['name']} for {reference}"
        for category, lines_of in _by_category(order_lines, self.types).items():
            category_net = sum(line["quantity_ordered"] * line["unit_net_pence"] for line in lines_of)
            category_vat = sum(line["quantity_ordered"] * line["unit_vat_pence"] for line in lines_of)
            gross = category_net + category_vat
            actual = self.entry("actual", -gross, on=invoiced, at=self.later(posted, 1), actor=accountant, memo=memo,
                                category=category, source=("invoice", invoice["id"]),
                                commitment=commitments[category], vat=(category_net, category_vat, gross))
            commitment = commitments[category]
            self.entry("release", gross, on=self.within(commitment["_period"], invoiced), at=self.later(actual["posted_at"], 1),
                       actor=accountant, memo=f"Settled by actual: {memo}", source=("invoice", invoice["id"]),
                       commitment=commitment, settled_by=actual, period=commitment["_period"])
        closed = posted + timedelta(days=rng.randint(0, 3))
        if closed.date() <= plan.as_of:
            order["status"], order["closed_at"] = "closed", closed
        if rng.random() < CREDIT_NOTE_CHANCE:
            self.credit_note(order, invoice, invoice_lines, order_lines, supplier, invoiced)

    def credit_note(self, order, invoice, invoice_lines, order_lines, supplier, invoiced: date) -> None:
        day = invoiced + timedelta(days=self.rng.randint(10, 40))
        if day > self.plan.as_of:
            return
        accountant = self.rng.choice(self.finance)
        posted = self.moment(day)
        credited, order_line = invoice_lines[0], order_lines[0]
        net, vat = credited["unit_net_pence"], credited["unit_vat_pence"]
        note = self.add("supplier_invoices", purchase_order_id=order["id"], supplier_id=supplier["id"],
                        kind="credit_note", number=f"CN-{order['id']:07d}", invoice_date=day, status="posted",
                        net_pence=net, vat_pence=vat, gross_pence=net + vat, mismatches=[],
                        reason="One unit arrived faulty and was refunded.", recorded_at=posted,
                        recorded_by_id=accountant["id"], approved_by_id=None, approval_reason=None, approved_at=None,
                        posted_at=posted, reversed_at=None, credited_invoice_id=invoice["id"])
        self.add("supplier_invoice_lines", invoice_id=note["id"], purchase_order_line_id=order_line["id"], quantity=1,
                 unit_net_pence=net, unit_vat_pence=vat, credited_line_id=credited["id"])
        category = self.types_by_id[order_line["item_type_id"]]["_category"]
        self.entry("credit", net + vat, on=day, at=self.later(posted, 1), actor=accountant,
                   memo=f"Credit note {note['number']} from {supplier['name']} for PO-{order['id']:05d}",
                   category=category, source=("invoice", note["id"]), vat=(net, vat, net + vat))

    def arrived(self, units: list[dict], request_line: dict | None, at: datetime, actor: dict) -> None:
        if request_line is None:
            for unit in units:
                self.put_back(unit, at)
            return
        for unit in units:
            self.reserve(unit, request_line, at, actor)
        request_line["_arrived"] = max(request_line.get("_arrived") or at, at)

    def reserve(self, unit: dict, request_line: dict, at: datetime, actor: dict) -> None:
        self.step(unit, "reserved", at, actor, request_id=request_line["request_id"],
                  reserved_for_request_id=request_line["request_id"])
        request_line["reserved_quantity"] += 1
        request_line["_units"].append(unit)

    def stock_orders(self, specs: list[tuple]) -> None:
        """Monthly orders for stock (for no request), sized on the month's expected demand."""
        demand: dict[tuple[int, int], float] = defaultdict(float)
        for _case, submitted, _undecided in specs:
            demand[(submitted.year, submitted.month)] += 1
        per_request = {t["id"]: t["_chance"] * (1 + t["_most"]) / 2 for t in self.types}
        month = self.plan.starts_on
        while month <= self.plan.as_of:
            expected = demand.get((month.year, month.month), 0) * STOCK_BUFFER
            by_supplier: dict[int, list] = defaultdict(list)
            for item_type in self.types:
                quantity = min(round(expected * per_request[item_type["id"]]), 1000)
                if quantity:
                    by_supplier[item_type["_supplier"]["id"]].append((item_type, quantity, None))
            raised = self.moment(month - timedelta(days=5) if month > self.plan.starts_on else month)
            for supplier_id, lines in sorted(by_supplier.items()):
                self.purchase_order(self.suppliers[supplier_id - 1], lines, raised)
            month = (month + timedelta(days=32)).replace(day=1)

    # Requests ------------------------------------------------------------------------------------------

    def decision_delay(self, risk: str) -> timedelta:
        target = self.config["REQUEST_TARGETS"][risk]["decide_within"]
        return timedelta(days=max(0, round(target * self.rng.uniform(0.05, 1.3))),
                         hours=self.rng.randint(1, 6))

    def requests(self, specs: list[tuple]) -> None:

        plan, rng = self.plan, self.rng
        as_of_end = datetime.combine(plan.as_of, time(23, 59), tzinfo=UTC)
        planned = []
        for case, submitted, undecided in specs:
            decided = None if undecided else submitted + self.decision_delay(case["risk_level"])
            if decided is not None and decided > as_of_end:
                decided = None
            planned.append((decided or as_of_end + timedelta(days=1), case, submitted, decided))
        planned.sort(key=lambda row: (row[0], row[1]["id"]))
        for _when, case, submitted, decided in planned:
            need = need_points(SimpleNamespace(**{k: v for k, v in case.items() if not k.startswith("_")}))
            targets = targets_for(case["risk_level"], submitted.date())
            caseworker = rng.choice(self.caseworkers[case["organisation_id"]])
            request = self.add(
                "requests", case_id=case["id"], raised_by_id=caseworker["id"],
                reason="Safety equipment to help the survivor stay safely at home.", needed_by=None,
                state="submitted", submitted_at=submitted, submitted_on=submitted.date(), need_points=need,
                manual_adjustment=0, priority_key=priority_key(need=need, adjustment=0, submitted_on=submitted.date()),
                decide_by=targets.decide_by, install_by=targets.install_by, decided_at=None, decided_by_id=None,
                decision_reason=None, declined_as=None)
            lines = [self.add("request_lines", request_id=request["id"], item_type_id=t["id"], quantity=quantity,
                              approved_quantity=None, reserved_quantity=0, urgent=rng.random() < 0.1,
                              _type=t, _units=[], _commitment=None, _arrived=None)
                     for t, quantity in self.lines_for()]
            self.request_event(request, "submit", None, submitted, caseworker)
            case["_last"] = max(case["_last"], submitted.date())
            if decided is None:
                case["_open_requests"] += 1
                if rng.random() < 0.07:
                    self.request_event(request, "request_info", "info_requested",
                                       self.later(submitted, 600), rng.choice(self.coordinators),
                                       "Please confirm the tenancy and landlord consent.")
                continue
            if rng.random() < 0.05:  # a round trip for more information before the decision
                asked = submitted + (decided - submitted) / 3
                self.request_event(request, "request_info", "info_requested", asked, rng.choice(self.coordinators),
                                   "Please confirm the tenancy and landlord consent.")
                self.request_event(request, "resubmit", "submitted", asked + (decided - asked) / 2, caseworker,
                                   "Tenancy confirmed; the landlord agreed.")
            self.decide(case, request, lines, decided, caseworker)

    def request_event(self, request: dict, action: str, to_state: str | None, at: datetime, actor: dict,
                      note: str | None = None) -> None:

        transition = REQUEST_MACHINE.transitions[action]
        from_state = None if action == "submit" else request["state"]
        if from_state not in transition.sources:
            raise DatasetError(f"request {request['id']} cannot {action} from {from_state}")
        request["state"] = str(transition.target) if transition.target is not None else request["state"]
        self.add("request_events", request_id=request["id"], occurred_at=at, actor_id=actor["id"], action=action,
                 from_state=from_state, to_state=request["state"], note=note)

    def decide(self, case: dict, request: dict, lines: list[dict], decided: datetime, caseworker: dict) -> None:
        plan, rng = self.plan, self.rng
        coordinator = rng.choice(self.coordinators)
        outcome = self.pick({"approve": 85, "approve_part": 5, "reject": 7, "withdraw": 3})
        case["_last"] = max(case["_last"], decided.date())
        if outcome == "withdraw":
            self.request_event(request, "withdraw", "withdrawn", decided, caseworker, "No longer needed.")
            return
        if outcome == "reject":
            declined = self.pick({"unsuitable": 40, "ineligible": 40, "other": 10, None: 10})
            reason = fiction.REJECTION_REASONS[declined or "other"]
            self.request_event(request, "reject", "rejected", decided, coordinator, reason)
            request.update(decided_at=decided, decided_by_id=coordinator["id"], decision_reason=reason,
                           declined_as=declined)
            return
        note = None
        if outcome == "approve_part" and any(line["quantity"] > 1 for line in lines):
            note = "Approved in part: one fewer unit than asked for covers the home."
        else:
            outcome = "approve"
        self.request_event(request, outcome, None, decided, coordinator, note)
        request.update(decided_at=decided, decided_by_id=coordinator["id"], decision_reason=note)
        trimmed = False
        for line in lines:
            line["approved_quantity"] = line["quantity"]
            if note and not trimmed and line["quantity"] > 1:
                line["approved_quantity"], trimmed = line["quantity"] - 1, True
        # Units in stock are reserved at once; the rest is committed at standard cost and ordered.
        ordered = []
        for line in lines:
            if rng.random() < STOCK_FIRST:
                for unit in self.take(line["_type"], line["approved_quantity"], decided):
                    self.reserve(unit, line, self.later(decided, 2), coordinator)
            awaiting = line["approved_quantity"] - line["reserved_quantity"]
            if awaiting:
                item_type = line["_type"]
                line["_commitment"] = self.entry(
                    "commitment", -awaiting * item_type["standard_cost_pence"], on=decided.date(),
                    at=self.later(decided, 3), actor=coordinator, category=item_type["_category"],
                    case_reference=case["reference"], source=("request", request["id"]),
                    memo=f"Request {request['id']}: {awaiting} × {item_type['name']} awaiting stock")
                ordered.append((item_type, awaiting, line))
            else:
                line["_arrived"] = self.later(decided, 3)
        by_supplier: dict[int, list] = defaultdict(list)
        for item_type, awaiting, line in ordered:
            by_supplier[item_type["_supplier"]["id"]].append((item_type, awaiting, line))
        for supplier_id, order_lines in sorted(by_supplier.items()):
            raised = decided + timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 4))
            if raised.date() <= plan.as_of:
                self.purchase_order(self.suppliers[supplier_id - 1], order_lines, raised)
        if any(line["reserved_quantity"] < line["approved_quantity"] for line in lines):
            case["_open_requests"] += 1
            return
        ready = max(line["_arrived"] for line in lines)
        self.visit(case, request, lines, ready, coordinator)

    def visit(self, case: dict, request: dict, lines: list[dict], ready: datetime, coordinator: dict) -> None:

        plan, rng = self.plan, self.rng
        booked = ready + timedelta(hours=rng.randint(1, 30))
        if booked.date() > plan.as_of:
            case["_open_requests"] += 1
            return
        install_within = self.config["REQUEST_TARGETS"][case["risk_level"]]["install_within"]
        day = booked.date() + timedelta(days=rng.randint(1, max(1, install_within)))
        fitter = rng.choice(self.fitters)
        morning = rng.random() < 0.5
        job = self.add("jobs", kind="install", case_id=case["id"], request_id=request["id"], fitter_id=fitter["id"],
                       scheduled_for=day, window_starts=time(9) if morning else time(13),
                       window_ends=time(12) if morning else time(17), status="scheduled",
                       created_by_id=coordinator["id"], created_at=booked, completed_at=None, completed_by_id=None,
                       # Visits from before the widened handover: its points unanswered, as migration 0028 left them.
                       **{check.key: None for check in HANDOVER_CHECKS})
        self.request_event(request, "schedule", "scheduled", booked, coordinator)
        if day > plan.as_of:
            case["_open_requests"] += 1
            return
        done = self.moment(day, 10 if morning else 14, 12 if morning else 17)
        first, second = self.config["REVIEW_AFTER_MONTHS"]
        for line in lines:
            for unit in line["_units"]:
                item_type = unit["_type"]
                handed = self.later(done, 20)
                self.step(unit, "issued", handed, fitter, request_id=request["id"], case_id=case["id"],
                          issued_case_id=case["id"], reserved_for_request_id=None, location_id=None)
                loaned, connected = item_type["loaned"], item_type["connected_device"]
                self.add("job_items", job_id=job["id"], item_id=unit["id"], outcome="issued", reason=None,
                         loaned=loaned,
                         return_due_on=day + timedelta(days=self.config["LOAN_PERIOD_DAYS"]) if loaned else None,
                         first_review_on=add_months(day, first), second_review_on=add_months(day, second),
                         recorded_at=handed, recorded_by_id=fitter["id"], account_in_own_name=connected,
                         default_passwords_changed=connected, shared_users_removed=connected,
                         two_factor_enabled=connected, survivor_shown_how=connected,
                         checklist_done_at=self.later(handed, 15) if connected else None)
                case["_issued"].append((day, unit))
                if loaned:
                    self.maybe_return(case, unit, day)
        completed = self.later(done, 60)
        job.update(status="completed", completed_at=completed, completed_by_id=fitter["id"])
        self.request_event(request, "fulfil", "fulfilled", completed, fitter, f"Job {job['id']} completed")
        case["_first_install"] = case["_first_install"] or day
        case["_last"] = max(case["_last"], day)

    def maybe_return(self, case: dict, unit: dict, issued_on: date) -> None:
        """A loan comes back near its due date (or is written off as not recovered)."""
        plan, rng = self.plan, self.rng
        due = issued_on + timedelta(days=self.config["LOAN_PERIOD_DAYS"])
        back = due + timedelta(days=rng.randint(-60, 30))
        if back > plan.as_of or rng.random() > 0.55:
            return
        actor = rng.choice(self.coordinators)
        at = self.moment(back)
        condition = self.pick({"good": 75, "faulty": 10, "damaged": 10, "lost": 5})
        if unit["_type"]["connected_device"] and condition == "good":
            condition = "needs_wipe"
        reused = 0
        if condition == "lost":
            self.step(unit, "written_off", at, actor, case_id=case["id"], note="Not recovered from the survivor",
                      write_off_reason="not_recovered", reserved_for_request_id=None, issued_case_id=None)
        else:
            state = "good" if condition in ("good", "needs_wipe") else condition
            self.step(unit, "returned", at, actor, case_id=case["id"], note=f"Condition: {state}.",
                      issued_case_id=None, location_id=self.store["id"])
            self.step(unit, "quarantined", self.later(at, 1), actor, awaiting_wipe=unit["_type"]["connected_device"])
            if condition == "good":
                self.step(unit, "released_from_quarantine", self.later(at, 2), actor,
                          note="Returned in good condition")
                reused = unit["purchase_cost_pence"]
                self.put_back(unit, self.later(at, 3))
            elif condition == "needs_wipe":
                wiped = at + timedelta(days=rng.randint(1, 5))
                if wiped.date() <= plan.as_of:
                    self.step(unit, "wipe_confirmed", wiped, actor, note="Factory reset and account removal done.",
                              awaiting_wipe=False)
                    self.step(unit, "released_from_quarantine", self.later(wiped, 5), actor)
                    self.put_back(unit, self.later(wiped, 10))
            else:
                checked = at + timedelta(days=rng.randint(3, 10))
                if checked.date() <= plan.as_of:
                    self.step(unit, "written_off", checked, actor, note="Not fit to issue again",
                              write_off_reason=condition, reserved_for_request_id=None, issued_case_id=None)
        self.add("item_returns", item_id=unit["id"], case_id=case["id"], job_id=None, condition=condition,
                 value_reused_pence=reused, returned_at=at, actor_id=actor["id"])

    # Outcomes, closing, and the money that is not about one request --------------------------------------

    def reviews_and_closing(self, cases: list[dict]) -> None:

        plan, rng = self.plan, self.rng
        first, second = self.config["REVIEW_AFTER_MONTHS"]
        for case in cases:
            fitted = case["_first_install"]
            reviewer = rng.choice(self.caseworkers[case["organisation_id"]])
            if fitted is not None:
                for kind, months, chance in (("three_months", first, 0.75), ("six_months", second, 0.6)):
                    day = add_months(fitted, months) + timedelta(days=rng.randint(0, 14))
                    if day <= plan.as_of and rng.random() < chance:
                        self.review(case, kind, day, reviewer)
                        case["_last"] = max(case["_last"], day)
            quiet = rng.randint(200, 500) if fitted is not None else rng.randint(30, 90)
            closed_on = case["_last"] + timedelta(days=quiet)
            if case["_open_requests"] == 0 and closed_on <= plan.as_of:
                case.update(status="closed", closed_on=closed_on)
                self.review(case, "closing", closed_on, reviewer, support_ended=self.pick(
                    {"no_longer_needed": 50, "moved": 15, "declined": 10, "lost_contact": 20, "other": 5}))

    def review(self, case: dict, kind: str, day: date, reviewer: dict, support_ended: str | None = None) -> None:
        rng = self.rng
        answered = rng.random() < 0.92
        review = self.add(
            "case_reviews", case_id=case["id"], kind=kind, reviewed_on=day, recorded_by_id=reviewer["id"],
            recorded_at=self.moment(day),
            feels_safer=self.pick({5: 35, 4: 35, 3: 20, 2: 7, 1: 3}) if answered else None,
            still_at_address=rng.random() < 0.85 if answered else None,
            incidents_since_fitting=self.pick({0: 60, 1: 20, 2: 10, 3: 6, 5: 4}) if answered else None,
            support_ended=support_ended)
        seen = {unit["id"]: unit for fitted, unit in case["_issued"] if fitted <= day}  # once each
        for unit in list(seen.values())[:6]:
            self.add("reviewed_items", review_id=review["id"], item_id=unit["id"], in_use=rng.random() < 0.9,
                     working=rng.random() < 0.95)

    def direct_purchases(self, cases: list[dict]) -> None:
        plan, rng = self.plan, self.rng
        count = round(len(cases) * DIRECT_PURCHASES_PER_CASE)
        span = (plan.as_of - plan.starts_on).days
        for day in sorted(plan.starts_on + timedelta(days=rng.randrange(span)) for _ in range(count)):
            item_type = rng.choice(self.types)
            gross = item_type["standard_cost_pence"] + rng.randint(-200, 300)
            net = round(gross / 1.2)
            accountant = rng.choice(self.finance)
            at = self.moment(day)
            case = rng.choice(cases) if rng.random() < 0.7 else None
            reference = case["reference"] if case is not None and case["_day"] <= day else None
            purchase = self.add(
                "direct_purchases", supplier_name=rng.choice(fiction.SUPPLIERS), purchased_on=day, net_pence=net,
                vat_pence=gross - net, gross_pence=gross, receipt_reference=f"RCPT-{rng.randrange(10**7):07d}",
                category=item_type["_category"], category_id=item_type["budget_category_id"],
                case_reference=reference, created_at=at, created_by_id=accountant["id"],
                payment_method=self.pick({"card": 60, "bank": 40}))
            actual = self.entry("actual", -gross, on=day, at=self.later(at, 1), actor=accountant,
                                memo=f"Direct purchase from {purchase['supplier_name']}", category=item_type["_category"],
                                case_reference=reference, source=("direct_purchase", purchase["id"]),
                                vat=(net, gross - net, gross))
            if rng.random() < REVERSAL_CHANCE:
                period = actual["_period"]
                later = min(day + timedelta(days=rng.randint(0, 3)), period["ends_on"], plan.as_of)
                self.entry("reversal", gross, on=later, at=max(self.moment(later), self.later(actual["posted_at"])),
                           actor=accountant, memo=fiction.REVERSAL_REASON, case_reference=reference,
                           source=("direct_purchase", purchase["id"]), reverses=actual, period=period)
        month = plan.starts_on
        while month <= plan.as_of:  # the month's bank charges
            day = min((month + timedelta(days=32)).replace(day=1) - timedelta(days=1), plan.as_of)
            accountant = rng.choice(self.finance)
            self.entry("adjustment", -rng.randint(500, 3_000), on=day, at=self.moment(day, 15, 17), actor=accountant,
                       memo=rng.choice(fiction.ADJUSTMENT_REASONS), category=bank_charges_category(self.categories))
            month = (month + timedelta(days=32)).replace(day=1)

    # The ledger, in chain order ---------------------------------------------------------------------------

    def fund_and_chain(self) -> None:
        """Fund each period with what its lowest point needs (so *available* never went below
        zero), then put every entry in chain order and hash it as the app does."""

        self.ledger.sort(key=lambda e: (e["posted_at"], e["_seq"]))
        running: dict[int, int] = defaultdict(int)
        lowest: dict[int, int] = defaultdict(int)
        for entry in self.ledger:
            period_id = entry["_period"]["id"]
            running[period_id] += entry["amount_pence"]
            lowest[period_id] = min(lowest[period_id], running[period_id])
        allocations = []
        for period in self.periods:
            need = -lowest[period["id"]]
            amount = max(100_000, -(-need * 110 // 100 // 100_000) * 100_000)  # 10% headroom, whole £1,000s
            allocations.append(self.entry(
                "allocation", amount, on=period["starts_on"],
                at=datetime.combine(period["starts_on"] - timedelta(days=20), time(8), tzinfo=UTC),
                actor=self.finance[0], memo="Ringfenced allocation from the PCC (bench)", period=period))
        self.ledger.sort(key=lambda e: (e["posted_at"], e["_seq"]))
        previous = "0" * 64
        balances = {p["id"]: {"allocated_pence": 0, "committed_pence": 0, "actual_pence": 0, "credits_pence": 0,
                              "adjustments_pence": 0, "entry_count": 0} for p in self.periods}
        for position, entry in enumerate(self.ledger, 1):
            entry.update(id=position, position=position, period_id=entry["_period"]["id"], previous_hash=previous,
                         commitment_id=_id(entry["_commitment"]), reverses_id=_id(entry["_reverses"]),
                         settled_by_id=_id(entry["_settled_by"]))
            entry["hash"] = previous = _Hashed(entry).compute_hash()
            kind = entry["_reverses"]["kind"] if entry["_reverses"] is not None else entry["kind"]
            bucket = BUCKETS[EntryKind(kind)]
            balance = balances[entry["period_id"]]
            balance[bucket.name] += bucket.sign * entry["amount_pence"]
            balance["entry_count"] += 1
        for period_id, balance in balances.items():
            self.add("budget_period_balances", period_id=period_id, **balance)
        last = self.plan.as_of.replace(day=1)
        month = self.plan.starts_on
        while month < last:
            end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            closed = end + timedelta(days=MONTH_CLOSE_LAG_DAYS)
            if closed <= self.plan.as_of:
                self.add("month_closes", month=month, closed_at=self.moment(closed), closed_by_id=self.finance[0]["id"],
                         reopened_at=None, reopened_by_id=None, reopen_reason=None)
            month = (month + timedelta(days=32)).replace(day=1)


LEDGER_COLUMNS = ("id", "position", "period_id", "kind", "entry_date", "amount_pence", "net_pence", "vat_pence",
                  "gross_pence", "category", "category_id", "case_reference", "memo", "source_type", "source_id",
                  "commitment_id", "reverses_id", "settled_by_id", "posted_at", "posted_by_id", "previous_hash", "hash")


class _Hashed:
    """An entry's values with the app's own `LedgerEntry.hash_content` and `compute_hash`
    (borrowed, so the chain is hashed exactly as the app hashes it, without building a
    million ORM objects)."""

    def __init__(self, values: dict):
        self.__dict__.update((name, values[name]) for name in LEDGER_COLUMNS if name != "hash")

    hash_content = LedgerEntry.hash_content
    compute_hash = LedgerEntry.compute_hash


def _id(row: dict | None) -> int | None:
    return None if row is None else row["id"]


def _key(name: str) -> str:
    return category_key(name)


def bank_charges_category(categories: dict) -> str:
    return categories[_key("Bank charges")][1]


def commitment_source(commitment: dict) -> tuple:
    return commitment["source_type"], commitment["source_id"]


def _by_category(order_lines: list[dict], types: list[dict]) -> dict[str, list[dict]]:
    by_id = {t["id"]: t for t in types}
    grouped: dict[str, list[dict]] = defaultdict(list)
    for line in order_lines:
        grouped[by_id[line["item_type_id"]]["_category"]].append(line)
    return dict(sorted(grouped.items()))


# Writing -------------------------------------------------------------------------------------------------

# Tables this generator fills; anything else (notifications, reconciliation, audit logs...) stays empty.
GENERATED_TABLES = (
    "organisations", "users", "user_roles", "suppliers", "item_types", "supplier_product_codes", "stock_locations",
    "budget_periods", "budget_period_balances", "ledger_entries", "month_closes", "direct_purchases", "cases",
    "requests", "request_lines", "request_events", "purchase_orders", "purchase_order_lines", "goods_receipts",
    "goods_receipt_lines", "supplier_invoices", "supplier_invoice_lines", "items", "item_codes", "item_events",
    "jobs", "job_items", "item_returns", "case_reviews", "reviewed_items", "case_reference_suffixes",
)
# The tables that must be empty before generating (the migrations seed budget categories only).
MUST_BE_EMPTY = ("organisations", "users", "cases", "ledger_entries", "items")


def simulate(plan: Plan, categories: dict[str, tuple[int, str]]) -> World:
    """The whole dataset in memory, rows by table (needs an app context for its settings)."""
    world = World(plan, categories)
    world.build_fixed()
    world.types_by_id = {t["id"]: t for t in world.types}
    cases = world.build_cases()
    specs = world.request_specs(cases)
    world.stock_orders(specs)
    world.requests(specs)
    world.reviews_and_closing(cases)
    world.direct_purchases(cases)
    world.fund_and_chain()
    world.rows["ledger_entries"] = world.ledger
    return world


def seeded_categories() -> dict[str, tuple[int, str]]:
    """The budget categories the migrations seeded: {key: (id, name)}."""
    with db.engine.connect() as connection:
        return {row.key: (row.id, row.name) for row in connection.execute(
            select(BudgetCategory.id, BudgetCategory.name, BudgetCategory.key))}


def generate(plan: Plan, *, echo=print) -> Report:
    """Fill the current app's (empty, migrated) database with the plan's dataset, in one transaction."""
    started = timer.perf_counter()
    metadata = db.metadata
    with db.engine.connect() as connection:
        for name in MUST_BE_EMPTY:
            if connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar():
                raise DatasetError(f"the database is not empty ({name} has rows): generate into an empty one")
    categories = seeded_categories()
    if _key("Bank charges") not in categories:
        raise DatasetError("the budget categories are missing: is the database migrated to head?")

    world = simulate(plan, categories)
    echo(f"simulated in {timer.perf_counter() - started:.1f} s; writing")

    report = Report()
    with db.engine.connect() as connection, _bulk_transaction(connection):
        loader = BulkLoader(connection)
        row_bound = {sealed.table.name: sealed for sealed in sealed_tables() if sealed.row_bound}
        for table in metadata.sorted_tables:
            rows = world.rows.get(table.name)
            if table.name not in GENERATED_TABLES or not rows:
                continue
            sealed = row_bound.get(table.name)
            columns = [c.name for c in table.columns]
            missing = [c for c in columns if c not in rows[0] and not (sealed and c == "seal_key")]
            if missing:
                raise DatasetError(f"{table.name}: no value for {', '.join(missing)}")
            if sealed:  # personal fields and free text, sealed to their rows as the app seals them
                rows = (seal_row(sealed, row) for row in rows)
            written = loader.write(table, columns, ([row[c] for c in columns] for row in rows))
            report.counts[table.name] = written
            echo(f"  {table.name}: {written:,} rows ({timer.perf_counter() - started:.0f} s)")
        # The seeded categories existed before the history began.
        connection.execute(update(BudgetCategory.__table__).values(
            created_at=datetime.combine(plan.starts_on - timedelta(days=60), time(9), tzinfo=UTC)))
        loader.restart_sequences(metadata.sorted_tables)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    report.counts["open_requests"] = sum(
        1 for r in world.rows["requests"] if r["state"] not in ("rejected", "withdrawn", "fulfilled", "closed"))
    report.seconds = timer.perf_counter() - started
    return report


@contextmanager
def _bulk_transaction(connection):
    """One transaction for the whole load; on SQLite without waiting for the disk at each
    commit point (the file is worthless until the load has finished anyway)."""
    if connection.dialect.name == "sqlite":
        connection.connection.dbapi_connection.execute("PRAGMA synchronous=OFF")
    with connection.begin():
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the database: sqlite:///PATH or postgresql+psycopg://...")
    parser.add_argument("--scale", type=float, required=True, help="fraction of national scale (1.0 = 100,000 cases)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF,
                        help="the last day of the dataset's history (default %(default)s)")
    parser.add_argument("--migrate", action="store_true", help="upgrade the database to the migrations' head first")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    app = bench_app(args.url)
    with app.app_context():
        if args.migrate:
            from flask_migrate import upgrade

            upgrade()
        try:
            report = generate(Plan(scale=args.scale, seed=args.seed, as_of=args.as_of))
        except DatasetError as error:
            print(f"bench.dataset: {error}", file=sys.stderr)
            return 1
    print(f"generated scale {args.scale} in {report.seconds:.0f} s: "
          + ", ".join(f"{name} {count:,}" for name, count in report.counts.items()
                      if name in ("cases", "items", "ledger_entries", "open_requests")))
    return 0


def bench_app(url: str):
    """The app on `url`, configured as `flask --app inventory` would be (its data key seals
    the personal fields, so the app can read them back), with no scheduler."""
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_IN_PROCESS": False})


if __name__ == "__main__":
    sys.exit(main())
