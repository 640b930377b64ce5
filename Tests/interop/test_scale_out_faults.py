"""Issue 10's fault scenarios on the scaled-out deployment: replicas on one PostgreSQL database and one S3 bucket
(moto), started by scripts/test. A replica killed during a 200 MiB upload leaves nothing visible and the upload then
succeeds through the other; four workers in two processes (one on the database, one through the job API) on two
replicas process 100 days of Level 0 exactly once each, and a worker killed mid-job has its job taken over once."""

import hashlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import SDCServer, fresh_deployment, wait_for
from packets_oracle import generate

DATABASE = os.environ.get("SDC_TEST_DATABASE_URL")
S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not (DATABASE and S3_ENDPOINT),
                                reason="SDC_TEST_DATABASE_URL and SDC_TEST_S3_ENDPOINT are set by scripts/test")
REPO = Path(__file__).resolve().parents[2]
SWAPI_XTCE = REPO / "Sources" / "SDCPipeline" / "Resources" / "pipeline" / "xtce" / "swapi_packet_definition.xml"


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A fresh database and bucket in the environment of every sdc process started by the test."""
    database, store, bucket = fresh_deployment(monkeypatch, DATABASE, S3_ENDPOINT)
    servers = []
    yield {"database": database, "store": store, "bucket": bucket, "servers": servers}
    for server in servers:
        server.stop()


def replica(deployment, sdc_bin, root: Path, *args) -> SDCServer:
    server = SDCServer(sdc_bin, root, extra_args=list(args))
    deployment["servers"].append(server)
    return server


def upload_url(server, name):
    answer = requests.get(f"{server.url}/upload/{name}", headers={"x-api-key": server.write_key}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def query(server, **params):
    answer = requests.get(f"{server.url}/query", params=params, headers={"x-api-key": server.read_key}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def jobs(server, **params):
    answer = requests.get(f"{server.url}/processing-jobs", params={"limit": 10000, **params},
                          headers={"x-api-key": server.write_key}, timeout=30)  # write keys see worker ids
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_replica_killed_mid_upload_leaves_nothing_and_the_upload_then_succeeds(deployment, sdc_bin, tmp_path):
    a = replica(deployment, sdc_bin, tmp_path / "replica-a", "--workers", "0")
    b = replica(deployment, sdc_bin, tmp_path / "replica-b", "--workers", "0")
    name = "imap_swe_l1a_sci_20240105_v001.0001.cdf"
    key = f"imap/swe/l1a/2024/01/{name}"
    block = os.urandom(1 << 20)
    size = 200 << 20

    def body(kill_after_mib=None):
        for index in range(size >> 20):
            if index == kill_after_mib:
                a.kill()  # SIGKILL replica A in the middle of the stream it is receiving
            yield bytes([index % 256]) + block[1:]

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(upload_url(a, name), data=body(kill_after_mib=64), timeout=120)
    # Nothing is visible: not in the catalog, not downloadable, not an object in the bucket.
    assert query(b, instrument="swe") == []
    assert requests.get(f"{b.url}/download/{key}", headers={"x-api-key": b.read_key}, timeout=30).status_code == 404
    listing = requests.get(f"{S3_ENDPOINT}/{deployment['bucket']}", params={"list-type": "2"}, timeout=30).text
    assert f"<Key>archive/{key}</Key>" not in listing

    # The same upload through the other replica succeeds, and the file is whole.
    expected = hashlib.sha256()
    for chunk in body():
        expected.update(chunk)
    answer = requests.put(upload_url(b, name), data=body(), timeout=300)
    assert answer.status_code == 200, answer.text
    [row] = query(b, instrument="swe")
    assert row["file_path"] == key
    downloaded = hashlib.sha256()
    with requests.get(f"{b.url}/download/{key}", headers={"x-api-key": b.read_key}, stream=True, timeout=300) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(1 << 20):
            downloaded.update(chunk)
    assert downloaded.hexdigest() == expected.hexdigest()


def test_four_workers_on_two_replicas_process_every_day_once_and_a_killed_workers_job_once_more(deployment, sdc_bin, shared_dir, tmp_path):
    a = replica(deployment, sdc_bin, tmp_path / "replica-a", "--workers", "0")
    b = replica(deployment, sdc_bin, tmp_path / "replica-b", "--workers", "0")
    packets = generate(shared_dir, SWAPI_XTCE, ["SWP_HK", "SWP_SCI"], 20, 3, tmp_path / "generated" / "swapi").read_bytes()
    days = [f"2025{month:02d}{day:02d}" for month in range(1, 5) for day in range(1, 26)]
    assert len(days) == 100

    # Two worker processes with two workers each: one on the database and the bucket, one through replica B's job API.
    lease = ["--lease-seconds", "3"]
    on_database = [sdc_bin, "worker", "--url", a.url, "--root", str(tmp_path / "worker-db"), "--workers", "2", *lease]
    through_api = [sdc_bin, "worker", "--url", b.url, "--api-key", b.write_key, "--workers", "2", *lease]
    workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker-{index}.log", "wb"))
               for index, command in enumerate((on_database, through_api))]
    try:
        for index, day in enumerate(days):
            server = (a, b)[index % 2]
            answer = requests.put(upload_url(server, f"imap_swapi_l0_raw_{day}_v001.pkts"), data=packets, timeout=60)
            assert answer.status_code == 200, answer.text
        finished = wait_for(lambda: (lambda js: js if len(js) == 100 and all(j["status"] == "SUCCEEDED" for j in js) else None)(
            jobs(a, instrument="swapi", data_level="l1a")), "100 L1A jobs succeeded", timeout=600)
        # Every product exactly once, and no job ran twice.
        products = [row["file_path"] for row in query(b, instrument="swapi", data_level="l1a")]
        assert len(products) == len(set(products)) == 200
        assert sorted({Path(p).name.split("_")[4] for p in products}) == sorted(days)
        assert all(job["attempts"] == 1 for job in finished), [j for j in finished if j["attempts"] != 1]
        outputs = [output for job in finished for output in job["outputs"]]
        assert sorted(outputs) == sorted(Path(p).name for p in products) or sorted(outputs) == sorted(products)

        # A worker killed mid-job: one more day, many packets, so its job runs long enough to be caught running.
        big = generate(shared_dir, SWAPI_XTCE, ["SWP_HK", "SWP_SCI"], 40000, 4, tmp_path / "generated" / "big").read_bytes()
        answer = requests.put(upload_url(a, "imap_swapi_l0_raw_20250501_v001.pkts"), data=big, timeout=60)
        assert answer.status_code == 200, answer.text
        running = wait_for(lambda: [j for j in jobs(a, instrument="swapi", data_level="l1a", start_date="20250501")
                                    if j["status"] == "RUNNING"], "the new day's job running", timeout=180)
        victim = running[0]
        owner = next(w for w in workers if f"-{w.pid}-" in victim["worker_id"])
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
        done = wait_for(lambda: [j for j in jobs(a, instrument="swapi", data_level="l1a", start_date="20250501")
                                 if j["status"] == "SUCCEEDED"], "the killed worker's job taken over", timeout=300)
        assert [j["id"] for j in done] == [victim["id"]] and done[0]["attempts"] == 2
        rows = query(a, instrument="swapi", data_level="l1a", start_date="20250501", end_date="20250501")
        assert len(rows) == 2
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
