"""Concurrent clients against a running Space: every client asks at the same time; errors and p50/p95 latency.

    python -m space.load_test [--url http://127.0.0.1:7860/] [--clients 16] [--requests 1]

Without --url it serves the app itself on a free loopback port (the shipped model, or $GENOMICLLM_MODEL).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

GC_SEQ = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def run(url: str, clients: int = 16, requests: int = 1) -> dict:
    """`clients` gradio_client.Client threads released together, each asking `requests` questions (alternating
    /gc_content and /classify); returns latencies (s), errors and p50/p95."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(i: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(f"client {i}: connect: {e!r}")
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        for j in range(requests):
            t0 = time.perf_counter()
            try:
                if (i + j) % 2:
                    md, _ = client.predict("promoter", GC_SEQ, None, api_name="/classify")
                    ok = "Class probabilities" in md
                else:
                    md, _ = client.predict(GC_SEQ, None, api_name="/gc_content")
                    ok = "Exact answer" in md
                if not ok:
                    raise AssertionError(f"unexpected answer {md[:200]!r}")
                with lock:
                    latencies.append(time.perf_counter() - t0)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"client {i} request {j}: {e!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": clients, "requests": clients * requests, "ok": len(latencies), "errors": errors,
            "p50_s": percentile(latencies, 0.5), "p95_s": percentile(latencies, 0.95),
            "mean_s": statistics.fmean(latencies) if latencies else float("nan"), "wall_s": wall}


def report(r: dict) -> str:
    return (f"{r['clients']} concurrent clients, {r['requests']} requests: {r['ok']} ok, {len(r['errors'])} errors; "
            f"latency p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s, mean {r['mean_s']:.2f} s; wall {r['wall_s']:.1f} s")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=1)
    args = p.parse_args(argv)
    demo, url = None, args.url
    if not url:
        from .app import serve

        demo = serve(port=None, block=False)
        url = demo.local_url
    try:
        r = run(url, args.clients, args.requests)
        print(report(r))
        for e in r["errors"][:10]:
            print("  ", e)
    finally:
        if demo is not None:
            demo.close()
    raise SystemExit(1 if r["errors"] else 0)


if __name__ == "__main__":
    main()
