"""Issue 12 acceptance, alerts and latency: a local HTTP receiver gets exactly the expected webhook payloads for a
telemetry-limit violation in generated SWAPI housekeeping (made into L1A by the built-in algorithm), a failing
algorithm and a late product (with a shortened requirement); no duplicate while a condition holds; a recovery notice
when it clears. Latency percentiles reach /metrics and the alerts page; rules-file errors name the line."""

import http.server
import json
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import requests

from conftest import SDCServer, wait_for
from packets_oracle import generate
from test_pipeline import BUILT_IN, external, science, upload, write_pipeline

SWAPI_XTCE = BUILT_IN / "xtce" / "swapi_packet_definition.xml"
PARAMETER = "SWP_HK.CMDEXE"
SAMPLES = 3


class Receiver:
    """Webhook receiver on 127.0.0.1: records (path, JSON body) of every POST, answers 200."""

    def __init__(self):
        received = self.received = []
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self, path):
        with self.lock:
            return [body for p, body in self.received if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def longest_run(values, limit):
    """Length of the longest run of values above `limit`, and the largest value in it (as sdc reports it)."""
    best, worst, current, current_worst = 0, 0, 0, 0
    for value in values:
        if value > limit:
            current += 1
            current_worst = value if current == 1 or abs(value) > abs(current_worst) else current_worst
            if current > best:
                best, worst = current, current_worst
        else:
            current = 0
    return best, worst


def housekeeping(shared_dir, folder, seed):
    """SWAPI SWP_HK packets (40) and the raw values of the parameter in packet order."""
    packets = generate(shared_dir, SWAPI_XTCE, ["SWP_HK"], 40, seed, folder / f"hk{seed}")
    truth = np.load(packets.with_suffix(".truth.npz"))
    return packets, [int(v) for v in truth[f"1184/{PARAMETER}"]]


def choose(shared_dir, folder):
    """Two violating days and one clean one, with a limit that makes them so (deterministic: fixed seeds)."""
    first, second = housekeeping(shared_dir, folder, 11), housekeeping(shared_dir, folder, 12)
    for seed in range(13, 60):
        clean = housekeeping(shared_dir, folder, seed)
        for limit in range(254, 0, -1):
            if all(longest_run(v, limit)[0] >= SAMPLES for _, v in (first, second)) and longest_run(clean[1], limit)[0] < SAMPLES:
                return limit, first, second, clean
    raise AssertionError("no limit separates the generated days")


def alerts_json(server):
    response = requests.get(f"{server.url}/portal/alerts.json", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def science_names(server, **params):
    return sorted(Path(row["file_path"]).name for row in science(server, **params))


def summary(payload):
    return (payload["status"], payload["rule"], payload["subject"])


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def test_limit_failure_and_latency_alerts_reach_the_webhooks_once_with_recovery(sdc_bin, shared_dir, tmp_path, receiver):
    limit, day1, day2, day3 = choose(shared_dir, tmp_path / "generated")
    pipeline = write_pipeline(tmp_path / "pipeline", "codice, l0, raw, codice, l1a, all, HARD, DOWNSTREAM\nhit, l0, raw, hit, l1a, all, HARD, DOWNSTREAM\n",
                              external("codice l1a all", "fail", attempts=1) + external("hit l1a all", "slow", attempts=1))
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"""evaluate_every: 1s
latency_requirement: 24h
webhooks:
  - {{url: "{receiver.url}/json", format: json, retries: 2, backoff: 1s}}
  - {{url: "{receiver.url}/slack", format: slack, retries: 2, backoff: 1s}}
rules:
  - {{name: swapi-hk-cmdexe, type: limit, severity: warning, when: "swapi SWP_HK {PARAMETER} > {limit} for {SAMPLES} samples"}}
  - {{name: job-failed, type: job_failed, severity: critical}}
  - {{name: hit-latency, type: latency, severity: critical, instrument: hit, levels: [l1a], within: 2s}}
""")
    checked = subprocess.run([sdc_bin, "alerts", "check", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0 and "3 rule(s), 2 webhook(s)" in checked.stdout, checked.stdout + checked.stderr
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(pipeline), "--alerts", str(rules), "--lease-seconds", "5"])
    try:
        upload(server, tmp_path, "imap_swapi_l0_raw_20250101_v001.0000.pkts", day1[0].read_bytes())
        upload(server, tmp_path, "imap_codice_l0_raw_20250101_v001.0000.pkts", b"codice packets")
        upload(server, tmp_path, "imap_hit_l0_raw_20250101_v001.0000.pkts", b"hit packets")

        # The limit violation: one firing per webhook, naming the run sdc found (the same as in the generator's truth).
        firing = wait_for(lambda: [p for p in receiver.payloads("/json") if p["rule"] == "swapi-hk-cmdexe"], "the limit alert", timeout=120)
        [hk1] = science_names(server, instrument="swapi", data_level="l1a", start_date="20250101")
        run, worst = longest_run(day1[1], limit)
        subject = f"swapi SWP_HK {PARAMETER}"
        assert firing[0]["status"] == "firing" and firing[0]["subject"] == subject and firing[0]["severity"] == "warning"
        assert firing[0]["summary"] == f"{subject} > {limit} for {run} consecutive samples (at least {SAMPLES}; worst {worst}) in {hk1}"
        assert firing[0]["resolved_at"] is None and firing[0]["source"]

        # A second violating day while the condition holds: recorded (the summary names its file), not notified.
        upload(server, tmp_path, "imap_swapi_l0_raw_20250102_v001.0000.pkts", day2[0].read_bytes())
        wait_for(lambda: science_names(server, instrument="swapi", data_level="l1a", start_date="20250102"), "day 2's L1A", timeout=120)
        [hk2] = science_names(server, instrument="swapi", data_level="l1a", start_date="20250102")
        wait_for(lambda: [a for a in alerts_json(server)["active"] if a["rule"] == "swapi-hk-cmdexe" and a["summary"].endswith(hk2)],
                 "day 2's check", timeout=60)
        # A clean day clears it: a recovery notice.
        upload(server, tmp_path, "imap_swapi_l0_raw_20250103_v001.0000.pkts", day3[0].read_bytes())
        wait_for(lambda: len([p for p in receiver.payloads("/slack") if "swapi-hk-cmdexe" in p["text"]]) == 2, "the limit recovery", timeout=120)

        # The failing algorithm and the late product (2 s requirement; the slow algorithm takes 6 s) and its arrival.
        failed = wait_for(lambda: [p for p in receiver.payloads("/json") if p["rule"] == "job-failed"], "the job failure alert", timeout=120)
        wait_for(lambda: len([p for p in receiver.payloads("/json") if p["rule"] == "hit-latency"]) == 2, "the latency alert and its recovery",
                 timeout=120)
        wait_for(lambda: len(receiver.payloads("/slack")) >= 5, "every Slack message", timeout=60)

        jobs = requests.get(f"{server.url}/api-key/processing-jobs", params={"instrument": "codice"}, headers={"x-api-key": server.read_key},
                            timeout=30).json()
        [codice_job] = [job for job in jobs if job["status"] == "FAILED"]
        hit_l0 = "imap_hit_l0_raw_20250101_v001.0000.pkts"
        expected = [
            ("firing", "swapi-hk-cmdexe", subject), ("resolved", "swapi-hk-cmdexe", subject),
            ("firing", "job-failed", f"job {codice_job['id']}"),
            ("firing", "hit-latency", f"{hit_l0} l1a"), ("resolved", "hit-latency", f"{hit_l0} l1a"),
        ]
        payloads = receiver.payloads("/json")
        assert sorted(map(summary, payloads)) == sorted(expected)
        for rule in ("swapi-hk-cmdexe", "hit-latency"):  # per condition, firing before resolved
            assert [p["status"] for p in payloads if p["rule"] == rule] == ["firing", "resolved"]
        assert failed[0]["summary"].endswith("failed after 1 attempt(s): exited with status 1")
        late = [p for p in payloads if p["rule"] == "hit-latency"][0]["summary"]
        assert late.startswith(f"no hit l1a product from {hit_l0} ") and late.endswith("(requirement 2s)")
        slack = receiver.payloads("/slack")
        assert sorted(p["text"].split(" — ")[0] for p in slack) == sorted(
            f"[{firing[0]['source']}] {'RESOLVED' if status == 'resolved' else severity} {rule}: {subj}"
            for (status, rule, subj), severity in zip(expected, ["WARNING", "", "CRITICAL", "CRITICAL", ""]))

        # Only the job failure is still active: in the CLI, the page and /metrics.
        listed = subprocess.run([sdc_bin, "alerts", "list", "--root", str(server.root), "--resolved", "5"], capture_output=True, text=True)
        assert listed.returncode == 0, listed.stderr
        active_part = listed.stdout.split("resolved:")[0]
        assert f"job {codice_job['id']}" in active_part and "swapi-hk-cmdexe" not in active_part
        assert "swapi-hk-cmdexe" in listed.stdout.split("resolved:")[1]
        page = requests.get(f"{server.url}/portal/alerts", timeout=30).text
        assert 'id="active-alerts"' in page and 'id="latency-hit-l1a"' in page and 'id="latency-swapi-l1a"' in page
        # The dashboard counts the active alert and plots the latencies.
        dashboard = requests.get(f"{server.url}/portal/dashboard", timeout=30).text
        assert '<strong id="active-alerts">1</strong>' in dashboard and 'id="chart-latency"' in dashboard
        latency = {(row["instrument"], row["level"]): row for row in alerts_json(server)["latency"]}
        assert latency[("swapi", "l1a")]["count"] == 3 and latency[("hit", "l1a")]["count"] == 1
        assert latency[("hit", "l1a")]["p50_seconds"] >= 2
        metrics = requests.get(f"{server.url}/metrics", timeout=30).text
        assert 'sdc_alerts_active{rule="job-failed",severity="critical"' in metrics
        assert 'sdc_latency_product_seconds_count{instrument="swapi",level="l1a"' in metrics
        assert 'sdc_latency_quantile_seconds{instrument="hit",level="l1a",quantile="0.99"' in metrics
        assert 'sdc_alerts_notifications_total{format="slack",outcome="delivered"' in metrics
    finally:
        server.stop()


def test_a_broken_rules_file_stops_serve_naming_the_line(sdc_bin, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: hk, type: limit, when: \"swapi SWP_HK X >> 3\"}\n")
    checked = subprocess.run([sdc_bin, "alerts", "check", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 1 and f"{rules}:2: '>>' is not one of" in checked.stderr
    served = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "root"), "--port", "0", "--alerts", str(rules)],
                            capture_output=True, text=True, timeout=60)
    assert served.returncode != 0 and f"{rules}:2:" in served.stderr
