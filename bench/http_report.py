"""The HTTP benchmark's arithmetic (issue 16): what wrk printed, and the table and JSON made
from it. Kept apart from the runner so it can be tested without a server or a load generator."""
import re
from dataclasses import dataclass

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class LoadResult:
    """One wrk run of one operation on one dataset."""
    p50: float  # seconds
    p99: float
    requests_per_second: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors (connect, read, write, timeout)


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip()).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> LoadResult:
    """Read wrk's `--latency` output: the 50% and 99% lines, requests, Requests/sec and every
    kind of error wrk counts, so that an erroring run can never pass for a fast one."""
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)", output, re.M))
    requests = int(re.search(r"^\s*(\d+) requests in", output, re.M).group(1))
    rate = float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M).group(1))
    errors = 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return LoadResult(_seconds(percentiles["50"]), _seconds(percentiles["99"]), rate, requests, errors)


def ratio(numerator: float, denominator: float) -> float | None:
    """How many times `denominator` (None when it is zero: no meaningful ratio)."""
    return numerator / denominator if denominator > 0 else None


def summary(name: str, small: LoadResult, large: LoadResult, floor: LoadResult | None) -> dict:
    """One operation's row: its figures at each size, its growth from the small dataset to
    the large (p50 and p99), and its p99 over the floor's on the large dataset."""
    return {
        "operation": name,
        "small": small.__dict__, "large": large.__dict__,
        "growth_p50": ratio(large.p50, small.p50), "growth_p99": ratio(large.p99, small.p99),
        "floor_ratio_p99": ratio(large.p99, floor.p99) if floor else None,
        "errors": small.errors + large.errors,
    }
