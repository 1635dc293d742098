import pytest

from bench.http_report import parse_wrk, ratio

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8001/api/v1/budget
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    3.02ms  40.10ms   80.00%
    Req/Sec   650.00     40.00   700.00     75.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   15.20ms
     99%    1.20s
  2600 requests in 2.00s, 1.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1299.50
Transfer/sec:    550.00KB
"""


def test_reads_percentiles_throughput_and_every_kind_of_error_from_wrk():
    result = parse_wrk(WRK_OUTPUT)
    assert result.p50 == pytest.approx(0.0115)
    assert result.p99 == pytest.approx(1.2)
    assert result.requests == 2600
    assert result.requests_per_second == pytest.approx(1299.5)
    assert result.errors == 7


def test_a_clean_run_has_no_errors():
    clean = WRK_OUTPUT.replace("  Socket errors: connect 0, read 2, write 0, timeout 1\n", "").replace(
        "  Non-2xx or 3xx responses: 4\n", "").replace("99%    1.20s", "99%  900.00us")
    result = parse_wrk(clean)
    assert result.errors == 0
    assert result.p99 == pytest.approx(0.0009)


def test_ratio_to_nothing_is_none():
    assert ratio(3.0, 1.5) == 2.0
    assert ratio(1.0, 0.0) is None


def test_a_row_shows_growth_from_small_to_large_and_the_ratio_to_the_floor():
    from bench.http_report import LoadResult, summary

    small = LoadResult(p50=0.010, p99=0.020, requests_per_second=100, requests=200, errors=1)
    large = LoadResult(p50=0.015, p99=0.060, requests_per_second=60, requests=120, errors=2)
    floor = LoadResult(p50=0.002, p99=0.004, requests_per_second=900, requests=1800, errors=0)
    row = summary("by-code", small, large, floor)
    assert row["growth_p50"] == pytest.approx(1.5)
    assert row["growth_p99"] == pytest.approx(3.0)
    assert row["floor_ratio_p99"] == pytest.approx(15.0)
    assert row["errors"] == 3
    assert summary("queue", small, large, None)["floor_ratio_p99"] is None
