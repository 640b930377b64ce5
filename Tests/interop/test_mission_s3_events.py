"""Issue 14: files put straight into a mission's incoming area of the S3 bucket (moto), as an instrument team's
`aws s3 cp` does, enter the SWxSOC flow at once when an S3 event notification is posted to /s3-events (the body and
write key the IMAP direct path takes), or at the flow's next sweep when no event comes. A mission not hosted is
ignored. scripts/test starts moto."""

import os
import sys
import uuid

import pytest
import requests

from conftest import SDCServer, wait_for
from test_direct_upload import bucket_names, s3, s3_event
from test_missions import PACKAGE, l0_bytes

S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not S3_ENDPOINT, reason="SDC_TEST_S3_ENDPOINT is set by scripts/test (scripts/lib/moto.sh)")
PREFIX = "archive"


@pytest.fixture
def hermes_on_s3(sdc_bin, tmp_path, monkeypatch, request):
    """`sdc serve --missions imap,hermes` on a fresh bucket (no --upload direct), with the test instrument package;
    parametrize indirectly with extra arguments."""
    bucket = "sdc-events-" + uuid.uuid4().hex[:12]
    assert requests.put(f"{S3_ENDPOINT}/{bucket}", timeout=30).status_code == 200
    monkeypatch.setenv("SDC_STORE_URL", f"s3://{bucket}/{PREFIX}?endpoint={S3_ENDPOINT}&region=us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    args = ["--missions", "imap,hermes", "--mission-python", sys.executable, "--mission-pythonpath", str(PACKAGE), *request.param]
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=args)
    yield server, bucket
    server.stop()


def l1_rows(server):
    reply = requests.get(f"{server.url}/missions/hermes/query", params={"instrument": "eea", "level": "l1"}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json() or None


# The sweep is an hour away: only the event can bring the file in.
@pytest.mark.parametrize("hermes_on_s3", [["--reconcile-seconds", "3600"]], indirect=True)
def test_an_event_brings_a_file_put_into_the_incoming_area_into_the_flow(hermes_on_s3):
    server, bucket = hermes_on_s3
    name = "hermes_EEA_l0_2024042-000000_v0.bin"
    s3().put_object(Bucket=bucket, Key=f"{PREFIX}/hermes/incoming/{name}", Body=l0_bytes())
    events = f"{server.url}/api-key/s3-events"
    event = s3_event(bucket, f"{PREFIX}/hermes/incoming/{name}", len(l0_bytes()))
    assert requests.post(events, json=event, timeout=30).status_code == 401
    assert requests.post(events, json=event, headers={"x-api-key": server.read_key}, timeout=30).status_code == 403
    posted = requests.post(events, json=event, headers={"x-api-key": server.write_key}, timeout=30)
    assert posted.status_code == 200, posted.text
    assert posted.json()["ingested"] == [f"hermes/incoming/{name}"], posted.text

    # Sorted into the instrument's area at once, then processed to L1 by the instrument package, with lineage.
    [l0] = requests.get(f"{server.url}/missions/hermes/query", params={"level": "l0"}, timeout=30).json()
    assert l0["file_path"] == f"hermes/eea/l0/2024/02/11/{name}"
    assert f"{PREFIX}/hermes/incoming/{name}" not in bucket_names(bucket)
    [l1] = wait_for(lambda: l1_rows(server), "the L1 of the L0 announced by the S3 event", timeout=120)
    assert l1["origins"] == [l0["file_path"]]

    # The same event again (S3 delivers at least once): the object is gone, nothing changes.
    again = requests.post(events, json=event, headers={"x-api-key": server.write_key}, timeout=30)
    assert again.status_code == 200 and again.json()["gone"] == [f"hermes/incoming/{name}"], again.text

    # A badly named file is kept aside with the reason; an event for a mission not hosted here is ignored, its object untouched.
    bad = "hermes_XYZ_l0_2024042-000000_v0.bin"
    s3().put_object(Bucket=bucket, Key=f"{PREFIX}/hermes/incoming/{bad}", Body=b"unknown instrument")
    s3().put_object(Bucket=bucket, Key=f"{PREFIX}/padre/incoming/padre_MEDDEA_l0_2024042-000000_v0.bin", Body=b"padre")
    both = s3_event(bucket, f"{PREFIX}/hermes/incoming/{bad}", 18)
    both["Records"] += s3_event(bucket, f"{PREFIX}/padre/incoming/padre_MEDDEA_l0_2024042-000000_v0.bin", 5)["Records"]
    decided = requests.post(events, json=both, headers={"x-api-key": server.write_key}, timeout=30)
    assert decided.status_code == 200, decided.text
    [rejected] = decided.json()["rejected"]
    assert rejected["name"] == f"hermes/incoming/{bad}" and "XYZ" in rejected["reason"]
    assert decided.json()["ignored"] == 1
    [kept] = requests.get(f"{server.url}/missions/hermes/rejected", headers={"x-api-key": server.write_key}, timeout=30).json()
    assert kept["name"] == bad and kept["size"] == 18
    assert f"{PREFIX}/padre/incoming/padre_MEDDEA_l0_2024042-000000_v0.bin" in bucket_names(bucket)


# No events: the flow's sweep of the incoming areas (every second here) brings the file in.
@pytest.mark.parametrize("hermes_on_s3", [["--s3-events", "off", "--reconcile-seconds", "1"]], indirect=True)
def test_without_events_the_sweep_brings_the_file_in(hermes_on_s3):
    server, bucket = hermes_on_s3
    off = requests.post(f"{server.url}/api-key/s3-events", json=s3_event(bucket, "x", 1), headers={"x-api-key": server.write_key}, timeout=30)
    assert off.status_code == 404
    name = "hermes_EEA_l0_2024043-000000_v0.bin"
    s3().put_object(Bucket=bucket, Key=f"{PREFIX}/hermes/incoming/{name}", Body=l0_bytes())
    [l1] = wait_for(lambda: l1_rows(server), "the L1 of the L0 found by the sweep", timeout=120)
    assert l1["origins"] == [f"hermes/eea/l0/2024/02/12/{name}"]
