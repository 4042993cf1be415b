"""The request metrics as Prometheus reads them."""

from prometheus_client import CollectorRegistry, generate_latest

from server.observability import HttpMetrics


def _exposition(metrics: HttpMetrics) -> str:
    registry = CollectorRegistry()
    registry.register(metrics)
    return generate_latest(registry).decode()


def test_answers_are_counted_by_method_route_and_status():
    metrics = HttpMetrics()
    for status in (409, 409, 201):
        metrics.observe("POST", "api/v1/reservations", status, 0.002)
    metrics.observe("GET", "unmatched", 404, None)

    text = _exposition(metrics)

    assert (
        'etour_http_requests_total{method="POST",route="api/v1/reservations",status="409"} 2.0'
        in text
    )
    assert (
        'etour_http_requests_total{method="POST",route="api/v1/reservations",status="201"} 1.0'
        in text
    )
    assert 'etour_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text


def test_latencies_fill_cumulative_buckets_bounded_from_above():
    metrics = HttpMetrics()
    for seconds in (0.005, 0.007, 0.3, 9.0):  # 0.005 is within its own bound ("le")
        metrics.observe("GET", "healthz", 200, seconds)

    text = _exposition(metrics)

    def bucket(bound: str) -> str:
        return f'etour_http_request_seconds_bucket{{le="{bound}",route="healthz"}}'

    assert f"{bucket('0.005')} 1.0" in text
    assert f"{bucket('0.01')} 2.0" in text
    assert f"{bucket('0.25')} 2.0" in text
    assert f"{bucket('0.5')} 3.0" in text
    assert f"{bucket('5.0')} 3.0" in text
    assert f"{bucket('+Inf')} 4.0" in text
    assert 'etour_http_request_seconds_count{route="healthz"} 4.0' in text
    assert 'etour_http_request_seconds_sum{route="healthz"} 9.312' in text
    # An untimed answer is counted, not observed.
    metrics.observe("GET", "healthz", 200, None)
    assert 'etour_http_request_seconds_count{route="healthz"} 4.0' in _exposition(metrics)
