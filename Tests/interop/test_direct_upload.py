"""Issue 10: direct-to-bucket uploads (`sdc serve --store s3://... --upload direct`). The real imap-data-access client
uploads straight into the bucket (moto, started by scripts/test); sdc learns of the object from an S3 event
notification posted to /s3-events, or from its reconciler's listing when events are off. Badly named or unrequested
objects are moved to rejected/ with a reason and never cataloged."""

import hashlib
import os
import re
import subprocess
import urllib.parse
import uuid
import boto3
import pytest
import requests

from conftest import REPO, SDCServer, imap_cli, wait_for

S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not S3_ENDPOINT, reason="SDC_TEST_S3_ENDPOINT is set by scripts/test (scripts/lib/moto.sh)")
PREFIX = "archive"
BUILT_IN_XTCE = REPO / "Sources" / "SDCPipeline" / "Resources" / "pipeline" / "xtce"


def s3():
    """A boto3 client of moto (which accepts any credentials on this endpoint)."""
    return boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def bucket_names(bucket, prefix=""):
    """Every object name under `prefix` of the bucket (ListObjectsV2, all pages)."""
    pages = s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [entry["Key"] for page in pages for entry in page.get("Contents", [])]


def object_bytes(bucket, name):
    return s3().get_object(Bucket=bucket, Key=name)["Body"].read()


def s3_event(bucket, object_name, size, event="ObjectCreated:Put"):
    """An S3 event notification as S3 posts it: the key URL-encoded (`+` for a space)."""
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": event,
                         "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                                "object": {"key": urllib.parse.quote_plus(object_name, safe="/"), "size": size}}}]}


def query(server, **params):
    reply = requests.get(f"{server.url}/api-key/query", params=params, headers={"x-api-key": server.read_key}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def upload(server, path):
    result = subprocess.run([*imap_cli(), "upload", str(path)], env=server.env(api_key=server.write_key), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def direct(sdc_bin, tmp_path, monkeypatch, request):
    """A server with direct uploads on a fresh bucket; parametrize indirectly with its extra arguments."""
    bucket = "sdc-direct-" + uuid.uuid4().hex[:12]
    assert requests.put(f"{S3_ENDPOINT}/{bucket}", timeout=30).status_code == 200
    monkeypatch.setenv("SDC_STORE_URL", f"s3://{bucket}/{PREFIX}?endpoint={S3_ENDPOINT}&region=us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--upload", "direct", *request.param])
    yield server, bucket
    server.stop()


@pytest.mark.parametrize("direct", [["--reconcile-seconds", "3600"]], indirect=True)
def test_the_client_uploads_into_the_bucket_and_the_event_catalogs_it_at_once(direct, tmp_path):
    server, bucket = direct
    name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    key = f"imap/swe/l1a/2024/01/{name}"
    payload = os.urandom(1024 * 1024 + 7)
    (tmp_path / name).write_bytes(payload)
    # /upload answers with a presigned PUT to the bucket itself, and asking again before the PUT (a retry) still works.
    for _ in range(2):
        grant = requests.get(f"{server.url}/api-key/upload/{name}", headers={"x-api-key": server.write_key}, timeout=30)
        assert grant.status_code == 200, grant.text
        assert grant.json().startswith(f"{S3_ENDPOINT}/{bucket}/{PREFIX}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    upload(server, tmp_path / name)
    assert object_bytes(bucket, f"{PREFIX}/{key}") == payload
    # The reconciler's next pass is an hour away: only the event can catalog it.
    assert query(server, instrument="swe") == []
    events = f"{server.url}/api-key/s3-events"
    event = s3_event(bucket, f"{PREFIX}/{key}", len(payload))
    assert requests.post(events, json=event, timeout=30).status_code == 401
    refused = requests.post(events, json=event, headers={"x-api-key": server.read_key}, timeout=30)
    assert refused.status_code == 403, refused.text
    posted = requests.post(events, json=event, headers={"x-api-key": server.write_key}, timeout=30)
    assert posted.status_code == 200, posted.text
    assert posted.json()["ingested"] == [key]
    assert [row["file_path"] for row in query(server, instrument="swe")] == [key]
    download = requests.get(f"{server.url}/api-key/download/{key}", headers={"x-api-key": server.read_key}, timeout=30)
    assert download.status_code == 200 and download.content == payload
    assert download.headers["x-checksum-sha256"] == hashlib.sha256(payload).hexdigest()
    # The same event again: a no-op. A second upload of the name: 409, as with relayed uploads.
    again = requests.post(events, json=event, headers={"x-api-key": server.write_key}, timeout=30)
    assert again.status_code == 200 and again.json()["already_cataloged"] == [key] and again.json()["ingested"] == []
    conflict = requests.get(f"{server.url}/api-key/upload/{name}", headers={"x-api-key": server.write_key}, timeout=30)
    assert conflict.status_code == 409 and conflict.json()["error"] == "FileAlreadyExists"
    # Events of another bucket, other event types and S3's test event are ignored.
    other = s3_event("another-bucket", f"{PREFIX}/{key}", 1)
    other["Records"] += s3_event(bucket, f"{PREFIX}/{key}", 1, event="ObjectRemoved:Delete")["Records"]
    ignored = requests.post(events, json=other, headers={"x-api-key": server.write_key}, timeout=30)
    assert ignored.status_code == 200 and ignored.json()["ignored"] == 2, ignored.text
    test_event = requests.post(events, json={"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket},
                               headers={"x-api-key": server.write_key}, timeout=30)
    assert test_event.status_code == 200, test_event.text
    # A malformed notification: 400 naming the problem.
    for body, problem in ((b"{\"Records\": [", "the body is not JSON"), (b"{\"Records\": [{\"s3\": {}}]}", "Records[0].eventName is missing")):
        bad = requests.post(events, data=body, headers={"x-api-key": server.write_key}, timeout=30)
        assert bad.status_code == 400 and bad.json()["error"] == "InvalidEventNotification", bad.text
        assert problem in bad.json()["message"]


@pytest.mark.parametrize("direct", [["--s3-events", "off", "--reconcile-seconds", "1"]], indirect=True)
def test_with_events_off_the_reconciler_catalogs_the_file_and_it_is_processed(direct, shared_dir, tmp_path):
    from packets_oracle import generate

    server, bucket = direct
    # The endpoint is switched off.
    off = requests.post(f"{server.url}/api-key/s3-events", json=s3_event(bucket, "x", 1), headers={"x-api-key": server.write_key}, timeout=30)
    assert off.status_code == 404
    packets = generate(shared_dir, BUILT_IN_XTCE / "swapi_packet_definition.xml", ["SWP_HK", "SWP_SCI"], 20, 11, tmp_path / "generated" / "swapi")
    name = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
    (tmp_path / name).write_bytes(packets.read_bytes())
    upload(server, tmp_path / name)
    level0 = wait_for(lambda: query(server, instrument="swapi", data_level="l0"), timeout=60)
    assert [row["file_path"] for row in level0] == [f"imap/swapi/l0/2025/01/{name}"]
    products = wait_for(lambda: (lambda rows: rows if len(rows) == 2 else None)(query(server, instrument="swapi", data_level="l1a")), timeout=120)
    assert sorted(row["file_path"].rsplit("/", 1)[1] for row in products) == ["imap_swapi_l1a_hk_20250101_v001.0001.cdf",
                                                                             "imap_swapi_l1a_sci_20250101_v001.0001.cdf"]
    # Objects written into the upload folder without an /upload request, or badly named, are set aside with a reason.
    strays = {f"{PREFIX}/imap/swapi/l0/2025/01/imap_swapi_l0_raw_20250102_v001.0000.pkts": "no /upload request reserved",
              f"{PREFIX}/imap/swapi/l0/2025/01/not an imap file.pkts": "does not match"}
    for stray in strays:
        s3().put_object(Bucket=bucket, Key=stray, Body=b"stray bytes")
    rejected = {f"{PREFIX}/rejected/{stray.removeprefix(PREFIX + '/')}": reason for stray, reason in strays.items()}
    wait_for(lambda: set(rejected) <= set(bucket_names(bucket, f"{PREFIX}/rejected/")), timeout=60)
    names = bucket_names(bucket, PREFIX + "/")
    for stray, reason in rejected.items():
        assert stray + ".reason" in names
        assert reason in object_bytes(bucket, stray + ".reason").decode()
        assert object_bytes(bucket, stray) == b"stray bytes"
    assert not set(strays) & set(names)
    assert [row["file_path"] for row in query(server, instrument="swapi", data_level="l0")] == [f"imap/swapi/l0/2025/01/{name}"]
    metrics = requests.get(f"{server.url}/metrics", timeout=30).text
    assert re.search(r'sdc_bucket_objects_total\{outcome="rejected",instance="[^"]+"\} 2', metrics), metrics


def test_direct_uploads_need_an_s3_store(sdc_bin, tmp_path):
    result = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "root"), "--port", "0", "--upload", "direct"],
                            capture_output=True, text=True, timeout=60, env={k: v for k, v in os.environ.items() if k != "SDC_STORE_URL"})
    assert result.returncode != 0
    assert "--upload direct" in result.stderr and "need an S3 store" in result.stderr, result.stderr


@pytest.mark.skipif(not os.environ.get("SDC_TEST_S3_AUTH_ENDPOINT"), reason="SDC_TEST_S3_AUTH_ENDPOINT is set by scripts/test")
def test_wrong_s3_credentials_are_one_clear_error_at_start_up(sdc_bin, tmp_path):
    """On the moto endpoint that checks signatures: the bucket check fails, naming the bucket and S3's error code."""
    endpoint = os.environ["SDC_TEST_S3_AUTH_ENDPOINT"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDC_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID=os.environ["SDC_TEST_S3_AUTH_ACCESS_KEY_ID"], AWS_SECRET_ACCESS_KEY="wrong-secret")
    result = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "root"), "--port", "0", "--upload", "direct",
                             "--store", f"s3://sdc-wrong-credentials/{PREFIX}?endpoint={endpoint}&region=us-east-1"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert "the object store s3://sdc-wrong-credentials/" in result.stderr and "SignatureDoesNotMatch" in result.stderr, result.stderr
