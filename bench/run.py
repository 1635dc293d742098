"""`make bench`: time the measurements on the 1% and the 100% datasets, side by side.

    python -m bench.run                          # SQLite files under instance/bench/
    python -m bench.run --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Each dataset is built once and reused while its key holds: scale, seed, last day and the
migrations' head (a new migration means new datasets). On PostgreSQL each dataset lives in
its own schema of the given database, so the two sizes never mix and the database's own
schema (`public`) is left alone.

Runs alternate between the datasets (one run of a measurement on 1%, then one on 100%, and
again), so a change in the machine's load touches both sides alike. What to read is the
ratio: how much slower the operation is on 100 times the data. Flat is about 1; linear in
the data is about 100. Absolute times move with the machine; the ratio much less so.
"""
import argparse
import json
import re
import statistics
import sys
import time as timer
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from bench.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Plan, bench_app, generate
from bench.measurements import MEASUREMENTS, Measurement, Skip
from inventory import PROJECT_ROOT, clock
from inventory.extensions import db

DEFAULT_SCALES = (0.01, 1.0)
DEFAULT_DATA_DIR = PROJECT_ROOT / "instance" / "bench"


@dataclass(frozen=True)
class Dataset:
    plan: Plan
    url: str
    key: str


def migrations_head() -> str:
    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


def dataset_key(plan: Plan, head: str) -> str:
    return f"s{plan.scale:g}-seed{plan.seed}-to{plan.as_of:%Y%m%d}-m{head}".replace(".", "_")


# Datasets: where they live, and building one when it is missing -------------------------------------

class SqliteStore:
    def __init__(self, directory: Path):
        self.directory = directory

    def url(self, key: str) -> str:
        return f"sqlite:///{self.directory / (key + '.sqlite3')}"

    def is_complete(self, key: str) -> bool:
        return (self.directory / (key + ".json")).exists()

    def clear(self, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for suffix in (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".json"):
            (self.directory / (key + suffix)).unlink(missing_ok=True)

    def mark_complete(self, key: str, counts: dict) -> None:
        (self.directory / (key + ".json")).write_text(json.dumps(counts, indent=2))


class PostgresStore:
    """One schema per dataset in the given database, marked complete by a comment on it."""

    def __init__(self, url: str):
        self.base_url = url
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    @staticmethod
    def schema(key: str) -> str:
        return "bench_" + re.sub(r"[^a-z0-9_]", "_", key.lower())

    def url(self, key: str) -> str:
        joiner = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{joiner}options=-csearch_path%3D{self.schema(key)}"

    def is_complete(self, key: str) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(text(
                "SELECT obj_description(oid, 'pg_namespace') = 'complete' FROM pg_namespace WHERE nspname = :name"),
                {"name": self.schema(key)}).scalar() is True

    def clear(self, key: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema(key)}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{self.schema(key)}"'))

    def mark_complete(self, key: str, counts: dict) -> None:
        with self.engine.connect() as connection:
            connection.execute(text(f"COMMENT ON SCHEMA \"{self.schema(key)}\" IS 'complete'"))


def ensure_dataset(store, plan: Plan, head: str, *, rebuild: bool, echo=print) -> Dataset:
    key = dataset_key(plan, head)
    dataset = Dataset(plan, store.url(key), key)
    if store.is_complete(key) and not rebuild:
        echo(f"reusing dataset {key}")
        return dataset
    echo(f"building dataset {key} (scale {plan.scale:g})")
    store.clear(key)
    app = bench_app(dataset.url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        report = generate(plan, echo=lambda line: echo("  " + line))
        db.engine.dispose()
    echo(f"built {key} in {report.seconds:.0f} s")
    store.mark_complete(key, report.counts | {"seconds": round(report.seconds)})
    return dataset


# Timing -------------------------------------------------------------------------------------------

@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p90(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


@dataclass
class Result:
    name: str
    description: str
    timings: dict[str, Timing] = field(default_factory=dict)  # by scale label
    skipped: str | None = None
    target_seconds: float | None = None


def run_in_process(measurement: Measurement, sides: list["Side"], repetitions: int) -> Result:
    """Time `measurement` on each side in turn, `repetitions` times each, after one untimed
    warm-up run per side (caches, compiled statements). Each run has a fresh session."""
    result = Result(measurement.name, measurement.description, target_seconds=measurement.target_seconds)
    for side in sides:
        try:
            side.run(measurement)
        except Skip as reason:
            result.skipped = str(reason)
            return result
        result.timings[side.label] = Timing()
    for _ in range(repetitions):
        for side in sides:
            result.timings[side.label].seconds.append(side.run(measurement))
    return result


# How each kind of measurement is driven; issue 16 adds "http" (gunicorn and a load generator).
DRIVERS: dict[str, Callable[[Measurement, list, int], Result]] = {"in_process": run_in_process}


class Side:
    """One dataset with its app, entered for each run on the evening of the data's last day."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.label = f"{dataset.plan.scale * 100:g}%"
        self.app = bench_app(dataset.url)
        self.moment = datetime.combine(dataset.plan.as_of, time(18), tzinfo=UTC)

    def run(self, measurement: Measurement) -> float:
        """One run's seconds (its setup, if any, untimed before it); Skip propagates."""
        with ExitStack() as stack:
            stack.enter_context(self.app.app_context())
            stack.enter_context(clock.frozen_at(self.moment))
            try:
                arguments = measurement.setup() if measurement.setup is not None else {}
                started = timer.perf_counter()
                measurement.run(**arguments)
                return timer.perf_counter() - started
            finally:
                db.session.remove()


# The report -----------------------------------------------------------------------------------------

def table(results: list[Result], small: str, large: str) -> str:
    header = ("measurement", f"{small} median", f"{small} p90", f"{large} median", f"{large} p90",
              "ratio median", "ratio p90", f"target at {large}")
    lines = [header]
    for result in results:
        if result.skipped:
            lines.append((result.name, "skipped: " + result.skipped, "", "", "", "", "", ""))
            continue
        a, b = result.timings[small], result.timings[large]
        target = ""
        if result.target_seconds is not None:
            target = f"< {result.target_seconds:g} s: {'yes' if b.median < result.target_seconds else 'NO'}"
        lines.append((result.name, _seconds(a.median), _seconds(a.p90), _seconds(b.median), _seconds(b.p90),
                      _ratio(b.median, a.median), _ratio(b.p90, a.p90), target))
    widths = [max(len(row[i]) for row in lines if len(row[1]) < 60 or i != 1) for i in range(len(header))]
    out = []
    for number, row in enumerate(lines):
        if row[1].startswith("skipped"):
            out.append(f"{row[0]:<{widths[0]}}  {row[1]}")
        else:
            out.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                                 for i, cell in enumerate(row)))
        if number == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _ratio(large: float, small: float) -> str:
    return f"{large / small:.1f}x" if small > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="run on PostgreSQL: datasets in schemas of this database")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where SQLite datasets are kept")
    parser.add_argument("--scales", default=",".join(f"{s:g}" for s in DEFAULT_SCALES),
                        help="the small and the large scale, comma-separated (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repetitions", type=int, help="timed runs per side (default: each measurement's own)")
    parser.add_argument("--only", action="append", default=[], help="run only measurements whose name contains this")
    parser.add_argument("--rebuild", action="store_true", help="build the datasets again even if they exist")
    parser.add_argument("--json", type=Path, help="also write the results here (default: beside the datasets)")
    args = parser.parse_args(argv)
    try:
        small_scale, large_scale = (float(s) for s in args.scales.split(","))
    except ValueError:
        parser.error("--scales takes two numbers, e.g. 0.01,1")
    store = PostgresStore(args.postgres_url) if args.postgres_url else SqliteStore(args.data_dir)
    engine = "postgresql" if args.postgres_url else "sqlite"
    head = migrations_head()
    datasets = [ensure_dataset(store, Plan(scale=scale, seed=args.seed, as_of=DEFAULT_AS_OF), head,
                               rebuild=args.rebuild)
                for scale in (small_scale, large_scale)]
    sides = [Side(dataset) for dataset in datasets]
    chosen = [m for m in MEASUREMENTS if not args.only or any(part in m.name for part in args.only)]
    results = []
    for measurement in chosen:
        print(f"timing {measurement.name} ...", flush=True)
        results.append(DRIVERS[measurement.kind](measurement, sides, args.repetitions or measurement.repetitions))
    print()
    print(f"SafeHold benchmark on {engine}, migrations at {head}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(table(results, sides[0].label, sides[1].label))
    output = args.json or (args.data_dir / f"results-{engine}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "engine": engine, "migrations_head": head, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets": {side.label: side.dataset.key for side in sides},
        "results": [asdict(r) | {"summary": {label: {"median": t.median, "p90": t.p90}
                                             for label, t in r.timings.items()}} for r in results],
    }, indent=2))
    print(f"\n(also written to {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
