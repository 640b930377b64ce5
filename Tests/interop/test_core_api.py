"""Issue 2 acceptance: the unmodified imap-data-access 1.3.0 client (CLI and Python API) against a live sdc serve."""

import hashlib
import http.client
import signal
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import SDCServer, imap_cli

SCIENCE = [
    "imap_swe_l1a_sci_20240105_v001.0001.cdf",
    "imap_swe_l1a_sci_20240105_v001.0002.cdf",
    "imap_swe_l1a_sci_20240106_v001.0000.cdf",
    "imap_swe_l1b_sci_20240105_v001.0000.cdf",
    "imap_mag_l1a_norm-magi_20240312_v002.0000.cdf",
    "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf",
    "imap_glows_l3e_survival-probability-ul_20250415-cr02301_v001.0002.cdf",
    "imap_swapi_l0_raw_20240105_v001.0000.pkts",
]
ANCILLARY = [
    "imap_mag_l1b-cal_20250101_v001.cdf",
    "imap_mag_l1b-cal_20250101_20250201_v002.cdf",
    "imap_swapi_lut-notes_20250301_v001.csv",
]
SPICE = [
    "naif0012.tls",
    "imap_sclk_0012.tsc",
    "imap_2025_118_2025_120_01.ah.bc",
    "imap_2025_118_2025_120_02.ah.bc",
    "imap_pred_od025_20260303_20260414_v01.bsp",
]


def content(name: str) -> bytes:
    """Distinct, reproducible bytes for each file."""
    return (f"contents of {name}\n" * 50).encode()


def run_cli(server: SDCServer, *args, api_key=None, data_dir=None, check=True):
    result = subprocess.run([*imap_cli(), *args], env=server.env(api_key=api_key, data_dir=data_dir),
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def upload_all(server: SDCServer, folder: Path, names):
    for name in names:
        path = folder / name
        path.write_bytes(content(name))
        out = run_cli(server, "upload", str(path), api_key=server.write_key).stdout
        assert "Successfully uploaded the file to the IMAP SDC" in out


def query_json(server, *args, api_key=None):
    out = run_cli(server, "query", *args, "--output-format", "json", api_key=api_key).stdout
    return json.loads(out)


@pytest.fixture
def populated(sdc_server, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    upload_all(sdc_server, uploads, SCIENCE + ANCILLARY + SPICE)
    return sdc_server


def test_science_query_filters(populated):
    server, key = populated, populated.write_key
    names = lambda rows: sorted(Path(r["file_path"]).name for r in rows)
    # Default: every minor version of the newest major per series.
    rows = query_json(server, "--instrument", "swe", api_key=key)
    assert names(rows) == sorted(SCIENCE[:4])
    row = next(r for r in rows if r["file_path"].endswith("20240105_v001.0002.cdf"))
    assert row["file_path"] == "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0002.cdf"
    assert list(row) == ["file_path", "instrument", "data_level", "descriptor", "start_date", "repointing", "major_version",
                         "minor_version", "ingestion_date", "cr", "crid", "released", "extension", "version"]
    assert row["released"] is False and row["version"] == "v001.0002"
    assert names(query_json(server, "--instrument", "swe", "--version", "latest", api_key=key)) == [
        "imap_swe_l1a_sci_20240105_v001.0002.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf", "imap_swe_l1b_sci_20240105_v001.0000.cdf"]
    assert names(query_json(server, "--instrument", "swe", "--data-level", "l1b", api_key=key)) == ["imap_swe_l1b_sci_20240105_v001.0000.cdf"]
    assert names(query_json(server, "--descriptor", "norm-magi", api_key=key)) == ["imap_mag_l1a_norm-magi_20240312_v002.0000.cdf"]
    assert names(query_json(server, "--instrument", "swe", "--start-date", "20240106", api_key=key)) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"]
    assert len(query_json(server, "--instrument", "swe", "--end-date", "20240105", api_key=key)) == 3
    assert names(query_json(server, "--instrument", "hi", "--repointing", "repoint00012", api_key=key)) == [SCIENCE[5]]
    assert names(query_json(server, "--instrument", "swe", "--major-version", "1", "--minor-version", "1", api_key=key)) == [SCIENCE[0]]
    assert names(query_json(server, "--instrument", "swapi", "--extension", "pkts", api_key=key)) == [SCIENCE[7]]
    today = time.strftime("%Y%m%d", time.gmtime())
    assert len(query_json(server, "--ingestion-start-date", today, "--ingestion-end-date", today, api_key=key)) == len(SCIENCE)
    assert query_json(server, "--ingestion-end-date", "20200101", api_key=key) == []
    glows = query_json(server, "--instrument", "glows", api_key=key)[0]
    assert glows["cr"] == 2301 and glows["repointing"] is None


def test_science_table_output(populated):
    out = run_cli(populated, "query", "--instrument", "hi", api_key=populated.write_key).stdout
    assert out.startswith("Found [1] matching files in science table\n")
    assert "| Repointing |" in out and "| 12 " in out and SCIENCE[5] in out
    assert run_cli(populated, "query", "--instrument", "codice", api_key=populated.write_key).stdout == "Found [0] matching files\n"


def test_ancillary_and_spice_queries(populated):
    server = populated
    rows = query_json(server, "--table", "ancillary", "--instrument", "mag")
    assert sorted(Path(r["file_path"]).name for r in rows) == sorted(ANCILLARY[:2])
    assert list(rows[0]) == ["file_path", "instrument", "descriptor", "start_date", "end_date", "version", "extension",
                             "ingestion_date", "released"]
    assert [r["version"] for r in query_json(server, "--table", "ancillary", "--instrument", "mag", "--version", "latest")] == ["v002"]
    assert query_json(server, "--table", "ancillary", "--descriptor", "lut-notes", "--extension", "csv")[0]["file_path"] == \
        "imap/ancillary/swapi/imap_swapi_lut-notes_20250301_v001.csv"
    table = run_cli(server, "query", "--table", "ancillary", "--instrument", "mag").stdout
    assert table.startswith("Found [2] matching files in ancillary table\n") and "| None     |" in table
    kernels = query_json(server, "--table", "spice", "--type", "attitude_history")
    assert sorted(k["file_name"] for k in kernels) == ["ck/imap_2025_118_2025_120_01.ah.bc", "ck/imap_2025_118_2025_120_02.ah.bc"]
    assert [k["file_name"] for k in query_json(server, "--table", "spice", "--type", "attitude_history", "--version", "latest")] == \
        ["ck/imap_2025_118_2025_120_02.ah.bc"]
    assert [k["file_name"] for k in query_json(server, "--table", "spice", "--type", "ephemeris_predicted", "--start-date", "20260401")] == \
        ["spk/imap_pred_od025_20260303_20260414_v01.bsp"]
    assert query_json(server, "--table", "spice", "--type", "ephemeris_predicted", "--start-date", "20260501") == []
    today = time.strftime("%Y%m%d", time.gmtime())
    assert len(query_json(server, "--table", "spice", "--type", "leapseconds", "--ingestion-start-date", today)) == 1
    spice_table = run_cli(server, "query", "--table", "spice", "--type", "spacecraft_clock").stdout
    assert spice_table.startswith("Found [1] matching files in spice table\n") and "sclk/imap_sclk_0012.tsc" in spice_table


def test_anonymous_callers_do_not_see_unreleased_files(populated):
    assert query_json(populated, "--instrument", "swe") == []
    assert len(query_json(populated, "--instrument", "swe", api_key=populated.read_key)) == 4
    # Ancillary files are released on arrival; SPICE kernels are always public.
    assert len(query_json(populated, "--table", "ancillary", "--instrument", "mag")) == 2
    key = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0002.cdf"
    anonymous = requests.get(f"{populated.url}/download/{key}", timeout=30)
    assert anonymous.status_code == 403 and "not a part of a public release" in anonymous.text
    assert requests.get(f"{populated.url}/download/imap/spice/lsk/naif0012.tls", timeout=30).content == content("naif0012.tls")


def test_upload_errors_reach_the_user(populated, tmp_path):
    server = populated
    path = tmp_path / SCIENCE[0]
    path.write_bytes(b"other bytes")
    again = run_cli(server, "upload", str(path), api_key=server.write_key, check=False)
    assert again.returncode == 1 and "409 Conflict" in again.stderr and "FileAlreadyExists" in again.stderr
    fresh = tmp_path / "imap_swe_l1a_sci_20240107_v001.0000.cdf"
    fresh.write_bytes(b"x")
    read_only = run_cli(server, "upload", str(fresh), api_key=server.read_key, check=False)
    assert read_only.returncode == 1 and "403 Forbidden" in read_only.stderr and "read-only permissions" in read_only.stderr
    wrong = run_cli(server, "upload", str(fresh), api_key="sdc_not_a_key", check=False)
    assert wrong.returncode == 1 and "403 Forbidden" in wrong.stderr and "Invalid API key" in wrong.stderr
    bad = tmp_path / "imap_swe_l9_sci_20240105_v001.0000.cdf"
    bad.write_bytes(b"x")
    invalid = run_cli(server, "upload", str(bad), api_key=server.write_key, check=False)
    assert invalid.returncode == 1 and "400 Bad Request" in invalid.stderr
    # The CLI prints repr(exception), which escapes the quotes.
    assert "invalid data level 'l9' in imap_swe_l9_sci_20240105_v001.0000.cdf: expected one of l0, l1, l1a" in invalid.stderr.replace("\\'", "'")
    # The stored bytes are untouched by the refused second upload.
    assert requests.get(f"{server.url}/api-key/download/imap/swe/l1a/2024/01/{SCIENCE[0]}",
                        headers={"x-api-key": server.read_key}, timeout=30).content == content(SCIENCE[0])


@pytest.mark.parametrize("sdc_server", [{"download": "stream"}, {"download": "redirect"}], indirect=True)
def test_download_in_both_modes_returns_the_uploaded_bytes(sdc_server, tmp_path):
    uploads, data = tmp_path / "uploads", tmp_path / "data"
    uploads.mkdir()
    data.mkdir()
    upload_all(sdc_server, uploads, [SCIENCE[1], ANCILLARY[0], SPICE[4]])
    for name in [SCIENCE[1], ANCILLARY[0], SPICE[4]]:
        out = run_cli(sdc_server, "download", name, api_key=sdc_server.read_key, data_dir=data).stdout
        target = Path(out.strip().removeprefix("Successfully downloaded the file to: "))
        assert target.read_bytes() == content(name)
    assert (data / "imap/swe/l1a/2024/01" / SCIENCE[1]).is_file()
    assert (data / "imap/spice/spk" / SPICE[4]).is_file()
    response = requests.get(f"{sdc_server.url}/api-key/download/imap/swe/l1a/2024/01/{SCIENCE[1]}",
                            headers={"x-api-key": sdc_server.read_key}, allow_redirects=False, timeout=30)
    assert response.headers["x-checksum-sha256"] == hashlib.sha256(content(SCIENCE[1])).hexdigest()
    if sdc_server.download == "redirect":
        assert response.status_code == 302 and "/objects/" in response.headers["Location"]
        assert json.loads(response.text)["download_url"] == response.headers["Location"]
        tampered = response.headers["Location"].replace("X-Sdc-Signature=", "X-Sdc-Signature=0")
        assert requests.get(tampered, timeout=30).status_code == 403
    else:
        assert response.status_code == 200
        ranged = requests.get(response.url, headers={"x-api-key": sdc_server.read_key, "Range": "bytes=5-14"}, timeout=30)
        assert ranged.status_code == 206 and ranged.content == content(SCIENCE[1])[5:15]
        assert ranged.headers["Content-Range"] == f"bytes 5-14/{len(content(SCIENCE[1]))}"


def test_python_api_and_authorized_prefix(sdc_server, tmp_path):
    """The library API, in-process, including the bearer-token route family and release."""
    script = f"""
import imap_data_access, pathlib, json
from imap_data_access.io import IMAPDataAccessError
imap_data_access.config["DATA_ACCESS_URL"] = {sdc_server.url!r}
imap_data_access.config["DATA_DIR"] = pathlib.Path({str(tmp_path / 'data')!r})
imap_data_access.config["API_KEY"] = None
imap_data_access.config["ACCESS_TOKEN"] = {sdc_server.write_key!r}
p = pathlib.Path({str(tmp_path)!r}) / "imap_codice_l1a_hi-counters_20250101_v001.0000.cdf"
p.write_bytes(b"codice")
imap_data_access.upload(p)
rows = imap_data_access.query(instrument="codice")
assert [r["file_path"] for r in rows] == ["imap/codice/l1a/2025/01/imap_codice_l1a_hi-counters_20250101_v001.0000.cdf"], rows
path = imap_data_access.download("imap_codice_l1a_hi-counters_20250101_v001.0000.cdf")
assert path.read_bytes() == b"codice"
imap_data_access.config["ACCESS_TOKEN"] = None
imap_data_access.config["API_KEY"] = {sdc_server.write_key!r}
m = pathlib.Path({str(tmp_path)!r}) / "imap_codice_data-release-001_20250101_20250131_v001.txt"
m.write_text("imap_codice_l1a_hi-counters_20250101_v001.0000.cdf\\n")
imap_data_access.upload(m)
imap_data_access.reprocess(start_date="20250101", end_date="20250102", instrument="codice")
print("OK")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "OK", result.stderr
    release = requests.get(f"{sdc_server.url}/api-key/release", params={"release_type": "release",
                           "manifest_file": "imap_codice_data-release-001_20250101_20250131_v001.txt"},
                           headers={"x-api-key": sdc_server.write_key}, timeout=30)
    assert release.status_code == 200 and release.json()["manifest_file"] == "imap/release/codice/imap_codice_data-release-001_20250101_20250131_v001.txt"
    assert requests.get(f"{sdc_server.url}/api-key/release", params={"release_type": "release", "manifest_file": "x.txt"},
                        headers={"x-api-key": sdc_server.read_key}, timeout=30).status_code == 403


def test_reprocess_is_validated_and_recorded(sdc_server):
    ok = run_cli(sdc_server, "reprocess", "--start-date", "20250101", "--end-date", "20250105", "--instrument", "swapi",
                 "--data-level", "l1", "--descriptor", "sci", api_key=sdc_server.write_key)
    assert "Successfully triggered reprocessing" in ok.stdout
    url = f"{sdc_server.url}/api-key/reprocess"
    headers = {"x-api-key": sdc_server.write_key}
    assert requests.post(url, params={"start_date": "20250101"}, headers=headers, timeout=30).status_code == 400
    bad = requests.post(url, params={"start_date": "20250101", "end_date": "20250102", "data_level": "l1"}, headers=headers, timeout=30)
    assert bad.status_code == 400 and "instrument and descriptor are required" in bad.json()["message"]
    assert requests.post(url, params={"start_date": "20250101", "end_date": "20250102"},
                         headers={"x-api-key": sdc_server.read_key}, timeout=30).status_code == 403
    assert requests.post(f"{sdc_server.url}/reprocess", params={"start_date": "20250101", "end_date": "20250102"}, timeout=30).status_code == 401


def test_invalid_parameters_get_400_with_the_reason(sdc_server):
    response = requests.get(f"{sdc_server.url}/query", params={"colour": "red"}, timeout=30)
    assert response.status_code == 400 and response.json()["message"].startswith("colour is not a valid query parameter for science table")
    response = requests.get(f"{sdc_server.url}/query", params={"version": "1.2"}, timeout=30)
    assert response.json()["message"] == "Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'."
    assert requests.get(f"{sdc_server.url}//query", params={"instrument": "swe"}, timeout=30).json() == []
    assert requests.get(f"{sdc_server.url}/download/", timeout=30).status_code == 400
    assert requests.get(f"{sdc_server.url}/download/imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf",
                        timeout=30).status_code == 404
    missing_key = requests.get(f"{sdc_server.url}/api-key/query", params={"instrument": "swe"}, timeout=30)
    assert missing_key.status_code == 401


TRAVERSALS = [
    "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "imap/%2e%2e/%2e%2e/secret",
    "/etc/passwd", "%2fetc%2fpasswd", "imap\\..\\..\\x.cdf", "imap%5c..%5cx.cdf", "imap/%00/x.cdf",
    "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf%00.cdf", "a" * 5000, ".incoming/x.part",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_rejected_and_writes_nothing_outside(sdc_server, tmp_path, path):
    before = set(p for p in tmp_path.rglob("*"))
    headers = {"x-api-key": sdc_server.write_key}
    for route in ["download", "upload"]:
        response = requests.get(f"{sdc_server.url}/api-key/{route}/{path}", headers=headers, timeout=30)
        assert response.status_code in (400, 404), (route, path, response.status_code, response.text)
    put = requests.put(f"{sdc_server.url}/objects/{path}", data=b"evil", timeout=30)
    assert put.status_code in (400, 403, 404), (path, put.status_code)
    # Nothing new anywhere under the test folder except the server's own log and catalog journal.
    after = set(p for p in tmp_path.rglob("*"))
    new = [p for p in after - before if not p.name.endswith((".log", "-wal", "-shm"))]
    assert new == []


def test_upload_url_must_match_the_key(sdc_server):
    """A presigned PUT URL is bound to its key and method: it cannot be replayed for another object."""
    name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    url = requests.get(f"{sdc_server.url}/api-key/upload/{name}", headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
    other = url.replace("20240105_v001.0000", "20240106_v001.0000")
    assert requests.put(other, data=b"x", timeout=30).status_code == 403
    assert requests.get(url, timeout=30).status_code == 403
    assert requests.put(url, data=b"x", headers={"Content-Type": "", "x-api-key": sdc_server.write_key}, timeout=30).status_code == 200


@pytest.mark.parametrize("sdc_server", [{"args": ["--max-upload-size", "1000"]}], indirect=True)
def test_uploads_over_the_limit_get_413(sdc_server, tmp_path):
    path = tmp_path / "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    path.write_bytes(b"x" * 1001)
    result = run_cli(sdc_server, "upload", str(path), api_key=sdc_server.write_key, check=False)
    assert result.returncode == 1 and "413" in result.stderr and "EntityTooLarge" in result.stderr
    assert query_json(sdc_server, "--instrument", "swe", api_key=sdc_server.write_key) == []


def test_sigkill_during_a_large_upload_leaves_nothing_visible(sdc_server, tmp_path):
    name = "imap_mag_l0_raw_20250101_v001.0000.pkts"
    key = f"imap/mag/l0/2025/01/{name}"
    total = 200 * 1024 * 1024
    url = requests.get(f"{sdc_server.url}/api-key/upload/{name}", headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
    sent = []
    # Uploads acknowledged before the crash (L1B, so that no processing job starts) must all survive it.
    acknowledged = {}
    for index in range(8):
        small = f"imap_swe_l1b_sci_202501{index + 1:02d}_v001.0000.cdf"
        small_url = requests.get(f"{sdc_server.url}/api-key/upload/{small}", headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
        content = os.urandom(4096 + 997 * index)
        answer = requests.put(small_url, data=content, timeout=30)
        assert answer.status_code == 200, answer.text
        acknowledged[answer.json()["file_path"]] = content

    def upload():
        """Sends the declared 200 MiB body in 1 MiB writes with http.client (requests would switch to chunked)."""
        parsed = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        try:
            connection.putrequest("PUT", f"{parsed.path}?{parsed.query}")
            connection.putheader("Content-Length", str(total))
            connection.putheader("Content-Type", "")
            connection.endheaders()
            chunk = b"\x5a" * (1024 * 1024)
            for _ in range(total // len(chunk)):
                connection.send(chunk)
                sent.append(len(chunk))
        except OSError:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.monotonic() + 60
    while sum(sent) < 50 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(sent) >= 50 * 1024 * 1024, "the upload did not get going"
    sdc_server.kill()
    thread.join(timeout=60)
    objects = sdc_server.root / "objects"
    assert not (objects / key).exists()
    # The partial bytes were in a nameless file (O_TMPFILE), gone with the process: no file has a partial name. Only
    # where the filesystem has no O_TMPFILE is there a named temporary file, in .incoming, for recovery to remove.
    visible = sorted(str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file())
    assert [p for p in visible if not p.startswith(".incoming/")] == sorted(acknowledged)
    assert all(p.endswith(".part") for p in visible if p.startswith(".incoming/"))
    # Restart on the same folder: recovery removes any partial file and the reservation; the upload then succeeds.
    sdc_server.start()
    assert list((objects / ".incoming").iterdir()) == []
    assert query_json(sdc_server, "--instrument", "mag", api_key=sdc_server.write_key) == []
    # Nothing acknowledged was lost: cataloged, and downloadable whole.
    rows = query_json(sdc_server, "--instrument", "swe", api_key=sdc_server.write_key)
    assert sorted(r["file_path"] for r in rows) == sorted(acknowledged)
    for row in rows:
        answer = requests.get(f"{sdc_server.url}/download/{row['file_path']}", headers={"x-api-key": sdc_server.read_key}, timeout=30)
        assert answer.status_code == 200 and answer.content == acknowledged[row["file_path"]]
    path = tmp_path / name
    path.write_bytes(os.urandom(3 * 1024 * 1024))
    run_cli(sdc_server, "upload", str(path), api_key=sdc_server.write_key)
    rows = query_json(sdc_server, "--instrument", "mag", api_key=sdc_server.write_key)
    assert [r["file_path"] for r in rows] == [key]
    assert (objects / key).read_bytes() == path.read_bytes()


def test_large_transfers_keep_server_memory_bounded(sdc_server):
    """1 GiB in and out: the server streams both ways, so its peak RSS stays far below the file size.
    (An L1B product, so that no processing job is triggered by the upload.)"""
    name = "imap_mag_l1b_norm-mago_20250103_v001.0000.cdf"
    total = 1024 * 1024 * 1024
    url = requests.get(f"{sdc_server.url}/api-key/upload/{name}", headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
    connection.putrequest("PUT", f"{parsed.path}?{parsed.query}")
    connection.putheader("Content-Length", str(total))
    connection.endheaders()
    chunk = bytes(range(256)) * 4096
    digest = hashlib.sha256()
    for _ in range(total // len(chunk)):
        connection.send(chunk)
        digest.update(chunk)
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read())["sha256"] == digest.hexdigest()
    connection.close()
    received = hashlib.sha256()
    count = 0
    with requests.get(f"{sdc_server.url}/api-key/download/imap/mag/l1b/2025/01/{name}", headers={"x-api-key": sdc_server.read_key},
                      stream=True, timeout=300) as download:
        for block in download.iter_content(1 << 20):
            received.update(block)
            count += len(block)
    assert count == total and received.hexdigest() == digest.hexdigest()
    status = Path(f"/proc/{sdc_server.process.pid}/status").read_text()
    peak_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    assert peak_kib < 100 * 1024, f"server peak RSS {peak_kib // 1024} MiB for a {total >> 20} MiB transfer"


def test_repoint_table_serves_webpoda(sdc_server, tmp_path):
    """imap-data-access's webpoda asks the unprefixed /repoint-table for the newest repoint file and downloads it."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    upload_all(sdc_server, uploads, ["imap_2025_120_01.repoint.csv", "imap_2025_118_2025_120_01.spin.csv"])
    time.sleep(1.1)  # ingestion dates have one-second resolution; webpoda takes the newest
    upload_all(sdc_server, uploads, ["imap_2025_121_02.repoint.csv"])
    script = f"""
import imap_data_access, pathlib
from imap_data_access.webpoda import get_repoint_file
imap_data_access.config["DATA_ACCESS_URL"] = {sdc_server.url!r}
imap_data_access.config["DATA_DIR"] = pathlib.Path({str(tmp_path / 'data')!r})
imap_data_access.config["API_KEY"] = {sdc_server.read_key!r}
path = get_repoint_file()
print(path.relative_to(imap_data_access.config["DATA_DIR"]).as_posix())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imap/spice/repoint/imap_2025_121_02.repoint.csv"
    rows = requests.get(f"{sdc_server.url}/repoint-table", params={"end_date": "20250430"}, timeout=30).json()
    assert rows[0] == {"file_path": "imap/spice/repoint/imap_2025_120_01.repoint.csv", "end_date": "2025-04-30, 00:00:00",
                       "version": "01", "ingestion_date": rows[0]["ingestion_date"]}
    spin = requests.get(f"{sdc_server.url}/spin-table", timeout=30).json()
    assert [list(row) for row in spin] == [["file_path", "start_date", "end_date", "version", "ingestion_date"]]
    bad = requests.get(f"{sdc_server.url}/repoint-table", params={"type": "x"}, timeout=30)
    assert bad.status_code == 400 and "is not a valid query parameter for repoint table" in bad.json()["message"]


def test_release_manifest_makes_products_public(sdc_server, tmp_path):
    """imap-data-access's `release` uploads a manifest and asks for it to be applied; anonymous users then see the
    released products, except those a withhold manifest lists."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    january = ["imap_swe_l1a_sci_20240105_v001.0000.cdf", "imap_swe_l1b_sci_20240110_v001.0000.cdf",
               "imap_swe_l1a_sci_20240120_v001.0000.cdf"]
    upload_all(sdc_server, uploads, [*january, "imap_swe_l1a_sci_20240201_v001.0000.cdf"])
    assert query_json(sdc_server, "--instrument", "swe") == []
    manifest = uploads / "imap_swe_withhold-data-release-001_20240101_20240131_v001.txt"
    manifest.write_text(f"# withheld pending calibration\n{january[2]}\n")
    result = run_cli(sdc_server, "release", "--release-type", "release", "--manifest-file", str(manifest), api_key=sdc_server.write_key)
    assert "Successfully submitted release request" in result.stdout
    public = sorted(Path(r["file_path"]).name for r in query_json(sdc_server, "--instrument", "swe"))
    assert public == sorted(january[:2])
    assert requests.get(f"{sdc_server.url}/download/imap/swe/l1a/2024/01/{january[0]}", timeout=30).content == content(january[0])
    assert requests.get(f"{sdc_server.url}/download/imap/swe/l1a/2024/01/{january[2]}", timeout=30).status_code == 403
    # Unrelease one of them again; names not in the catalog are reported, not fatal.
    undo = uploads / "imap_swe_recall_20240101_20240131_v001.txt"
    undo.write_text(f"{january[0]}\nimap_swe_l1a_sci_20240199_v001.0000.cdf\n")
    run_cli(sdc_server, "upload", str(undo), api_key=sdc_server.write_key)
    answer = requests.get(f"{sdc_server.url}/api-key/release", params={"release_type": "unrelease", "manifest_file": undo.name},
                          headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
    assert answer["changed"] == [f"imap/swe/l1a/2024/01/{january[0]}"]
    assert answer["unknown"] == ["imap_swe_l1a_sci_20240199_v001.0000.cdf"]
    assert [Path(r["file_path"]).name for r in query_json(sdc_server, "--instrument", "swe")] == [january[1]]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_server_stops_gracefully(sdc_server, stop_signal):
    """SIGTERM and SIGINT let requests in flight finish, then the server exits with status 0."""
    name = "imap_swe_l1b_sci_20240105_v001.0000.cdf"
    url = requests.get(f"{sdc_server.url}/api-key/upload/{name}", headers={"x-api-key": sdc_server.write_key}, timeout=30).json()
    assert requests.put(url, data=b"x" * 50_000_000, timeout=60).status_code == 200
    download = requests.get(f"{sdc_server.url}/api-key/download/imap/swe/l1b/2024/01/{name}",
                            headers={"x-api-key": sdc_server.read_key}, stream=True, timeout=60)
    first = next(download.iter_content(1 << 16))
    sdc_server.process.send_signal(stop_signal)
    rest = sum(len(block) for block in download.iter_content(1 << 20))
    assert len(first) + rest == 50_000_000
    assert sdc_server.process.wait(timeout=30) == 0
