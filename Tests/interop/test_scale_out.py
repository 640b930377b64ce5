"""Issue 10: two `sdc serve` replicas on one PostgreSQL database and one S3 bucket (moto), used by the real
imap-data-access client with requests alternating between the replicas. scripts/test starts PostgreSQL and moto
(scripts/lib/postgres.sh, scripts/lib/moto.sh) and exports their addresses."""

import os
import subprocess

import pytest
import requests

from conftest import SDCServer, fresh_deployment, imap_cli

DATABASE = os.environ.get("SDC_TEST_DATABASE_URL")
S3_ENDPOINT = os.environ.get("SDC_TEST_S3_ENDPOINT")
pytestmark = pytest.mark.skipif(not (DATABASE and S3_ENDPOINT),
                                reason="SDC_TEST_DATABASE_URL and SDC_TEST_S3_ENDPOINT are set by scripts/test")


@pytest.fixture
def replicas(sdc_bin, tmp_path, monkeypatch):
    """Two replicas (one streaming downloads, one redirecting them to S3) on a fresh database and bucket."""
    _, _, bucket = fresh_deployment(monkeypatch, DATABASE, S3_ENDPOINT)
    first = SDCServer(sdc_bin, tmp_path / "replica-a")
    second = SDCServer(sdc_bin, tmp_path / "replica-b", download="redirect")
    yield first, second, bucket
    first.stop()
    second.stop()


def cli(server, key, *args, data_dir=None):
    return subprocess.run([*imap_cli(), *args], env=server.env(api_key=key, data_dir=data_dir), capture_output=True, text=True)


def test_the_real_client_sees_one_data_center_through_either_replica(replicas, tmp_path):
    a, b, bucket = replicas
    # Keys live in the shared database: a key made on one replica's folder works on the other.
    assert a.write_key and b.read_key
    name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    payload = os.urandom(3 * 1024 * 1024 + 5)
    (tmp_path / name).write_bytes(payload)
    uploaded = cli(a, a.write_key, "upload", str(tmp_path / name))
    assert uploaded.returncode == 0, uploaded.stderr
    # The second upload of the same name is refused by the other replica.
    again = requests.get(f"{b.url}/api-key/upload/{name}", headers={"x-api-key": b.write_key}, timeout=30)
    assert again.status_code == 409 and again.json()["error"] == "FileAlreadyExists"
    # Queried through the other replica, with its own key.
    query = cli(b, a.read_key, "query", "--instrument", "swe", "--output-format", "json")
    assert query.returncode == 0, query.stderr
    assert '"imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"' in query.stdout
    # Downloads: streamed by replica A, and redirected to a presigned S3 GET by replica B; the bytes are the upload's.
    for server, folder in ((a, tmp_path / "stream"), (b, tmp_path / "redirect")):
        downloaded = cli(server, b.read_key, "download", name, data_dir=folder)
        assert downloaded.returncode == 0, downloaded.stderr
        assert (folder / "imap/swe/l1a/2024/01" / name).read_bytes() == payload
    redirect = requests.get(f"{b.url}/api-key/download/imap/swe/l1a/2024/01/{name}", headers={"x-api-key": b.read_key},
                            allow_redirects=False, timeout=30)
    assert redirect.status_code == 302 and redirect.headers["location"].startswith(S3_ENDPOINT)
    # The object is in the bucket under the configured prefix; embargoed files stay invisible to anonymous callers.
    listing = requests.get(f"{S3_ENDPOINT}/{bucket}", params={"list-type": "2"}, timeout=30).text
    assert f"<Key>archive/imap/swe/l1a/2024/01/{name}</Key>" in listing
    assert requests.get(f"{a.url}/query", params={"instrument": "swe"}, timeout=30).json() == []
