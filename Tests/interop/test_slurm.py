"""Issue 10 item 4: `sdc serve --executor slurm` runs each job as a Slurm batch job on the test cluster that
scripts/lib/slurm.sh starts (one node on loopback). sdc keeps the job state and the lease; Slurm only runs the jobs."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import SDCServer
from test_pipeline import FIXTURES, external, jobs, science, upload, wait_for, write_pipeline

pytestmark = pytest.mark.skipif(
    not os.environ.get("SDC_TEST_SLURM"),
    reason="no Slurm cluster: scripts/test starts one with scripts/lib/slurm.sh (start_slurm exports SDC_TEST_SLURM=1 and SLURM_CONF)")

EDGES = """
hit, l0, raw, hit, l1a, all, HARD, DOWNSTREAM
codice, l0, raw, codice, l1a, all, HARD, DOWNSTREAM
"""

# The first attempt announces itself and then waits to be cancelled; later attempts run fixtures/algorithm.py.
CANCEL_ONCE = """
import os, runpy, sys, time
from pathlib import Path
marker = Path(os.environ["FIRST_ATTEMPT_MARKER"])
if not marker.exists():
    marker.touch()
    print("first attempt: running until cancelled", flush=True)
    while True:
        time.sleep(1)
sys.argv = [sys.argv[1], "--mode", "copy", *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def all_slurm_jobs() -> list[dict]:
    """Slurm's records of every batch job it still knows (slurmctld keeps them for MinJobAge; the test cluster has
    no slurmdbd, so sacct has none), oldest first."""
    shown = subprocess.run(["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True, check=True).stdout
    records = [dict(token.split("=", 1) for token in line.split() if "=" in token) for line in shown.splitlines()]
    return sorted((r for r in records if "JobId" in r), key=lambda r: int(r["JobId"]))


def slurm_jobs(server, sdc_job_id: int) -> list[dict]:
    """The Slurm jobs of one of `server`'s jobs (job ids start at 1 on each test's server; Slurm's run on)."""
    return [r for r in all_slurm_jobs()
            if int(r["JobId"]) > server.first_slurm_job and r.get("JobName", "").startswith(f"sdc-{sdc_job_id}-")]


LIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT"}


def ended_slurm_jobs(server, sdc_job_id: int, count: int) -> list[dict]:
    """The `count` Slurm jobs of one of `server`'s jobs, once all have ended: `sdc run-job` records the job's outcome
    before it exits, so the sdc job may end a moment before its Slurm job does."""
    return wait_for(lambda: (lambda records: records if len(records) == count and not {r["JobState"] for r in records} & LIVE_STATES
                             else None)(slurm_jobs(server, sdc_job_id)), timeout=60)


def job_record(server, job_id: int) -> dict:
    response = requests.get(f"{server.url}/api-key/processing-jobs/{job_id}", headers={"x-api-key": server.read_key}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def start_slurm_server(sdc_bin, tmp_path, *extra_args) -> SDCServer:
    """`sdc serve --executor slurm` with the test algorithms: hit L1A waits on its first attempt until cancelled,
    codice L1A fails."""
    cancel_once = tmp_path / "cancel_once.py"
    cancel_once.write_text(CANCEL_ONCE)
    hit = external("hit l1a all", "copy", attempts=3,
                   environment=f"\n    environment: {{FIRST_ATTEMPT_MARKER: {tmp_path / 'first-attempt'}}}")
    hit = hit.replace(f"command: [{sys.executable}, {FIXTURES / 'algorithm.py'}, --mode, copy]",
                      f"command: [{sys.executable}, {cancel_once}, {FIXTURES / 'algorithm.py'}]")
    folder = write_pipeline(tmp_path / "pipeline", EDGES, hit + external("codice l1a all", "fail"))
    known = all_slurm_jobs()
    server = SDCServer(sdc_bin, tmp_path / "root",
                       extra_args=["--pipeline", str(folder), "--executor", "slurm", "--workers", "2", "--lease-seconds", "6", *extra_args])
    server.first_slurm_job = int(known[-1]["JobId"]) if known else 0
    return server


@pytest.fixture
def slurm_server(sdc_bin, tmp_path):
    server = start_slurm_server(sdc_bin, tmp_path)
    yield server
    server.stop()


def test_level0_upload_runs_level1a_as_slurm_jobs(slurm_server, shared_dir, tmp_path):
    """The built-in L1A: the L0 upload makes a job, Slurm runs `sdc run-job` for it, and the products appear."""
    from packets_oracle import generate

    xtce = Path(__file__).resolve().parents[2] / "Sources/SDCPipeline/Resources/pipeline/xtce/swapi_packet_definition.xml"
    packets = generate(shared_dir, xtce, ["SWP_HK", "SWP_SCI"], 20, 7, tmp_path / "generated")
    name = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
    upload(slurm_server, tmp_path, name, packets.read_bytes())
    rows = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(science(slurm_server, instrument="swapi", data_level="l1a")), timeout=120)
    assert sorted(Path(r["file_path"]).name for r in rows) == ["imap_swapi_l1a_hk_20250101_v001.0001.cdf",
                                                                "imap_swapi_l1a_sci_20250101_v001.0001.cdf"]
    job = wait_for(lambda: [j for j in jobs(slurm_server, instrument="swapi") if j["status"] == "SUCCEEDED"])[0]
    assert job["attempts"] == 1 and sorted(Path(p).name for p in job["outputs"]) == sorted(Path(r["file_path"]).name for r in rows)
    # It ran as one Slurm job, which completed; the job's log is what `sdc run-job` printed there.
    records = ended_slurm_jobs(slurm_server, job["id"], 1)
    assert [r["JobState"] for r in records] == ["COMPLETED"], records
    assert records[0]["ExitCode"] == "0:0"
    log = job_record(slurm_server, job["id"])["log"]
    assert "[sdc] succeeded" in log and "imap_swapi_l1a_sci_20250101_v001.0001.cdf" in log
    # The server's log names the Slurm job; the credential never appeared on a command line.
    assert f"slurm_job={records[0]['JobId']}" in slurm_server.log_path.read_text()
    assert "sdcjob_" not in records[0].get("Command", "")


def test_a_job_cancelled_with_scancel_is_retried_and_succeeds(slurm_server, tmp_path):
    upload(slurm_server, tmp_path, "imap_hit_l0_raw_20250101_v001.0000.pkts", b"hit packets")
    wait_for(lambda: (tmp_path / "first-attempt").exists(), timeout=120)
    job_id = wait_for(lambda: [j["id"] for j in jobs(slurm_server, instrument="hit") if j["status"] == "RUNNING"])[0]
    running = wait_for(lambda: [r for r in slurm_jobs(slurm_server, job_id) if r["JobState"] == "RUNNING"])
    # An operator cancels the Slurm job.
    subprocess.run(["scancel", running[0]["JobId"]], check=True)
    done = wait_for(lambda: (lambda j: j if j["status"] in ("SUCCEEDED", "FAILED") else None)(job_record(slurm_server, job_id)), timeout=120)
    assert done["status"] == "SUCCEEDED" and done["attempts"] == 2, done
    assert f"Slurm job {running[0]['JobId']} was cancelled (scancel)" in done["log"]
    # The batch script exits 143 on SIGTERM, after removing the job's work folder on the node.
    assert f"[slurm] job {running[0]['JobId']} on " in done["log"] and ": CANCELLED, exit 143:0" in done["log"]
    assert not list(Path("/tmp").glob(f"sdc-job-{job_id}-??????"))
    assert [Path(p).name for p in done["outputs"]] == ["imap_hit_l1a_sci_20250101_v001.0001.cdf"]
    assert [r["JobState"] for r in ended_slurm_jobs(slurm_server, job_id, 2)] == ["CANCELLED", "COMPLETED"]
    assert science(slurm_server, instrument="hit", data_level="l1a")[0]["file_path"] == done["outputs"][0]


def test_a_failing_algorithm_ends_failed_with_its_log(slurm_server, tmp_path):
    upload(slurm_server, tmp_path, "imap_codice_l0_raw_20250101_v001.0000.pkts", b"codice packets")
    failed = wait_for(lambda: [j for j in jobs(slurm_server, instrument="codice") if j["status"] == "FAILED"], timeout=120)
    job = job_record(slurm_server, failed[0]["id"])
    assert job["attempts"] == 2 and job["error"] == "exited with status 1", job
    # Each attempt's log is the algorithm's output, as the Slurm job printed it.
    assert job["log"].count("calibration table is inconsistent") == 2
    assert [r["JobState"] for r in ended_slurm_jobs(slurm_server, job["id"], 2)] == ["FAILED", "FAILED"]
    cli = subprocess.run([slurm_server.sdc_bin, "jobs", "logs", "--root", str(slurm_server.root), str(job["id"])],
                         capture_output=True, text=True)
    assert cli.returncode == 0 and cli.stdout.count("calibration table is inconsistent") == 2


def test_shutdown_past_its_grace_cancels_the_slurm_job_and_hands_the_job_back(sdc_bin, tmp_path):
    server = start_slurm_server(sdc_bin, tmp_path, "--shutdown-grace-seconds", "1")
    try:
        upload(server, tmp_path, "imap_hit_l0_raw_20250101_v001.0000.pkts", b"hit packets")
        wait_for(lambda: (tmp_path / "first-attempt").exists(), timeout=120)
        job_id = wait_for(lambda: [j["id"] for j in jobs(server, instrument="hit") if j["status"] == "RUNNING"])[0]
        running = wait_for(lambda: [r for r in slurm_jobs(server, job_id) if r["JobState"] == "RUNNING"])
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    finally:
        server.stop()
    # The Slurm job was cancelled before sdc exited, and the job is queued again, its attempt not counted.
    # sdc waited for the cancelled Slurm job to end before it exited.
    assert [(r["JobId"], r["JobState"]) for r in slurm_jobs(server, job_id)] == [(running[0]["JobId"], "CANCELLED")]
    shown = subprocess.run([sdc_bin, "jobs", "show", "--root", str(server.root), str(job_id)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert f"job {job_id}: queued" in shown.stdout and "attempts:  0 of 3" in shown.stdout
    log = subprocess.run([sdc_bin, "jobs", "logs", "--root", str(server.root), str(job_id)], capture_output=True, text=True).stdout
    assert "handed back" in log and "did not finish within 1 s" in log


def test_a_worker_elsewhere_submits_through_the_job_api(sdc_bin, tmp_path):
    """`sdc worker --api-key --executor slurm`: a process that needs nothing but the API claims the job and hands it to
    Slurm; `sdc run-job` records the outcome through the same API."""
    server = start_slurm_server(sdc_bin, tmp_path, "--workers", "0")
    folder = tmp_path / "pipeline"
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([sdc_bin, "worker", "--url", server.url, "--api-key", server.write_key, "--executor", "slurm",
                               "--workers", "1", "--pipeline", str(folder), "--lease-seconds", "6"], stdout=log, stderr=log)
    try:
        upload(server, tmp_path, "imap_codice_l0_raw_20250101_v001.0000.pkts", b"codice packets")
        failed = wait_for(lambda: [j for j in jobs(server, instrument="codice") if j["status"] == "FAILED"], timeout=120)
        job = job_record(server, failed[0]["id"])
        assert job["attempts"] == 2 and job["log"].count("calibration table is inconsistent") == 2
        assert [r["JobState"] for r in ended_slurm_jobs(server, job["id"], 2)] == ["FAILED", "FAILED"]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        server.stop()
    assert "job submitted to Slurm" in (tmp_path / "worker.log").read_text()


def test_an_installed_algorithm_is_installed_on_the_node_and_runs_there(sdc_bin, tmp_path):
    """An algorithm installed with `sdc algorithms install` runs on the Slurm node from an environment the node builds
    itself (in $SDC_ALGORITHMS_DIR, which the Slurm job inherits from the submitting process) from the registry."""
    from test_algorithms import ENTRY, install, product_text, tiny_package

    folder = write_pipeline(tmp_path / "pipeline", "\nswapi, l1a, sci, swapi, l1b, sci, HARD, DOWNSTREAM\n", ENTRY)
    node_environments = tmp_path / "node-environments"
    known = all_slurm_jobs()
    os.environ["SDC_ALGORITHMS_DIR"] = str(node_environments)
    try:
        server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--executor", "slurm", "--workers", "1"])
    finally:
        del os.environ["SDC_ALGORITHMS_DIR"]
    server.first_slurm_job = int(known[-1]["JobId"]) if known else 0
    try:
        digest, _ = install(server, "tiny", tiny_package(tmp_path, "0.1.0"))
        upload(server, tmp_path, "imap_swapi_l1a_sci_20250101_v001.0000.cdf", b"level 1a science")
        done = wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] in ("SUCCEEDED", "FAILED")],
                        timeout=180)[0]
        job = job_record(server, done["id"])
        assert job["status"] == "SUCCEEDED", job["log"]
        node_environment = node_environments / digest.removeprefix("sha256:")
        assert product_text(server, job["outputs"][0]) == f"made by tiny 0.1.0 in {node_environment}\n"
        assert "[sdc] installing tiny==0.1.0 on this machine" in job["log"]
        assert [r["JobState"] for r in ended_slurm_jobs(server, job["id"], 1)] == ["COMPLETED"]
    finally:
        server.stop()
