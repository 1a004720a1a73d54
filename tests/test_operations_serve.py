"""`marketplace serve --workers 2` as operators run it: every server process counts its requests into one
folder, so that whichever process answers a scrape reports them all; its own worker makes /readyz ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz_count(text: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "marketplace_http_responses_total" and s.labels.get("route") == "/healthz")


def test_two_server_processes_report_every_request_and_become_ready(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "MARKETPLACE_RUN_WORKER": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "LOG_LEVEL": "WARNING",
           "MARKETPLACE_UPLOAD_DIR": str(tmp_path / "uploads")}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"stale counts of an earlier run")
    server = subprocess.Popen([sys.executable, "-m", "marketplace", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, ready.text if ready is not None else "never answered"
        assert ready.json()["checks"]["worker"]["alive"] >= 1

        with httpx.Client(base_url=base, timeout=5) as client:  # keep-alive off: spread over both processes
            for _ in range(40):
                assert client.get("/healthz", headers={"Connection": "close"}).status_code == 200
        counts = [_healthz_count(httpx.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=10).text)
                  for _ in range(6)]
        assert all(count >= 40 for count in counts), counts  # each scrape, whichever process answered it
        assert not (tmp_path / "metrics" / "counter_1.db").exists(), "an earlier run's counts are not added"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
