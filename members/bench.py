"""What `make bench` reads from the server: each request's own CPU time and SQL.

Turned on only by CONVENE_BENCH=1 (see config/settings.py and config/urls.py); otherwise
nothing here is loaded and it costs nothing.

The middleware sits outermost. It reads the process's CPU clock (`time.process_time()`, so
time spent waiting for the database or the network is not counted) before and after the
request, counts the SQL run and the time spent waiting for it, and sends them as headers:

    X-Bench-CPU-ms     CPU time of this worker for the request, in milliseconds
    X-Bench-SQL        how many SQL statements ran
    X-Bench-SQL-ms     wall time spent waiting for those statements, in milliseconds

A streamed response is built after its headers are sent, so its headers hold only the part
before the first byte; when the last byte has gone, the totals for the whole download are
kept, and `/_bench/last/` gives them to the next request. There is also a bare view,
`/_bench/bare/`, that does nothing, so a page can be compared with the least a request costs.
"""

import time

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

# The totals of the last request that finished, streamed or not.
last: dict[str, float] = {}


class _Counter:
    def __init__(self):
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def _totals(cpu_started: float, wall_started: float, counter: _Counter) -> dict[str, float]:
    return {
        "cpu_ms": round((time.process_time() - cpu_started) * 1000, 3),
        "wall_ms": round((time.perf_counter() - wall_started) * 1000, 3),
        "sql": counter.queries,
        "sql_ms": round(counter.seconds * 1000, 3),
    }


def _keep(totals: dict[str, float]) -> None:
    last.clear()
    last.update(totals)


class BenchMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        counter = _Counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        totals = _totals(cpu_started, wall_started, counter)
        response["X-Bench-CPU-ms"] = f"{totals['cpu_ms']:.3f}"
        response["X-Bench-SQL"] = str(totals["sql"])
        response["X-Bench-SQL-ms"] = f"{totals['sql_ms']:.3f}"
        if request.path == LAST_PATH:
            return response  # asking for the totals must not replace them
        if response.streaming:
            response["X-Bench-Streamed"] = "1"
            response.streaming_content = _measured(
                response.streaming_content, cpu_started, wall_started, counter
            )
        else:
            _keep(totals)
        return response


def _measured(content, cpu_started, wall_started, counter):
    """The streamed body, counted as it is sent; the totals are kept after the last part."""
    with connection.execute_wrapper(counter):
        yield from content
    _keep(_totals(cpu_started, wall_started, counter))


def bare(request):
    """The least a request can cost: every middleware, no database, a tiny response."""
    return HttpResponse("ok", content_type="text/plain")


def last_request(request):
    return JsonResponse(last)


LAST_PATH = "/_bench/last/"
urlpatterns = [
    path("_bench/bare/", bare),
    path("_bench/last/", last_request),
]
