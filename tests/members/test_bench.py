"""The speed benchmark's middleware and bare view: off unless CONVENE_BENCH is set, and, when
on, each response says how much CPU and SQL it took (members/bench.py)."""

import json

from django.db import connection
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from members import bench
from members.models import User
from tests.subprocesses import child_env, manage

BENCH = "members.bench.BenchMiddleware"


def test_bench_is_off_by_default(settings, client, community):
    assert not settings.CONVENE_BENCH
    assert BENCH not in settings.MIDDLEWARE
    assert client.get("/_bench/bare/").status_code == 404
    assert client.get("/_bench/last/").status_code == 404
    response = client.get(community.get_absolute_url())
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("x-bench")]


def test_the_variable_turns_on_the_middleware_and_the_bare_view():
    code = (
        "import json; from django.conf import settings; from django.test import Client; "
        "r = Client().get('/_bench/bare/'); "
        "print(json.dumps([settings.MIDDLEWARE[0], r.status_code, r.content.decode(), "
        "r.headers['X-Bench-CPU-ms'], r.headers['X-Bench-SQL']]))"
    )
    result = manage(
        "shell", "-c", code, env=child_env(CONVENE_BENCH="1", ALLOWED_HOSTS="testserver")
    )
    assert result.returncode == 0, result.stderr
    first, status, body, cpu_ms, sql = json.loads(result.stdout.strip().splitlines()[-1])
    assert (first, status, body) == (BENCH, 200, "ok")
    assert float(cpu_ms) >= 0
    assert sql == "0"  # the bare view touches no database


def test_headers_give_the_request_cpu_and_every_sql_statement(settings, client, community):
    settings.MIDDLEWARE = [BENCH, *settings.MIDDLEWARE]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(community.get_absolute_url())
    assert response.status_code == 200
    assert int(response.headers["X-Bench-SQL"]) == len(queries.captured_queries) > 0
    assert float(response.headers["X-Bench-CPU-ms"]) > 0
    assert float(response.headers["X-Bench-SQL-ms"]) >= 0
    assert bench.last["sql"] == len(queries.captured_queries)


def test_a_streamed_download_is_counted_to_its_last_byte(db):
    def rows():
        yield "header\n"
        for _ in range(3):
            yield f"{User.objects.count()}\n"  # one query per part, after the headers left

    middleware = bench.BenchMiddleware(lambda request: StreamingHttpResponse(rows()))
    response = middleware(RequestFactory().get("/export.csv"))
    assert response["X-Bench-Streamed"] == "1"
    assert response["X-Bench-SQL"] == "0"  # nothing ran before the first byte
    bench.last.clear()
    body = b"".join(response.streaming_content)
    assert body == b"header\n0\n0\n0\n"
    assert bench.last["sql"] == 3
    assert bench.last["cpu_ms"] > 0

    # Asking for the totals does not replace them with its own.
    ask = bench.BenchMiddleware(bench.last_request)
    answer = ask(RequestFactory().get(bench.LAST_PATH))
    assert json.loads(answer.content)["sql"] == 3
    assert bench.last["sql"] == 3
