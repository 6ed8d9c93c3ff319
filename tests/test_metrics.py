"""``/metrics`` parses as Prometheus' text format and carries the operations families: a
request's latency under its route template, rooms and sockets, the pool, the loop, payments;
in multiprocess mode a scrape sums the workers' values."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from liveshop.accounts.models import Role
from tests.support import MakeActor


async def test_metrics_parse_and_time_requests_by_route(
    client: httpx.AsyncClient, app: object, make_actor: MakeActor
) -> None:
    admin = await make_actor(Role.ADMIN)
    assert (await client.get("/api/v1/markets/GB", headers=admin.headers)).status_code == 200
    app.state.metrics_sampler.sample()  # type: ignore[attr-defined]
    got = await client.get("/metrics")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(got.text)}
    for name in (
        "liveshop_http_request_duration_seconds",
        "liveshop_fanout_lag_seconds",
        "liveshop_comments",
        "liveshop_claims",
        "liveshop_payments",
        "liveshop_rooms",
        "liveshop_sockets",
        "liveshop_db_pool_checked_out",
        "liveshop_event_loop_lag_seconds",
        "liveshop_analytics_capture_waiting",
        "liveshop_background_loop_age_seconds",
    ):
        assert name in families, name
    routes = {
        s.labels["route"]
        for s in families["liveshop_http_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert "/api/v1/markets/{code}" in routes  # the template, never the raw path
    assert not any("GB" in r for r in routes)


def test_multiprocess_mode_sums_the_workers(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from liveshop.core import metrics
        metrics.PAYMENTS.inc(int(sys.argv[1]))
        metrics.SOCKETS.set(int(sys.argv[1]))
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in ("3", "4"):  # two "workers", each its own process
        subprocess.run([sys.executable, "-c", script, n], env=env, check=True, timeout=60)
    scrape = textwrap.dedent(
        """
        from prometheus_client import generate_latest
        from liveshop.metrics import _registry
        print(generate_latest(_registry()).decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    families = {f.name: f for f in text_string_to_metric_families(out)}
    payments = [s.value for s in families["liveshop_payments"].samples if s.name.endswith("_total")]
    assert payments == [7.0]


def test_the_grafana_dashboard_asks_for_metrics_that_exist() -> None:
    import json
    import re

    from liveshop.core import metrics

    dashboard = json.loads((Path(__file__).parents[1] / "docs/grafana-liveshop.json").read_text())
    known = {
        m._name  # type: ignore[attr-defined]
        for m in vars(metrics).values()
        if hasattr(m, "_name")
    }
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"liveshop_[a-z_]+", target["expr"]):
                base = re.sub(r"_(bucket|count|sum|total)$", "", name)
                assert base in known, (panel["title"], name)
