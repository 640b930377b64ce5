"""Issue 10: a database outage while serving. Requests get `503` with the JSON error body (not 500s, not hangs),
nothing half-done is left, and service resumes by itself when the database returns. Runs on a PostgreSQL cluster of
its own (initdb, ~1 s), since the test stops and restarts it."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import SDCServer, wait_for

PG_BIN = max(glob.glob("/usr/lib/postgresql/*/bin"), default=None, key=lambda p: [int(x) for x in Path(p).parent.name.split(".")])
pytestmark = pytest.mark.skipif(not (os.environ.get("SDC_TEST_DATABASE_URL") and PG_BIN),
                                reason="PostgreSQL is installed and started by scripts/test (SDC_TEST_DATABASE_URL)")


class PrivatePostgres:
    """A throwaway cluster on a free loopback port that the test may stop and start again on the same port."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="sdc-outage-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        subprocess.run([*self.as_user, f"{PG_BIN}/initdb", "-D", str(self.folder / "data"), "-U", self.user, "--auth=trust",
                        "--no-locale", "-E", "UTF8"], check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.start()
        subprocess.run([*self.as_user, f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "sdc"],
                       check=True, capture_output=True)
        self.url = f"postgres://{self.user}@127.0.0.1:{self.port}/sdc"

    def start(self):
        subprocess.run([*self.as_user, f"{PG_BIN}/pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w",
                        "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off", "start"],
                       check=True, capture_output=True)

    def stop(self):
        subprocess.run([*self.as_user, f"{PG_BIN}/pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
                       check=True, capture_output=True)

    def remove(self):
        subprocess.run([*self.as_user, f"{PG_BIN}/pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def server_on_postgres(sdc_bin, tmp_path, monkeypatch):
    database = PrivatePostgres()
    monkeypatch.setenv("SDC_DATABASE_URL", database.url)
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--workers", "0"])
    yield server, database
    server.stop()
    database.remove()


def upload(server, name, content):
    answer = requests.get(f"{server.url}/upload/{name}", headers={"x-api-key": server.write_key}, timeout=30)
    if answer.status_code != 200:
        return answer
    return requests.put(answer.json(), data=content, timeout=30)


def test_requests_get_503_while_the_database_is_down_and_service_resumes(server_on_postgres):
    server, database = server_on_postgres
    before = "imap_swe_l1a_sci_20240105_v001.0001.cdf"
    assert upload(server, before, b"before the outage").status_code == 200

    database.stop()
    headers = {"x-api-key": server.read_key}
    started = time.monotonic()
    for call in (lambda: requests.get(f"{server.url}/query", params={"instrument": "swe"}, headers=headers, timeout=30),
                 lambda: requests.get(f"{server.url}/download/imap/swe/l1a/2024/01/{before}", headers=headers, timeout=30),
                 lambda: upload(server, "imap_swe_l1a_sci_20240106_v001.0001.cdf", b"during the outage"),
                 lambda: requests.get(f"{server.url}/health/ready", timeout=30)):
        answer = call()
        assert answer.status_code == 503, (answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["error"] in ("ServiceUnavailable", "NotReady"), body
        if body["error"] == "ServiceUnavailable":
            assert f"127.0.0.1:{database.port}" in body["message"] and answer.headers["retry-after"] == "5", body
    # Answered, not hung: every request above failed fast.
    assert time.monotonic() - started < 60

    database.start()
    wait_for(lambda: requests.get(f"{server.url}/query", params={"instrument": "swe"}, headers=headers, timeout=30).status_code == 200,
             "queries answer again after the database returns")
    # The upload refused during the outage left nothing behind: it succeeds now, and both files are served.
    retried = upload(server, "imap_swe_l1a_sci_20240106_v001.0001.cdf", b"after the outage")
    assert retried.status_code == 200, retried.text
    names = sorted(r["file_path"].rsplit("/", 1)[-1]
                   for r in requests.get(f"{server.url}/query", params={"instrument": "swe"}, headers=headers, timeout=30).json())
    assert names == [before, "imap_swe_l1a_sci_20240106_v001.0001.cdf"]
    downloaded = requests.get(f"{server.url}/download/imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240106_v001.0001.cdf",
                              headers=headers, timeout=30)
    assert downloaded.content == b"after the outage"


def test_an_unreachable_database_or_bucket_at_start_up_is_one_clear_error(sdc_bin, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDC_DATABASE", "SDC_STORE"))}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    # Port 1 on loopback: nothing listens there.
    database = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "a"), "--port", "0",
                               "--database", "postgres://sdc@127.0.0.1:1/mission"], capture_output=True, text=True, timeout=60, env=env)
    assert database.returncode != 0
    assert "the database cannot be used: cannot reach the PostgreSQL database 'mission' at 127.0.0.1:1" in database.stderr, database.stderr
    bucket = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "b"), "--port", "0",
                             "--store", "s3://archive?endpoint=http://127.0.0.1:1&region=us-east-1"], capture_output=True, text=True,
                            timeout=60, env=env)
    assert bucket.returncode != 0
    assert "the object store s3://archive?endpoint=http://127.0.0.1:1&region=us-east-1 cannot be used" in bucket.stderr, bucket.stderr
    assert len(bucket.stderr.strip().splitlines()) <= 2, bucket.stderr
