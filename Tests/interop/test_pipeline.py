"""Issue 5 acceptance: processing jobs triggered by ingest, external algorithms, leases, retries, lineage."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import REPO, SDCServer, imap_cli, wait_for

FIXTURES = Path(__file__).parent / "fixtures"
BUILT_IN = REPO / "Sources" / "SDCPipeline" / "Resources" / "pipeline"


def write_pipeline(folder: Path, extra_edges: str, extra_algorithms: str) -> Path:
    """A pipeline folder: the built-in L0 -> L1A configuration plus test products run by fixtures/algorithm.py."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dependencies.csv").write_text((BUILT_IN / "dependencies.csv").read_text() + extra_edges)
    algorithms = (BUILT_IN / "algorithms.yaml").read_text()
    algorithms = algorithms.replace("xtce: xtce/", f"xtce: {BUILT_IN}/xtce/").replace("attributes: cdf-attrs", f"attributes: {BUILT_IN}/cdf-attrs")
    (folder / "algorithms.yaml").write_text(algorithms + extra_algorithms)
    return folder


def external(product: str, mode: str, timeout: int = 120, attempts: int = 2, environment: str = "") -> str:
    instrument, level, descriptor = product.split()
    # fixtures/algorithm.py names the product of an `all` job `sci`: a job declares the products it makes.
    makes = f"\n    makes: [{level} sci]" if descriptor == "all" else ""
    return f"""
  - product: {{instrument: {instrument}, level: {level}, descriptor: {descriptor}}}
    name: test-{mode}
    version: "1"
    command: [{sys.executable}, {FIXTURES / 'algorithm.py'}, --mode, {mode}]
    timeout_seconds: {timeout}
    max_attempts: {attempts}{makes}{environment}
"""


EDGES = """
swapi, l1a, sci, swapi, l1b, sci, HARD, DOWNSTREAM
swapi, ancillary, lut-notes, swapi, l1b, sci, SOFT_TRIGGER, DOWNSTREAM
codice, l0, raw, codice, l1a, all, HARD, DOWNSTREAM
hit, l0, raw, hit, l1a, all, HARD, DOWNSTREAM
"""
CREDENTIAL_FILE = "credential.txt"


def algorithms(folder: Path) -> str:
    """The test algorithms; the copy algorithm leaves its job credential in `folder`."""
    keep_credential = f"\n    environment: {{CREDENTIAL_FILE: {folder / CREDENTIAL_FILE}}}"
    return (external("swapi l1b sci", "copy", environment=keep_credential) + external("codice l1a all", "fail")
            + external("hit l1a all", "slow", attempts=3))


@pytest.fixture
def pipeline_server(sdc_bin, tmp_path):
    folder = write_pipeline(tmp_path / "pipeline", EDGES, algorithms(tmp_path))
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--lease-seconds", "3"])
    yield server
    server.stop()


def upload(server, folder: Path, name: str, content: bytes):
    path = folder / name
    path.write_bytes(content)
    result = subprocess.run([*imap_cli(), "upload", str(path)], env=server.env(api_key=server.write_key), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def jobs(server, **params):
    response = requests.get(f"{server.url}/api-key/processing-jobs", params=params, headers={"x-api-key": server.read_key}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def science(server, **params):
    response = requests.get(f"{server.url}/api-key/query", params=params, headers={"x-api-key": server.read_key}, timeout=30)
    return response.json()


def test_external_algorithm_runs_on_arrival_with_lineage(pipeline_server, tmp_path):
    server = pipeline_server
    l1a = "imap_swapi_l1a_sci_20250101_v001.0000.cdf"
    lut = "imap_swapi_lut-notes_20250101_v001.csv"
    # The soft-trigger LUT first: it makes no job while the required L1A is missing; the L1A then makes one job with
    # both inputs, however far apart the two uploads land (the settling window is unit-tested with a manual clock).
    upload(server, tmp_path, lut, b"lookup table")
    upload(server, tmp_path, l1a, b"level 1a science")
    done = wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"])
    all_jobs = jobs(server, instrument="swapi", data_level="l1b")
    assert len(all_jobs) == 1, all_jobs
    job = done[0]
    assert sorted(job["inputs"]) == sorted([l1a, lut])
    product = "imap/swapi/l1b/2025/01/imap_swapi_l1b_sci_20250101_v001.0001.cdf"
    assert job["outputs"] == [product] and job["minor_version"] == 1
    rows = science(server, instrument="swapi", data_level="l1b")
    assert [r["file_path"] for r in rows] == [product]
    stored = requests.get(f"{server.url}/api-key/download/{product}", headers={"x-api-key": server.read_key}, timeout=30).text
    assert f"science {l1a} " in stored and f"ancillary {lut} " in stored
    lineage = requests.get(f"{server.url}/api-key/lineage/{product}", headers={"x-api-key": server.read_key}, timeout=30).json()
    assert sorted(lineage["inputs"]) == sorted([l1a, lut])
    upstream = requests.get(f"{server.url}/api-key/lineage/imap/swapi/l1a/2025/01/{l1a}", headers={"x-api-key": server.read_key}, timeout=30).json()
    assert upstream["products"] == [product]
    log = requests.get(f"{server.url}/api-key/processing-logs/{job['id']}", headers={"x-api-key": server.read_key}, timeout=30).text
    assert "algorithm copy: swapi l1b sci 20250101 v001.0001" in log and "wrote imap_swapi_l1b_sci_20250101_v001.0001.cdf" in log
    # The algorithm worked with the job's credential, not an API key; it stopped working when the job ended.
    keys = subprocess.run([server.sdc_bin, "keys", "list", "--root", str(server.root)], capture_output=True, text=True).stdout
    assert "job-" not in keys
    credential = (tmp_path / CREDENTIAL_FILE).read_text()
    assert credential.startswith(f"sdcjob_{job['id']}_")
    after = requests.get(f"{server.url}/api-key/query", params={"instrument": "swapi"}, headers={"x-api-key": credential}, timeout=30)
    assert after.status_code == 403 and "lease ended" in after.json()["message"]
    # A read-only key sees the job but not which worker ran it.
    assert job["worker_id"] is None


def test_failing_algorithm_ends_failed_with_its_log_after_retries(pipeline_server, tmp_path):
    upload(pipeline_server, tmp_path, "imap_codice_l0_raw_20250101_v001.0000.pkts", b"codice packets")
    failed = wait_for(lambda: [j for j in jobs(pipeline_server, instrument="codice") if j["status"] == "FAILED"], timeout=120)
    job = requests.get(f"{pipeline_server.url}/api-key/processing-jobs/{failed[0]['id']}",
                       headers={"x-api-key": pipeline_server.read_key}, timeout=30).json()
    assert job["attempts"] == 2 and job["error"] == "exited with status 1"
    assert job["log"].count("calibration table is inconsistent") == 2
    cli = subprocess.run([pipeline_server.sdc_bin, "jobs", "logs", "--root", str(pipeline_server.root), str(job["id"])],
                         capture_output=True, text=True)
    assert "calibration table is inconsistent" in cli.stdout
    retried = subprocess.run([pipeline_server.sdc_bin, "jobs", "retry", "--root", str(pipeline_server.root), str(job["id"])],
                             capture_output=True, text=True)
    assert retried.returncode == 0 and "queued again" in retried.stdout


@pytest.mark.parametrize("mode", ["api", "folder"])
def test_killed_worker_job_completes_exactly_once(sdc_bin, tmp_path, mode):
    """A separate worker (through the API with a key, or on the data center folder) is SIGKILLed mid-job."""
    folder = write_pipeline(tmp_path / "pipeline", EDGES, algorithms(tmp_path))
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--workers", "0"])
    try:
        upload(server, tmp_path, "imap_hit_l0_raw_20250101_v001.0000.pkts", b"hit packets")
        access = ["--api-key", server.write_key] if mode == "api" else ["--root", str(server.root)]
        worker_args = [sdc_bin, "worker", "--url", server.url, *access, "--pipeline", str(folder), "--lease-seconds", "3"]
        started = tmp_path / "started"
        first = subprocess.Popen(worker_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, "SLOW_SECONDS": "8", "STARTED_MARKER": str(started)})
        running = wait_for(lambda: [j for j in jobs(server, instrument="hit") if j["status"] == "RUNNING"])
        wait_for(started.exists)  # the algorithm itself is running, not just the claim
        first.send_signal(signal.SIGKILL)
        first.wait()
        # The algorithm the dead worker started may still finish its upload; either way there is one product.
        second = subprocess.Popen(worker_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "SLOW_SECONDS": "1"})
        try:
            done = wait_for(lambda: [j for j in jobs(server, instrument="hit") if j["status"] == "SUCCEEDED"], timeout=120)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        all_jobs = jobs(server, instrument="hit")
        assert len(all_jobs) == 1 and done[0]["id"] == running[0]["id"] and done[0]["attempts"] >= 2
        rows = science(server, instrument="hit", data_level="l1a")
        assert [r["file_path"] for r in rows] == ["imap/hit/l1a/2025/01/imap_hit_l1a_sci_20250101_v001.0001.cdf"]
    finally:
        server.stop()


def test_reprocess_reruns_with_the_next_minor_version(pipeline_server, tmp_path):
    server = pipeline_server
    upload(server, tmp_path, "imap_swapi_l1a_sci_20250102_v001.0000.cdf", b"level 1a science")
    wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"])
    result = subprocess.run([*imap_cli(), "reprocess", "--start-date", "20250101", "--end-date", "20250103", "--instrument", "swapi",
                             "--data-level", "l1b", "--descriptor", "sci"], env=server.env(api_key=server.write_key), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len([j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"]) == 2)
    versions = sorted(r["version"] for r in science(server, instrument="swapi", data_level="l1b", start_date="20250102", major_version="1"))
    assert versions == ["v001.0001", "v001.0002"]


def test_swapi_level0_upload_makes_level1a_products_by_itself(sdc_server, shared_dir, tmp_path):
    """The built-in pipeline: an L0 upload yields L1A CDFs equal to space_packet_parser's decode, readable by cdflib."""
    import cdflib
    import numpy as np
    from packets_oracle import decode_with_spp, generate

    xtce = BUILT_IN / "xtce" / "swapi_packet_definition.xml"
    packets = generate(shared_dir, xtce, ["SWP_HK", "SWP_SCI"], 40, 7, tmp_path / "generated" / "swapi")
    name = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
    upload(sdc_server, tmp_path, name, packets.read_bytes())
    rows = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(science(sdc_server, instrument="swapi", data_level="l1a")), timeout=120)
    assert sorted(Path(r["file_path"]).name for r in rows) == ["imap_swapi_l1a_hk_20250101_v001.0001.cdf",
                                                                "imap_swapi_l1a_sci_20250101_v001.0001.cdf"]
    oracle = decode_with_spp(xtce, packets)
    data = tmp_path / "data"
    data.mkdir()
    for row in rows:
        result = subprocess.run([*imap_cli(), "download", Path(row["file_path"]).name],
                                env=sdc_server.env(api_key=sdc_server.read_key, data_dir=data), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        path = data / row["file_path"]
        cdf = cdflib.CDF(str(path))
        apid = int(cdf.varget("pkt_apid")[0])
        expected = oracle[apid]
        met = np.array(expected["raw"][expected["fields"][7]], dtype=np.int64)  # the MET field follows the 7 header fields
        assert np.array_equal(cdf.varget("epoch"), 315576066184000000 + met * 1_000_000_000)
        for field in expected["fields"]:
            values = cdf.varget(field.lower().split(".", 1)[-1])  # imap-processing's naming: "swp_hk.esa_v" -> "esa_v"
            raw = expected["raw"][field]
            assert np.array_equal(np.asarray(values).astype(np.int64), np.asarray(raw, dtype=np.int64)), field
        attributes = cdf.globalattsget()
        assert attributes["Logical_source"] == [f"imap_swapi_l1a_{row['descriptor']}"] or attributes["Logical_source"] == f"imap_swapi_l1a_{row['descriptor']}"
        assert name in str(attributes["Parents"])
        validate = subprocess.run([sdc_server.sdc_bin, "cdf", "validate", str(path)], capture_output=True, text=True)
        assert validate.returncode == 0, validate.stdout + validate.stderr
    job = jobs(sdc_server, instrument="swapi", data_level="l1a")[0]
    assert job["status"] == "SUCCEEDED" and job["inputs"] == [name] and len(job["outputs"]) == 2


@pytest.mark.parametrize("instrument, xtce, containers, dynamic, expected", [
    ("mag", "MAG_SCI_COMBINED.xml", ["P_MAG_SCI_NORM", "P_MAG_SCI_BURST"], "1,96,191,384", ["burst-raw", "norm-raw"]),
    ("glows", "P_GLX_TMSCHIST.xml", ["P_GLX_TMSCHIST"], None, ["hist"]),
])
def test_mag_and_glows_level0_make_level1a(sdc_server, shared_dir, tmp_path, instrument, xtce, containers, dynamic, expected):
    """The other shipped L0 -> L1A configurations: products appear, cdflib reads them, header and time fields match."""
    import cdflib
    import numpy as np
    from packets_oracle import decode_with_spp, generate

    definition = BUILT_IN / "xtce" / xtce
    packets = generate(shared_dir, definition, containers, 30, 3, tmp_path / "generated" / instrument, dynamic)
    upload(sdc_server, tmp_path, f"imap_{instrument}_l0_raw_20250102_v001.0000.pkts", packets.read_bytes())
    rows = wait_for(lambda: (lambda r: r if len(r) == len(expected) else None)(
        science(sdc_server, instrument=instrument, data_level="l1a")), timeout=120)
    assert sorted(r["descriptor"] for r in rows) == expected
    oracle = decode_with_spp(definition, packets)
    for row in rows:
        path = sdc_server.root / "objects" / row["file_path"]
        cdf = cdflib.CDF(str(path))
        apid = int(cdf.varget("pkt_apid")[0])
        fields = oracle[apid]["fields"]
        met = np.array(oracle[apid]["raw"][fields[7]], dtype=np.int64)
        assert np.array_equal(cdf.varget("epoch"), 315576066184000000 + met * 1_000_000_000)
        for field in fields:
            raw = oracle[apid]["raw"][field]
            if isinstance(raw[0], bytes):
                width = max(len(value) for value in raw)
                padded = np.array([list(value) + [0] * (width - len(value)) for value in raw], dtype=np.uint8)
                assert np.array_equal(cdf.varget(field.lower()), padded), field
            else:
                assert np.array_equal(np.asarray(cdf.varget(field.lower())).astype(np.int64), np.asarray(raw, dtype=np.int64)), field
        validate = subprocess.run([sdc_server.sdc_bin, "cdf", "validate", str(path)], capture_output=True, text=True)
        assert validate.returncode == 0, validate.stdout + validate.stderr


def test_jobs_cli_lists_and_shows(pipeline_server, tmp_path):
    upload(pipeline_server, tmp_path, "imap_swapi_l1a_sci_20250103_v001.0000.cdf", b"level 1a science")
    job = wait_for(lambda: [j for j in jobs(pipeline_server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"])[0]
    listing = subprocess.run([pipeline_server.sdc_bin, "jobs", "list", "--root", str(pipeline_server.root), "--status", "succeeded"],
                             capture_output=True, text=True).stdout
    assert f"{job['id']} " in listing and "(swapi, l1b, sci)" in listing and "v001.0001" in listing
    shown = subprocess.run([pipeline_server.sdc_bin, "jobs", "show", "--root", str(pipeline_server.root), str(job["id"])],
                           capture_output=True, text=True).stdout
    assert "succeeded" in shown and "imap_swapi_l1a_sci_20250103_v001.0000.cdf" in shown
    assert "imap/swapi/l1b/2025/01/imap_swapi_l1b_sci_20250103_v001.0001.cdf" in shown


def test_sigterm_hands_a_running_job_back_after_the_grace_period(sdc_bin, tmp_path):
    """Graceful shutdown: no new claims, the running job gets --shutdown-grace-seconds, then goes back to the queue at
    once (attempt not counted) instead of waiting for its lease to expire; the server exits 0."""
    folder = write_pipeline(tmp_path / "pipeline", EDGES, algorithms(tmp_path))
    started = tmp_path / "started"
    os.environ["STARTED_MARKER"] = str(started)
    os.environ["SLOW_SECONDS"] = "60"
    try:
        server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--shutdown-grace-seconds", "1",
                                                                    "--lease-seconds", "600"])
    finally:
        del os.environ["STARTED_MARKER"], os.environ["SLOW_SECONDS"]
    try:
        upload(server, tmp_path, "imap_hit_l0_raw_20250101_v001.0000.pkts", b"hit packets")
        running = wait_for(lambda: [j for j in jobs(server, instrument="hit") if j["status"] == "RUNNING"])
        wait_for(started.exists)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    finally:
        server.stop()
    shown = subprocess.run([sdc_bin, "jobs", "show", "--root", str(server.root), str(running[0]["id"])], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert f"job {running[0]['id']}: queued" in shown.stdout and "attempts:  0 of 3" in shown.stdout
    log = subprocess.run([sdc_bin, "jobs", "logs", "--root", str(server.root), str(running[0]["id"])], capture_output=True, text=True).stdout
    assert "handed back" in log and "did not finish within 1 s" in log
