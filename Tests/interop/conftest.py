"""Shared fixtures for the interoperability tests: the sdc binary, the shared test data and live servers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sdc_bin() -> str:
    """Path of the built `sdc` executable (SDC_BIN, else the debug build)."""
    path = os.environ.get("SDC_BIN") or str(REPO / ".build" / "debug" / "sdc")
    assert Path(path).is_file(), f"sdc binary not found at {path}: build it first (scripts/test does)"
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared reference folder (SDC_SHARED, else ../shared next to the repository)."""
    path = Path(os.environ.get("SDC_SHARED") or REPO.parent / "shared")
    assert (path / "testdata").is_dir(), f"shared test data not found at {path}"
    return path


def imap_cli() -> list[str]:
    """The real imap-data-access command line, from this interpreter's environment."""
    return [sys.executable, "-c", "from imap_data_access.cli import main; main()"]


class SDCServer:
    """An `sdc serve` process on 127.0.0.1 with a free port, over its own data folder."""

    def __init__(self, sdc_bin: str, root: Path, download: str = "stream", extra_args=()):
        self.sdc_bin = sdc_bin
        self.root = root
        self.download = download
        self.extra_args = list(extra_args)
        self.process = None
        self.url = None
        self.log_path = root.parent / f"{root.name}-server.log"
        self.start()
        self.write_key = self.create_key("write")
        self.read_key = self.create_key("read")
        self.admin_key = self.create_key("admin")

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.sdc_bin, "serve", "--root", str(self.root), "--host", "127.0.0.1", "--port", "0",
             "--download", self.download, *self.extra_args],
            stdout=subprocess.PIPE, stderr=log,
        )
        deadline = time.monotonic() + 60
        line = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith(b"sdc listening on "):
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"sdc serve exited with {self.process.returncode}: {self.log_path.read_text()}")
        else:
            raise RuntimeError("sdc serve did not report its address within 60 s")
        self.url = line.decode().strip().removeprefix("sdc listening on ")

    def create_key(self, scope: str) -> str:
        return subprocess.run([self.sdc_bin, "keys", "create", "--root", str(self.root), "--scope", scope, "--name", f"test-{scope}"],
                              check=True, capture_output=True, text=True).stdout.strip()

    def env(self, api_key=None, data_dir=None, access_token=None) -> dict:
        """Environment for a client subprocess pointed at this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
        env["IMAP_DATA_ACCESS_URL"] = self.url
        if api_key:
            env["IMAP_API_KEY"] = api_key
        if access_token:
            env["IMAP_ACCESS_TOKEN"] = access_token
        if data_dir:
            env["IMAP_DATA_DIR"] = str(data_dir)
        return env

    def kill(self):
        """SIGKILL: no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def sdc_server(request, sdc_bin, tmp_path):
    """A live server; parametrize indirectly with {"download": "stream"|"redirect"} to choose the download mode."""
    options = getattr(request, "param", None) or {}
    server = SDCServer(sdc_bin, tmp_path / "root", download=options.get("download", "stream"),
                       extra_args=options.get("args", ()))
    yield server
    server.stop()


def fresh_deployment(monkeypatch, database_url, s3_endpoint):
    """A new PostgreSQL database (beside `database_url`'s) and a new bucket on the S3 endpoint, set in the environment of
    every sdc process the test starts (SDC_DATABASE_URL, SDC_STORE_URL and test AWS credentials). Returns the
    database URL, the store URL and the bucket."""
    import uuid
    import requests
    name = "sdc_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", database_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    bucket = name.replace("_", "-")
    assert requests.put(f"{s3_endpoint}/{bucket}", timeout=30).status_code == 200
    database = database_url.rsplit("/", 1)[0] + "/" + name
    store = f"s3://{bucket}/archive?endpoint={s3_endpoint}&region=us-east-1"
    monkeypatch.setenv("SDC_DATABASE_URL", database)
    monkeypatch.setenv("SDC_STORE_URL", store)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return database, store, bucket


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (portal_browser.chromium), downloading into the test's folder."""
    from portal_browser import chromium

    driver = chromium(tmp_path / "downloads")
    yield driver
    driver.quit()


def wait_for(predicate, what="the condition", timeout=90, interval=0.25):
    """The predicate's first truthy value, polled every `interval` seconds; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
