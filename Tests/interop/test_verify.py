"""Issue 12 (integrity): `sdc verify` re-reads every stored object and compares it with the catalog, on the filesystem
store and on an S3 bucket (moto); a flipped byte, a truncated file, a deleted object and an orphan are each reported,
and nothing is changed. `sdc serve`'s background scrub finds the same problems and exports them in /metrics and on
the portal's integrity page."""
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest
import requests

from conftest import SDCServer, imap_cli, wait_for

S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
NAMES = ["imap_swapi_l1a_sci_20250101_v001.0001.cdf", "imap_swapi_l1a_sci_20250102_v001.0001.cdf",
         "imap_swapi_l1a_sci_20250103_v001.0001.cdf", "imap_swapi_l1a_sci_20250104_v001.0001.cdf",
         "imap_mag_l1a_norm-raw_20250101_v001.0001.cdf"]
ORPHAN = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250109_v001.0001.cdf"


def key(name: str) -> str:
    parts = name.split("_")
    return f"imap/{parts[1]}/{parts[2]}/{parts[4][:4]}/{parts[4][4:6]}/{name}"


EXPECTED = {key(NAMES[0]): "corrupt", key(NAMES[1]): "corrupt", key(NAMES[2]): "missing", ORPHAN: "orphaned"}


def content(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest() * 8192  # 256 KiB


def upload_all(server: SDCServer, folder: Path):
    folder.mkdir(exist_ok=True)
    for name in NAMES:
        (folder / name).write_bytes(content(name))
        result = subprocess.run([*imap_cli(), "upload", str(folder / name)], env=server.env(api_key=server.write_key),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr


def verify(server: SDCServer, *args, env=None):
    result = subprocess.run([server.sdc_bin, "verify", "--root", str(server.root), "--json", *args], capture_output=True,
                            text=True, timeout=300, env=env)
    return result.returncode, json.loads(result.stdout), result.stderr


class FilesystemObjects:
    """The objects of an embedded data center, damaged in place as a failing disk would."""

    def __init__(self, root: Path):
        self.folder = root / "objects"

    def flip_byte(self, name: str, offset: int):
        with open(self.folder / key(name), "r+b") as handle:
            handle.seek(offset)
            byte = handle.read(1)
            handle.seek(offset)
            handle.write(bytes([byte[0] ^ 0x01]))

    def truncate(self, name: str, size: int):
        os.truncate(self.folder / key(name), size)

    def delete(self, name: str):
        (self.folder / key(name)).unlink()

    def add(self, object_key: str, data: bytes):
        path = self.folder / object_key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def snapshot(self):
        """Every file with its size, modification time, inode and SHA-256."""
        state = {}
        for path in self.folder.rglob("*"):
            if path.is_file():
                status = path.stat()
                state[str(path.relative_to(self.folder))] = (status.st_size, status.st_mtime_ns, status.st_ino,
                                                             hashlib.sha256(path.read_bytes()).hexdigest())
        return state


class BucketObjects:
    """The objects of a data center's bucket (moto), damaged by rewriting them behind its back."""

    def __init__(self, bucket: str, prefix: str):
        self.client = boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
        self.bucket, self.prefix = bucket, prefix

    def _get(self, name):
        return self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key(name)}")["Body"].read()

    def flip_byte(self, name: str, offset: int):
        data = bytearray(self._get(name))
        data[offset] ^= 0x01
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key(name)}", Body=bytes(data))

    def truncate(self, name: str, size: int):
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key(name)}", Body=self._get(name)[:size])

    def delete(self, name: str):
        self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key(name)}")

    def add(self, object_key: str, data: bytes):
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{object_key}", Body=data)

    def snapshot(self):
        """Every object with its size, ETag and last-modified time."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return {entry["Key"]: (entry["Size"], entry["ETag"], entry["LastModified"]) for page in pages for entry in page.get("Contents", [])}


def damage(objects):
    objects.flip_byte(NAMES[0], 100_000)
    objects.truncate(NAMES[1], 1000)
    objects.delete(NAMES[2])
    objects.add(ORPHAN, b"no catalog row names me")


def check_verify_reports_and_changes_nothing(server: SDCServer, objects, env=None):
    upload_all(server, server.root.parent / "uploads")
    status, report, _ = verify(server, "--all", env=env)
    assert status == 0 and report["findings"] == [] and report["objects_checked"] == len(NAMES)
    damage(objects)
    before = objects.snapshot()
    status, report, stderr = verify(server, "--all", env=env)
    assert status == 1, stderr
    assert {finding["key"]: finding["problem"] for finding in report["findings"]} == EXPECTED
    assert report["counts"] == {"corrupt": 2, "missing": 1, "orphaned": 1, "unreadable": 0}
    truncated = next(f for f in report["findings"] if f["key"] == key(NAMES[1]))
    assert "1000 bytes" in truncated["detail"] and str(len(content(NAMES[1]))) in truncated["detail"]
    # One instrument: MAG's file is intact.
    status, report, _ = verify(server, "--instrument", "mag", env=env)
    assert status == 0 and report["objects_checked"] == 1
    assert objects.snapshot() == before


def test_verify_on_the_filesystem_store(sdc_server):
    check_verify_reports_and_changes_nothing(sdc_server, FilesystemObjects(sdc_server.root))
    # The human-readable report: one line per problem, then the totals.
    result = subprocess.run([sdc_server.sdc_bin, "verify", "--root", str(sdc_server.root), "--all"], capture_output=True, text=True)
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and len(lines) == 5 and lines[-1].endswith("2 corrupt, 1 missing, 1 orphaned, 0 unreadable")
    assert lines[0].startswith("corrupt    imap/swapi/l1a/2025/01/")


@pytest.mark.skipif(not S3_ENDPOINT, reason="SDC_TEST_S3_ENDPOINT is set by scripts/test (scripts/lib/moto.sh)")
def test_verify_on_an_s3_bucket(sdc_bin, tmp_path, monkeypatch):
    bucket = "sdc-verify-" + uuid.uuid4().hex[:12]
    assert requests.put(f"{S3_ENDPOINT}/{bucket}", timeout=30).status_code == 200
    monkeypatch.setenv("SDC_STORE_URL", f"s3://{bucket}/archive?endpoint={S3_ENDPOINT}&region=us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = SDCServer(sdc_bin, tmp_path / "root")
    try:
        check_verify_reports_and_changes_nothing(server, BucketObjects(bucket, "archive"))
    finally:
        server.stop()


def metric(server: SDCServer, name: str, labels: str):
    for line in requests.get(f"{server.url}/metrics", timeout=30).text.splitlines():
        if line.startswith(f"{name}{{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.parametrize("sdc_server", [{"args": ["--scrub-period", "1s", "--scrub-rate", "100MB/s"]}], indirect=True)
def test_the_background_scrub_exports_its_findings(sdc_server):
    upload_all(sdc_server, sdc_server.root.parent / "uploads")
    objects = FilesystemObjects(sdc_server.root)
    damage(objects)
    before = objects.snapshot()
    expected = {"corrupt": 2, "missing": 1, "orphaned": 1, "unreadable": 0}
    wait_for(lambda: all(metric(sdc_server, "sdc_integrity_problems", f'problem="{problem}"') == count for problem, count in expected.items()),
             "a scrub pass to find every problem", timeout=60)
    assert metric(sdc_server, "sdc_integrity_scrubbing", "instance=") == 1
    status = requests.get(f"{sdc_server.url}/portal/integrity.json", timeout=30).json()
    assert status["scrubbing"] and status["last_pass"]["problems"] == expected
    page = requests.get(f"{sdc_server.url}/portal/integrity", timeout=30).text
    assert 'id="problems-corrupt">2<' in page and "Sign in to see which objects" in page
    assert objects.snapshot() == before
