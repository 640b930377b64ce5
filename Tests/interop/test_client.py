"""sdc's own client (`sdc query|download|upload|reprocess`) against a live `sdc serve`.

Runs the issue's acceptance scenario through the `sdc` binary (env SDC_BIN) and checks that
`sdc query` prints byte-for-byte what the imap-data-access 1.3.0 CLI prints for the same rows:
both CLIs run against the same server with the same environment.
"""

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

SCIENCE = [
    "imap_swe_l1a_sci_20240105_v001.0001.cdf",
    "imap_swe_l1a_sci_20240105_v001.0002.cdf",
    "imap_swe_l1a_sci_20240106_v001.0000.cdf",
    "imap_swe_l1b_sci_20240105_v002.0000.cdf",
    "imap_mag_l1a_norm-mago_20240201_v001.0000.pkts",
    "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf",
    "imap_glows_l3e_survival-probability-ul_20250415-cr02301_v001.0002.cdf",
]
ANCILLARY = [
    "imap_mag_l1b-cal_20250101_v001.cdf",
    "imap_mag_l1b-cal_20250101_20250201_v002.cdf",
    "imap_mag_l1b-cal_20250301_v001.cdf",
    "imap_swe_eu-calibration_20240101_v003.csv",
]
SPICE = [
    "imap_pred_od025_20260303_20260414_v01.bsp",
    "imap_recon_20250415_20250420_v01.bsp",
    "naif0012.tls",
    "imap_2025_118_2025_120_009.ah.bc",
]

SCIENCE_FILTERS = [
    ["--instrument", "swe"],
    ["--instrument", "swe", "--data-level", "l1a"],
    ["--descriptor", "sci"],
    ["--start-date", "20240106"],
    ["--end-date", "20240105"],
    ["--start-date", "2024011", "--end-date", "20240201"],
    ["--ingestion-start-date", "20000101"],
    ["--ingestion-end-date", "20000101"],
    ["--repointing", "repoint00012"],
    ["--repointing", "12"],
    ["--instrument", "swe", "--version", "latest"],
    ["--instrument", "swe", "--major-version", "1"],
    ["--instrument", "swe", "--major-version", "1", "--minor-version", "2"],
    ["--instrument", "glows"],
    ["--extension", "pkts"],
    ["--instrument", "swe", "--version", "v002"],
    ["--instrument", "codice"],
    ["--ingestion-end-date", "20990101"],
]
ANCILLARY_FILTERS = [
    ["--table", "ancillary", "--instrument", "mag"],
    ["--table", "ancillary", "--descriptor", "l1b-cal"],
    ["--table", "ancillary", "--start-date", "20250201"],
    ["--table", "ancillary", "--end-date", "20250101"],
    ["--table", "ancillary", "--instrument", "mag", "--version", "latest"],
    ["--table", "ancillary", "--extension", "csv"],
    ["--table", "ancillary", "--ingestion-start-date", "20000101"],
    ["--table", "ancillary", "--ingestion-end-date", "20990101"],
    ["--table", "ancillary", "--instrument", "mag", "--version", "v002"],
]
SPICE_FILTERS = [
    ["--table", "spice", "--type", "ephemeris_predicted"],
    ["--table", "spice", "--type", "ephemeris_reconstructed", "--version", "latest"],
    ["--table", "spice", "--type", "leapseconds", "--ingestion-start-date", "20000101"],
    ["--table", "spice", "--type", "attitude_history"],
    ["--table", "spice", "--type", "ephemeris_predicted", "--start-date", "20260101", "--end-date", "20261231"],
    ["--table", "spice", "--type", "leapseconds", "--ingestion-end-date", "20990101"],
    ["--table", "spice", "--type", "leapseconds", "--version", "0012"],
]
# Refused client-side by both CLIs with the same message.
INVALID_QUERIES = [
    [],
    ["--version", "latest"],
    ["--start-date", "20240230"],
    ["--version", "v001.0002"],
    ["--repointing", "r12"],
    ["--major-version", "x", "--instrument", "swe"],
    ["--table", "spice", "--start-date", "20240101"],
]


def python_cli():
    return [sys.executable, "-m", "imap_data_access.cli"]


def run(command, env, cwd=None):
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def sdc(sdc_bin, *args, env, cwd=None):
    return run([str(sdc_bin), *args], env, cwd)


def imap(*args, env, cwd=None):
    return run([*python_cli(), *args], env, cwd)


def content_for(name):
    # Distinct, deterministic bytes per file; large enough to span several network reads.
    seed = hashlib.sha256(name.encode()).digest()
    return seed * (40_000 // len(seed)) + name.encode()


@pytest.fixture
def workdir(tmp_path):
    files = tmp_path / "outbox"
    files.mkdir()
    for name in SCIENCE + ANCILLARY + SPICE:
        (files / name).write_bytes(content_for(name))
    (tmp_path / "sdc-data").mkdir()
    (tmp_path / "python-data").mkdir()
    return tmp_path


def upload_all(sdc_bin, server, workdir):
    env = server.env(api_key=server.write_key, data_dir=workdir / "sdc-data")
    for name in SCIENCE + ANCILLARY + SPICE:
        result = sdc(sdc_bin, "upload", str(workdir / "outbox" / name), env=env)
        assert result.returncode == 0, (name, result.stderr)
        assert result.stdout == "Successfully uploaded the file to the IMAP SDC\n"


def assert_same_query(sdc_bin, server, workdir, args, api_key):
    env = server.env(api_key=api_key, data_dir=workdir / "python-data")
    reference = imap("query", *args, env=env)
    ours = sdc(sdc_bin, "query", *args, env=env)
    assert ours.returncode == reference.returncode, (args, ours.stderr, reference.stderr)
    assert ours.stdout == reference.stdout, args
    if reference.returncode != 0:
        assert ours.stderr.strip() == reference.stderr.strip(), args
    return reference


def test_upload_rules(sdc_bin, sdc_server, workdir):
    name = SCIENCE[0]
    path = workdir / "outbox" / name
    write_env = sdc_server.env(api_key=sdc_server.write_key, data_dir=workdir / "sdc-data")
    read_env = sdc_server.env(api_key=sdc_server.read_key, data_dir=workdir / "sdc-data")

    first = sdc(sdc_bin, "upload", str(path), env=write_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "Successfully uploaded the file to the IMAP SDC\n"

    again = sdc(sdc_bin, "upload", str(path), env=write_env)
    assert again.returncode == 1
    assert "409" in again.stderr and "FileAlreadyExists" in again.stderr
    assert again.stderr.startswith("IMAPDataAccessError(")

    read_only = sdc(sdc_bin, "upload", str(workdir / "outbox" / SCIENCE[1]), env=read_env)
    assert read_only.returncode == 1
    assert "403 Forbidden" in read_only.stderr

    bad = workdir / "outbox" / "imap_swe_l1a_sci_2024_v001.0000.cdf"
    bad.write_bytes(b"x")
    invalid = sdc(sdc_bin, "upload", str(bad), env=write_env)
    assert invalid.returncode == 1
    assert "400 Bad Request: " in invalid.stderr and bad.name in invalid.stderr

    legacy = workdir / "outbox" / "imap_swe_l1a_sci_20240105_v001.cdf"
    legacy.write_bytes(b"x")
    refused = sdc(sdc_bin, "upload", str(legacy), env=write_env)
    reference = imap("upload", str(legacy), env=write_env)
    assert refused.returncode == reference.returncode == 1
    assert refused.stderr == reference.stderr == f"ValueError('Invalid science file {legacy.name}.')\n"

    missing = sdc(sdc_bin, "upload", str(workdir / "outbox" / "nope.cdf"), env=write_env)
    reference = imap("upload", str(workdir / "outbox" / "nope.cdf"), env=write_env)
    assert missing.returncode == reference.returncode == 1
    assert missing.stderr == reference.stderr


def test_query_output_matches_imap_data_access(sdc_bin, sdc_server, workdir):
    upload_all(sdc_bin, sdc_server, workdir)
    seen_rows = {"science": 0, "ancillary": 0, "spice": 0}
    for args in SCIENCE_FILTERS + ANCILLARY_FILTERS + SPICE_FILTERS:
        table = args[1] if args[0] == "--table" else "science"
        for output in ("table", "json"):
            reference = assert_same_query(
                sdc_bin, sdc_server, workdir, [*args, "--output-format", output], sdc_server.write_key
            )
            assert reference.returncode == 0, (args, reference.stderr)
            if output == "table" and not reference.stdout.startswith("Found [0]"):
                seen_rows[table] += 1
    # The comparison must have exercised non-empty tables of every kind.
    assert all(count > 0 for count in seen_rows.values()), seen_rows

    for args in INVALID_QUERIES:
        reference = assert_same_query(sdc_bin, sdc_server, workdir, args, sdc_server.write_key)
        assert reference.returncode == 1


def test_anonymous_queries_hide_unreleased_files(sdc_bin, sdc_server, workdir):
    upload_all(sdc_bin, sdc_server, workdir)
    args = ["--instrument", "swe", "--output-format", "json"]
    authenticated = assert_same_query(sdc_bin, sdc_server, workdir, args, sdc_server.write_key)
    anonymous = assert_same_query(sdc_bin, sdc_server, workdir, args, None)
    assert SCIENCE[0] in authenticated.stdout
    assert SCIENCE[0] not in anonymous.stdout


def test_access_tokens_use_the_authorized_routes(sdc_bin, sdc_server, workdir):
    upload_all(sdc_bin, sdc_server, workdir)
    env = sdc_server.env(access_token=sdc_server.read_key, data_dir=workdir / "sdc-data")
    args = ["query", "--instrument", "swe", "--output-format", "json"]
    ours = sdc(sdc_bin, *args, env=env)
    reference = imap(*args, env=env)
    assert ours.returncode == reference.returncode == 0, (ours.stderr, reference.stderr)
    assert ours.stdout == reference.stdout
    assert SCIENCE[0] in ours.stdout  # authenticated: unreleased files are visible
    download = sdc(sdc_bin, "download", SCIENCE[0], env=env)
    assert download.returncode == 0, download.stderr
    assert (workdir / "sdc-data" / "imap/swe/l1a/2024/01" / SCIENCE[0]).read_bytes() == content_for(SCIENCE[0])


@pytest.mark.parametrize("sdc_server", [{"download": "stream"}, {"download": "redirect"}], indirect=True)
def test_download_round_trip(sdc_bin, sdc_server, workdir):
    names = [SCIENCE[1], ANCILLARY[1], SPICE[0]]
    write_env = sdc_server.env(api_key=sdc_server.write_key, data_dir=workdir / "sdc-data")
    for name in names:
        assert sdc(sdc_bin, "upload", str(workdir / "outbox" / name), env=write_env).returncode == 0

    read_env = sdc_server.env(api_key=sdc_server.read_key, data_dir=workdir / "sdc-data")
    python_env = sdc_server.env(api_key=sdc_server.read_key, data_dir=workdir / "python-data")
    for name in names:
        ours = sdc(sdc_bin, "download", f"some/where/{name}", env=read_env)
        assert ours.returncode == 0, ours.stderr
        reference = imap("download", name, env=python_env)
        assert reference.returncode == 0, reference.stderr
        our_path = Path(ours.stdout.removeprefix("Successfully downloaded the file to: ").rstrip("\n"))
        reference_path = Path(reference.stdout.removeprefix("Successfully downloaded the file to: ").rstrip("\n"))
        # Same message, same <data dir>/<key> layout.
        assert our_path.relative_to(workdir / "sdc-data") == reference_path.relative_to(workdir / "python-data")
        assert our_path.read_bytes() == content_for(name) == reference_path.read_bytes()
        assert ours.stderr == ""  # no progress bar when stderr is not a terminal

    # A matching local copy is kept; a stale one is replaced.
    target = workdir / "sdc-data" / our_path.relative_to(workdir / "sdc-data")
    again = sdc(sdc_bin, "download", names[-1], env=read_env)
    assert again.returncode == 0 and again.stdout == ours.stdout
    target.write_bytes(b"stale")
    refreshed = sdc(sdc_bin, "download", names[-1], env=read_env)
    assert refreshed.returncode == 0, refreshed.stderr
    assert target.read_bytes() == content_for(names[-1])

    # Anonymous users cannot download unreleased science files.
    anonymous = sdc(sdc_bin, "download", SCIENCE[1],
                    env=sdc_server.env(api_key=None, data_dir=workdir / "python-data" / "anon"))
    assert anonymous.returncode == 1
    assert "403" in anonymous.stderr

    missing = sdc(sdc_bin, "download", "imap_swe_l1a_sci_20990101_v001.0000.cdf", env=read_env)
    reference = imap("download", "imap_swe_l1a_sci_20990101_v001.0000.cdf", env=python_env)
    assert missing.returncode == reference.returncode == 1
    assert missing.stderr == reference.stderr


def test_download_validation_matches_imap_data_access(sdc_bin, sdc_server, workdir):
    env = sdc_server.env(api_key=None, data_dir=workdir / "sdc-data")
    ours = sdc(sdc_bin, "download", "dir/not_an_imap_file.txt", env=env)
    reference = imap("download", "dir/not_an_imap_file.txt", env=env)
    assert ours.returncode == reference.returncode == 1
    assert ours.stderr == reference.stderr


def test_reprocess_matches_imap_data_access(sdc_bin, sdc_server, workdir):
    env = sdc_server.env(api_key=sdc_server.write_key, data_dir=workdir / "sdc-data")
    for args in (
        ["--start-date", "20240101", "--end-date", "20240102", "--instrument", "swe"],
        ["--start-date", "20240101", "--end-date", "20240102", "--instrument", "swe",
         "--data-level", "l1a", "--descriptor", "sci"],
        ["--start-date", "20240101", "--end-date", "20240102", "--data-level", "l1a"],
        ["--start-date", "20240101", "--end-date", "2024"],
    ):
        ours = sdc(sdc_bin, "reprocess", *args, env=env)
        reference = imap("reprocess", *args, env=env)
        assert ours.returncode == reference.returncode, (args, ours.stderr, reference.stderr)
        assert ours.stdout == reference.stdout, args
        assert ours.stderr == reference.stderr, args


# --- The printers on generated rows -------------------------------------------------------------------------
# A scripted server answers /query with generated rows (including shapes sdc serve never produces), so the table
# and json printers and the client-side `latest` filter are compared with imap-data-access on many inputs.

TEXTS = ["", "x", "caf\u00e9", "\u4e2d\u6587", "\U0001f600", "a'b", 'q"uote', "tab\there", "back\\slash", "20250101"]
NUMBERS = [0, 7, 12, 2301, -3, 1.5, 1e16, 2.5e-07, 1744233173.0, 123456789.125]


def random_value(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice(TEXTS)
    if kind == 2:
        return rng.choice(NUMBERS)
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return [rng.choice(TEXTS), rng.choice(NUMBERS)][: rng.randrange(3)]
    return {rng.choice(TEXTS): rng.choice(NUMBERS + [None])}


def random_row(rng, kind):
    keys = {
        "science": ["instrument", "data_level", "descriptor", "start_date", "repointing", "cr", "crid", "released"],
        "ancillary": ["instrument", "descriptor", "start_date", "end_date", "version", "released"],
        "spice": ["kernel_type", "min_date_datetime", "max_date_datetime", "version", "file_root", "timestamp"],
        "other": ["instrument", "descriptor", "version"],
    }[kind]
    row = {key: random_value(rng) for key in keys if rng.random() < 0.9}
    if kind == "science":
        row["repointing"] = rng.choice([None, None, 12, "", 7])
        row["major_version"] = rng.choice([None, 0, 1, 999])
        row["minor_version"] = rng.choice([None, 0, 2, 9999 if row["major_version"] is not None else 999])
    if kind == "ancillary":
        row["end_date"] = rng.choice([None, "20250201"])
    if kind == "spice":
        row["kernel_type"] = rng.choice(["leapseconds", "attitude_history"])
    row["ingestion_date"] = rng.choice(["20250102 00:00:00", "2025-04-09, 21:12:53", "a/b/c", ""])
    path_key = "file_name" if kind == "spice" else "file_path"
    row[path_key] = rng.choice(["imap/swe/l1a/2024/01/", "ck/", "", "deep/dir/"]) + rng.choice(TEXTS) + ".cdf"
    items = list(row.items())
    rng.shuffle(items)
    return dict(items)


def latest_rows(rng):
    rows = []
    for _ in range(rng.randrange(1, 8)):
        rows.append({
            "file_path": f"imap/ancillary/mag/f{rng.randrange(100)}.cdf", "instrument": "mag",
            "descriptor": rng.choice(["cal", "other"]), "start_date": rng.choice(["20250101", "20250102"]),
            "end_date": None, "version": rng.choice(["v001", "v002", "v010"]),
            "ingestion_date": "20250102 00:00:00", "released": True,
        })
    return rows


class ScriptedAPI(ThreadingHTTPServer):
    """Answers GET /query?...&descriptor=<case> with the JSON rows of that case."""

    def __init__(self, cases):
        self.cases = cases

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                body = json.dumps(cases[query["descriptor"][0]]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)


def test_printers_match_imap_data_access_on_generated_rows(sdc_bin, tmp_path):
    rng = random.Random(20251121)
    cases = {}
    for index in range(32):
        kind = ["science", "ancillary", "spice", "other"][index % 4]
        cases[f"case{index}"] = [random_row(rng, kind) for _ in range(rng.randrange(1, 6))]
    for index in range(8):
        cases[f"latest{index}"] = latest_rows(rng)

    api = ScriptedAPI(cases)
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAP_")}
        env.update(IMAP_DATA_ACCESS_URL=f"http://127.0.0.1:{api.server_address[1]}", IMAP_DATA_DIR=str(tmp_path))
        compared = 0
        for name in cases:
            table = ["--table", "ancillary", "--version", "latest"] if name.startswith("latest") else []
            for output in ("table", "json"):
                args = ["query", "--descriptor", name, *table, "--output-format", output]
                reference = imap(*args, env=env)
                ours = sdc(sdc_bin, *args, env=env)
                assert ours.returncode == reference.returncode, (name, cases[name], ours.stderr, reference.stderr)
                assert ours.stdout == reference.stdout, (name, cases[name])
                if reference.returncode == 0:
                    compared += 1
        assert compared == 2 * len(cases)  # every generated case is printable
    finally:
        api.shutdown()
        api.server_close()
