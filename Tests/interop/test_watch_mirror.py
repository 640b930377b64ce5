"""`sdc watch` (the FSWatcher) and `sdc mirror` (the S3Watcher) against a live `sdc serve` on 127.0.0.1.

The server's request log (one `request` line per request with method, path and status) is the witness of what was
sent: every file must be PUT exactly once, a badly named one never; the catalog (`GET /query`) must hold every file.
"""

import datetime
import hashlib
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import wait_for

REQUEST = re.compile(r"method=(\w+) path=(\S+) status=(\d+)")


def requests_logged(server, method, prefix):
    """Counter of paths (without `prefix`) of `method` requests answered 2xx, from the server's log."""
    counts = Counter()
    for line in server.log_path.read_text().splitlines():
        match = REQUEST.search(line)
        if match and match[1] == method and match[2].startswith(prefix) and match[3].startswith("2"):
            counts[match[2][len(prefix):]] += 1
    return counts


def stored_keys(server, instrument, table="science"):
    """Storage keys of the instrument's files in the catalog (authenticated: released or not, every version)."""
    rows = []
    for major in (None, "1", "2") if table == "science" else (None,):
        params = {"table": table, "instrument": instrument}
        if major:
            params["major_version"] = major
        response = requests.get(f"{server.url}/api-key/query", params=params, headers={"x-api-key": server.read_key}, timeout=30)
        response.raise_for_status()
        rows += response.json()
    return {row["file_path"] for row in rows}


def upload(server, name, data):
    """Uploads bytes under `name` through the API (GET /upload, PUT to the returned URL)."""
    headers = {"x-api-key": server.write_key}
    response = requests.get(f"{server.url}/api-key/upload/{name}", headers=headers, timeout=30)
    response.raise_for_status()
    requests.put(response.json(), data=data, headers=headers, timeout=30).raise_for_status()


def key_of(name):
    """The storage key of a science file name `imap_<instr>_<level>_<desc>_<YYYYMMDD>_<version>.<ext>`."""
    instrument, level, _, date = name.split("_")[1:5]
    return f"imap/{instrument}/{level}/{date[:4]}/{date[4:6]}/{name}"


class Watcher:
    """An `sdc watch` process with its log in a file."""

    def __init__(self, sdc_bin, server, folder: Path, log: Path, *args, key=None):
        self.log = log
        self.process = subprocess.Popen(
            [sdc_bin, "watch", str(folder), "--url", server.url, "--api-key", key or server.write_key, "--progress-interval", "1", *args],
            stdout=subprocess.DEVNULL, stderr=open(log, "ab"))

    def text(self):
        return self.log.read_text()

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def watcher_factory(sdc_bin, sdc_server, tmp_path):
    started = []

    def start(folder, *args, key=None):
        watcher = Watcher(sdc_bin, sdc_server, folder, tmp_path / f"watch-{len(started)}.log", *args, key=key)
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        if watcher.process.poll() is None:
            watcher.kill()


def burst(folder: Path, first, count):
    """`count` small files `imap_codice_l0_bNNNNN_20250101_v001.pkts` written at once; returns their names."""
    names = []
    for number in range(first, first + count):
        name = f"imap_codice_l0_b{number:05d}_20250101_v001.pkts"
        (folder / name).write_bytes(f"packet {number}\n".encode() * 4)
        names.append(name)
    return names


def test_watch_uploads_each_file_once_across_a_kill_and_rejects_bad_names(sdc_bin, sdc_server, watcher_factory, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    watcher = watcher_factory(folder)
    wait_for(lambda: "watching" in watcher.text(), "the watcher to start", timeout=30)

    # Written slowly: three chunks with pauses longer than nothing, the file open all along.
    slow = folder / "imap_codice_l0_slow_20250102_v001.pkts"
    with open(slow, "wb") as handle:
        for chunk in range(3):
            handle.write(bytes([chunk]) * 100_000)
            handle.flush()
            time.sleep(0.4)
    # Renamed in from a hidden temporary name (hidden names are ignored), in a subfolder made after the start.
    (folder / "sub" / "deeper").mkdir(parents=True)
    hidden = folder / "sub" / "deeper" / ".partial"
    hidden.write_bytes(b"renamed in\n")
    renamed = folder / "sub" / "deeper" / "imap_codice_l0_moved_20250103_v001.pkts"
    os.rename(hidden, renamed)
    (folder / "notes.txt").write_text("not a data file\n")

    names = burst(folder, 0, 600)
    # Kill the watcher mid-burst, once some (not all) files are in.
    wait_for(lambda: len(requests_logged(sdc_server, "PUT", "/objects/")) >= 50, "the first uploads of the burst", timeout=120)
    watcher.kill()
    assert len(requests_logged(sdc_server, "PUT", "/objects/")) < 603, "the burst finished before the kill: nothing was tested"
    names += burst(folder, 600, 400)  # lands while the watcher is down

    restarted = watcher_factory(folder)
    expected = {key_of(name) for name in names} | {key_of(slow.name), key_of(renamed.name)}
    wait_for(lambda: expected <= stored_keys(sdc_server, "codice"), "every file to be queryable", timeout=300)

    # A restart finds nothing more to send: one new file goes up, nothing else.
    assert restarted.stop() == 0
    assert "stopped" in restarted.text()
    again = watcher_factory(folder)
    late = burst(folder, 5000, 1)
    wait_for(lambda: key_of(late[0]) in stored_keys(sdc_server, "codice"), "the file written after the second restart", timeout=60)
    assert again.stop() == 0

    puts = requests_logged(sdc_server, "PUT", "/objects/")
    assert set(puts) == expected | {key_of(late[0])}
    assert [key for key, count in puts.items() if count != 1] == []
    assert not any("notes.txt" in path for path in requests_logged(sdc_server, "GET", "/api-key/upload/"))

    # The slow file went up whole.
    response = requests.head(f"{sdc_server.url}/api-key/download/{key_of(slow.name)}", headers={"x-api-key": sdc_server.read_key}, timeout=30)
    assert response.headers["x-checksum-sha256"] == hashlib.sha256(slow.read_bytes()).hexdigest()

    # The bad name is in rejected/ beside its reason, and gone from the folder.
    assert not (folder / "notes.txt").exists()
    assert (folder / "rejected" / "notes.txt").read_text() == "not a data file\n"
    reason = (folder / "rejected" / "notes.txt.reason").read_text()
    assert "notes.txt is not a valid IMAP file name" in reason


def test_watch_polling_backfill_after_upload_and_conflicts(sdc_bin, sdc_server, watcher_factory, tmp_path):
    folder = tmp_path / "incoming"
    sent = tmp_path / "sent"
    (folder / "day1").mkdir(parents=True)
    old = folder / "day1" / "imap_hit_l0_raw_20250101_v001.pkts"
    old.write_bytes(b"there before the watcher\n")
    args = ("--detection", "poll", "--poll-interval", "0.2", "--after-upload", f"move:{sent}")

    # Without --backfill a file that was there before the first start is left alone ...
    first = watcher_factory(folder, *args)
    fresh = folder / "day1" / "imap_hit_l0_raw_20250102_v001.pkts"
    wait_for(lambda: "watching" in first.text(), "the watcher to start", timeout=30)
    fresh.write_bytes(b"arrived while watching\n")
    wait_for(lambda: (sent / "day1" / fresh.name).exists(), "the new file to be uploaded and moved", timeout=60)
    assert "left alone" in first.text() and old.exists()
    assert first.stop() == 0

    # ... and uploaded with --backfill.
    second = watcher_factory(folder, *args, "--backfill")
    wait_for(lambda: (sent / "day1" / old.name).exists(), "the backfilled file to be uploaded and moved", timeout=60)
    assert not old.exists()

    # The same name again: identical bytes count as done (moved too); different bytes are a conflict, left in place.
    (folder / "again").mkdir()
    same = folder / "again" / fresh.name
    same.write_bytes(b"arrived while watching\n")
    wait_for(lambda: (sent / "again" / fresh.name).exists(), "the identical copy to be accepted", timeout=60)
    (folder / "other").mkdir()
    different = folder / "other" / old.name
    different.write_bytes(b"different bytes under a stored name\n")
    wait_for(lambda: "conflict" in second.text(), "the conflict to be reported", timeout=60)
    assert different.exists()
    assert "already in the data center with the same bytes" in second.text()
    assert second.stop() == 0

    puts = requests_logged(sdc_server, "PUT", "/objects/")
    assert puts == Counter({key_of(fresh.name): 1, key_of(old.name): 1})
    response = requests.head(f"{sdc_server.url}/api-key/download/{key_of(old.name)}", headers={"x-api-key": sdc_server.read_key}, timeout=30)
    assert response.headers["x-checksum-sha256"] == hashlib.sha256(b"there before the watcher\n").hexdigest()


def test_watch_with_a_read_only_key_fails_at_once_and_retries_at_the_next_start(sdc_bin, sdc_server, watcher_factory, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    name = "imap_codice_l0_raw_20250105_v001.pkts"
    (folder / name).write_bytes(b"data\n")
    reader = watcher_factory(folder, "--backfill", key=sdc_server.read_key)
    wait_for(lambda: "upload failed; tried again at the next start" in reader.text(), "the refused upload to be reported", timeout=60)
    assert "attempts=1" in reader.text() and "may not upload" in reader.text()
    assert reader.stop() == 0
    writer = watcher_factory(folder)
    wait_for(lambda: key_of(name) in stored_keys(sdc_server, "codice"), "the upload with a write key", timeout=60)
    assert writer.stop() == 0


def run_mirror(sdc_bin, server, folder, *args, api_key=True, check=True):
    command = [sdc_bin, "mirror", server.url, str(folder), *args]
    if api_key:
        command += ["--api-key", server.read_key]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def local_files(folder: Path):
    """Files of the mirror (relative paths), without its state folder."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file() and ".sdc-mirror" not in path.parts}


def science(instrument, day, version="v001.0000", descriptor="sci", extension="cdf"):
    """An L1A name starting `day` days after 2024-12-31."""
    date = (datetime.date(2024, 12, 31) + datetime.timedelta(days=day)).strftime("%Y%m%d")
    return f"imap_{instrument}_l1a_{descriptor}_{date}_{version}.{extension}"


def test_mirror_filters_resume_corruption_versions_and_embargo(sdc_bin, sdc_server, tmp_path):
    contents = {}
    for day in range(1, 41):
        name = science("codice", day)
        contents[name] = os.urandom(64 * 1024)
        upload(sdc_server, name, contents[name])
    for day in range(1, 4):
        name = science("hit", day)
        contents[name] = os.urandom(1000)
        upload(sdc_server, name, contents[name])
    codice = {key_of(name) for name in contents if "_codice_" in name}
    mirror = tmp_path / "mirror"
    download_prefix = "/api-key/download/"

    # Interrupted: killed once a few files are complete; the rerun downloads only what was missing.
    process = subprocess.Popen([sdc_bin, "mirror", sdc_server.url, str(mirror), "--instrument", "codice", "--concurrency", "1",
                                "--api-key", sdc_server.read_key], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len([f for f in local_files(mirror) if ".part-" not in f]) >= 3, "the first downloads", timeout=60, interval=0.01)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = {f for f in local_files(mirror) if ".part-" not in f}
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice", "--concurrency", "4")
    assert local_files(mirror) == codice  # filtered to codice, no partial files left
    gets = requests_logged(sdc_server, "GET", download_prefix)
    assert set(gets) == codice
    assert still_running, "the first mirror finished before it could be interrupted: nothing was tested"
    assert all(gets[key] == 1 for key in before)
    assert sum(gets.values()) <= len(codice) + 1
    for key in codice:
        assert hashlib.sha256((mirror / key).read_bytes()).hexdigest() == hashlib.sha256(contents[Path(key).name]).hexdigest()

    # Nothing changed: a rerun downloads nothing.
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice")
    assert requests_logged(sdc_server, "GET", download_prefix) == gets

    # A corrupted copy (a flipped byte) is detected and fetched again; with the time put back only --verify sees it.
    corrupt = mirror / key_of(science("codice", 25))
    data = bytearray(corrupt.read_bytes())
    data[100] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice")
    assert corrupt.read_bytes() == contents[corrupt.name]
    sneaky = mirror / key_of(science("codice", 26))
    stat = sneaky.stat()
    data = bytearray(sneaky.read_bytes())
    data[7] ^= 0x01
    sneaky.write_bytes(bytes(data))
    os.utime(sneaky, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice")
    assert sneaky.read_bytes() != contents[sneaky.name]
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice", "--verify")
    assert sneaky.read_bytes() == contents[sneaky.name]
    again = requests_logged(sdc_server, "GET", download_prefix) - gets
    assert again == Counter({str(corrupt.relative_to(mirror)): 1, str(sneaky.relative_to(mirror)): 1})

    # A new version appears: downloaded incrementally, the old one kept; --latest keeps only the newest.
    newer = science("codice", 1, version="v001.0001")
    contents[newer] = b"second version\n"
    upload(sdc_server, newer, contents[newer])
    run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice")
    assert (mirror / key_of(newer)).read_bytes() == b"second version\n"
    assert (mirror / key_of(science("codice", 1))).exists()
    result = run_mirror(sdc_bin, sdc_server, mirror, "--instrument", "codice", "--latest", "--log-level", "info")
    assert not (mirror / key_of(science("codice", 1))).exists()
    assert (mirror / key_of(newer)).exists()
    assert "superseded" in result.stderr
    assert requests_logged(sdc_server, "GET", download_prefix)[key_of(newer)] == 1

    # Without a key only released files are mirrored; a file embargoed again is withdrawn (deleted locally).
    public = tmp_path / "public"
    released = [science("hit", day) for day in (1, 2)]
    manifest = "imap_hit_data-release-001_20250101_20250131_v001.txt"
    upload(sdc_server, manifest, "\n".join(released).encode() + b"\n")
    headers = {"x-api-key": sdc_server.write_key}
    requests.get(f"{sdc_server.url}/api-key/release", params={"release_type": "early-release", "manifest_file": manifest},
                 headers=headers, timeout=30).raise_for_status()
    run_mirror(sdc_bin, sdc_server, public, "--instrument", "hit", api_key=False)
    assert local_files(public) == {key_of(name) for name in released}
    withdrawn = "imap_hit_data-release-001_20250101_20250131_v002.txt"
    upload(sdc_server, withdrawn, released[0].encode() + b"\n")
    requests.get(f"{sdc_server.url}/api-key/release", params={"release_type": "unrelease", "manifest_file": withdrawn},
                 headers=headers, timeout=30).raise_for_status()
    result = run_mirror(sdc_bin, sdc_server, public, "--instrument", "hit", "--reconcile-hours", "0", "--log-level", "info", api_key=False)
    assert local_files(public) == {key_of(released[1])}
    assert "withdrawn" in result.stderr

    # --watch keeps going until SIGTERM.
    watching = subprocess.Popen([sdc_bin, "mirror", sdc_server.url, str(mirror), "--instrument", "codice", "--watch", "0.3",
                                 "--api-key", sdc_server.read_key], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    later = science("codice", 28, descriptor="burst")
    upload(sdc_server, later, b"arrived later\n")
    wait_for(lambda: (mirror / key_of(later)).exists(), "the mirror to fetch the new file", timeout=60)
    watching.send_signal(signal.SIGTERM)
    assert watching.wait(timeout=60) == 0
