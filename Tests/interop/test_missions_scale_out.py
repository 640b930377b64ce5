"""Issue 14 scaled out: two `sdc serve --missions imap,hermes` replicas on one PostgreSQL database and one S3 bucket
(moto) share the mission catalog, so a HERMES file uploaded to one replica is sorted, processed and queried through
the other, and the other refuses a second file of the same name. scripts/test starts PostgreSQL and moto."""

import hashlib
import os
import sys

import pytest
import requests

from conftest import SDCServer, fresh_deployment, wait_for
from test_missions import PACKAGE, l0_bytes

DATABASE = os.environ.get("SDC_TEST_DATABASE_URL")
S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not (DATABASE and S3_ENDPOINT),
                                reason="SDC_TEST_DATABASE_URL and SDC_TEST_S3_ENDPOINT are set by scripts/test")


@pytest.fixture
def hermes_replicas(sdc_bin, tmp_path, monkeypatch):
    """Two replicas hosting IMAP and HERMES (with the test instrument package) on a fresh database and bucket."""
    _, _, bucket = fresh_deployment(monkeypatch, DATABASE, S3_ENDPOINT)
    args = ["--missions", "imap,hermes", "--mission-python", sys.executable, "--mission-pythonpath", str(PACKAGE)]
    first = SDCServer(sdc_bin, tmp_path / "replica-a", extra_args=args)
    second = SDCServer(sdc_bin, tmp_path / "replica-b", extra_args=args)
    yield first, second
    first.stop()
    second.stop()


def test_a_hermes_file_uploaded_to_one_replica_is_found_through_the_other(hermes_replicas):
    a, b = hermes_replicas
    name = "hermes_EEA_l0_2024042-000000_v0.bin"
    payload = l0_bytes()
    up = requests.put(f"{a.url}/missions/hermes/upload/{name}", data=payload, headers={"x-api-key": a.write_key}, timeout=30)
    assert up.status_code == 200, up.text
    l0_key = up.json()["file_path"]

    # Replica B lists the L0 at once, then the L1 that replica A's instrument package made from it, with its lineage.
    [listed] = requests.get(f"{b.url}/missions/hermes/query", params={"level": "l0"}, timeout=30).json()
    assert listed["file_path"] == l0_key and listed["sha256"] == hashlib.sha256(payload).hexdigest()

    def l1_rows():
        return requests.get(f"{b.url}/missions/hermes/query", params={"instrument": "eea", "level": "l1"}, timeout=30).json() or None

    [l1] = wait_for(l1_rows, "the L1 of the L0 uploaded to the other replica", timeout=120)
    assert l1["origins"] == [l0_key]
    [l0] = requests.get(f"{b.url}/missions/hermes/query", params={"level": "l0"}, timeout=30).json()
    assert l0["status"] == "success" and l0["processing_time"] > 0
    body = requests.get(f"{b.url}/missions/hermes/download/{l1['file_path']}", timeout=30)
    assert body.status_code == 200 and hashlib.sha256(body.content).hexdigest() == l1["sha256"]

    # The same name uploaded to replica B is refused (the file is already stored) and kept aside; both replicas list it.
    again = requests.put(f"{b.url}/missions/hermes/upload/{name}", data=b"other bytes", headers={"x-api-key": b.write_key}, timeout=30)
    assert again.status_code == 400 and again.json()["error"] == "InvalidFileName", again.text
    for server in (a, b):
        [rejected] = requests.get(f"{server.url}/missions/hermes/rejected", headers={"x-api-key": a.write_key}, timeout=30).json()
        assert rejected["name"] == name and rejected["size"] == len(b"other bytes") and l0_key in rejected["reason"]
    # The state is in the database, not in the replicas' folders.
    assert not (a.root / "missions.sqlite").exists() and not (b.root / "missions.sqlite").exists()
