"""space/load_test.py against the served app: 16 concurrent gradio_client clients, no errors."""

import pytest

pytest.importorskip("gradio_client")


def test_sixteen_concurrent_clients_without_errors(server):
    from space.load_test import report, run

    r = run(server, clients=16, requests=1)
    print("\n" + report(r))
    assert r["errors"] == [] and r["ok"] == 16


def test_percentile():
    from space.load_test import percentile

    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0 and percentile([1.0, 2.0], 0.95) == pytest.approx(1.95)
