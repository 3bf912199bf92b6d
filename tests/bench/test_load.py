"""bench/load.py: wrk's summary, as bench/load.lua prints it, read back."""

import pytest

from bench.load import LoadError, wrk_result

# A real run of `wrk -t2 -c4 -d1s -s bench/load.lua ... -- bare ...`.
WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8932/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.26ms    7.23ms  36.09ms   57.81%
    Req/Sec   149.00     37.72   230.00     65.00%
  297 requests in 1.00s, 2.33MB read
Requests/sec:    296.69
Transfer/sec:      2.32MB
BENCH {"requests": 297, "duration_us": 1001058, "p50_us": 12081, "p95_us": 24169, "p99_us": 27147, \
"accepted": 290, "refused": 7, "socket_errors": 0}
"""


def test_the_summary_line_gives_throughput_latency_and_answers():
    result = wrk_result(WRK_OUTPUT)

    assert result.requests == 297
    assert result.per_second == pytest.approx(296.69, abs=0.01)
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (12.081, 24.169, 27.147)
    assert (result.accepted, result.refused, result.socket_errors) == (290, 7, 0)


def test_output_without_the_summary_line_is_an_error_not_zeros():
    plain_wrk = WRK_OUTPUT.rsplit("BENCH", 1)[0]

    with pytest.raises(LoadError, match="no BENCH line"):
        wrk_result(plain_wrk)
