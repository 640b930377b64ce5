"""Issue 11 item 1: algorithm environments. `sdc algorithms install` builds a content-addressed Python environment per
name and version; jobs run the entry point from it, on whichever machine runs them, and are deduplicated on the
environment's digest; a new version reprocesses nothing until asked."""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import REPO, SDCServer, imap_cli
from test_pipeline import jobs, science, upload, wait_for, write_pipeline

EDGES = "\nswapi, l1a, sci, swapi, l1b, sci, HARD, DOWNSTREAM\n"
ENTRY = """
  - product: {instrument: swapi, level: l1b, descriptor: sci}
    name: swapi-l1b
    algorithm: tiny
    entry_point: tiny_cli
    timeout_seconds: 300
    max_attempts: 1
"""

# An IMAP-convention algorithm using only the standard library: it writes one product naming its own version and
# environment, and uploads it through the API with the job's credential.
TINY_CLI = '''
import argparse, json, os, sys, urllib.request

def main():
    parser = argparse.ArgumentParser()
    for name in ["--instrument", "--data-level", "--descriptor", "--start-date", "--repointing", "--version", "--dependency"]:
        parser.add_argument(name)
    parser.add_argument("--upload-to-sdc", action="store_true")
    args, _ = parser.parse_known_args()
    name = f"imap_{args.instrument}_{args.data_level}_{args.descriptor}_{args.start_date}_{args.version}.cdf"
    body = f"made by tiny VERSION in {sys.prefix}\\n".encode()
    print(f"tiny VERSION writes {name}", flush=True)
    base, key = os.environ["IMAP_DATA_ACCESS_URL"].rstrip("/"), os.environ["IMAP_API_KEY"]
    grant = urllib.request.Request(f"{base}/api-key/upload/{name}", headers={"x-api-key": key})
    url = json.load(urllib.request.urlopen(grant))
    urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers={"x-api-key": key}))
'''


def tiny_package(folder: Path, version: str) -> Path:
    package = folder / f"tiny-{version}"
    (package / "tiny_algorithm").mkdir(parents=True)
    (package / "pyproject.toml").write_text(f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tiny-algorithm"
version = "{version}"

[project.scripts]
tiny_cli = "tiny_algorithm:main"
""")
    (package / "tiny_algorithm" / "__init__.py").write_text(TINY_CLI.replace("VERSION", version))
    return package


def sdc(server_or_bin, *args, check=True):
    sdc_bin = server_or_bin if isinstance(server_or_bin, str) else server_or_bin.sdc_bin
    result = subprocess.run([sdc_bin, *args], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def install(server, name, spec):
    result = sdc(server, "algorithms", "install", "--root", str(server.root), name, str(spec))
    digest = re.search(r"digest:\s+(sha256:[0-9a-f]{64})", result.stdout).group(1)
    return digest, result.stdout


def product_text(server, key):
    return requests.get(f"{server.url}/api-key/download/{key}", headers={"x-api-key": server.read_key}, timeout=30).text


def test_installed_algorithm_runs_from_its_environment_and_a_new_version_reprocesses_only_when_asked(sdc_bin, tmp_path):
    folder = write_pipeline(tmp_path / "pipeline", EDGES, ENTRY)
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder)])
    try:
        digest1, output = install(server, "tiny", tiny_package(tmp_path, "0.1.0"))
        environment1 = server.root / "algorithms" / digest1.removeprefix("sha256:")
        assert "installed tiny==0.1.0" in output and f"environment:  {environment1}" in output
        assert "Successfully installed tiny-algorithm-0.1.0" in output  # pip's own output, streamed
        # The digest is the SHA-256 of the interpreter version and the sorted pip freeze, checked independently.
        python = environment1 / "bin" / "python"
        freeze = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        text = f"python {version}\n" + "".join(line + "\n" for line in sorted(freeze.splitlines()) if line.strip())
        assert digest1 == "sha256:" + hashlib.sha256(text.encode()).hexdigest()

        upload(server, tmp_path, "imap_swapi_l1a_sci_20250101_v001.0000.cdf", b"level 1a science")
        first = wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"])[0]
        assert first["job_definition"] == "tiny==0.1.0" and first["algorithm_version"] == digest1
        assert product_text(server, first["outputs"][0]) == f"made by tiny 0.1.0 in {environment1}\n"
        # The portal lists it with the product it makes.
        page = requests.get(f"{server.url}/portal/algorithms", timeout=30).text
        assert "id=\"algorithm-tiny-0.1.0\"" in page and "swapi l1b sci" in page

        # A new version reprocesses nothing by itself ...
        digest2, _ = install(server, "tiny", tiny_package(tmp_path, "0.2.0"))
        assert digest2 != digest1
        listed = sdc(server, "algorithms", "list", "--root", str(server.root)).stdout
        assert "0.1.0" in listed and "0.2.0" in listed
        assert len(jobs(server, instrument="swapi", data_level="l1b")) == 1
        # ... until reprocessing names it; the older version can still be named, each making a new minor version.
        for named, digest in [("tiny==0.2.0", digest2), ("tiny==0.1.0", digest1)]:
            result = subprocess.run([sdc_bin, "reprocess", "--start-date", "20250101", "--end-date", "20250101", "--instrument", "swapi",
                                     "--data-level", "l1b", "--descriptor", "sci", "--algorithm", named],
                                    env=server.env(api_key=server.write_key), capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
            wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b")
                              if j["status"] == "SUCCEEDED" and j["job_definition"] == named and j["algorithm_version"] == digest
                              and j["id"] != first["id"]])
        rows = sorted(r["file_path"] for r in science(server, instrument="swapi", data_level="l1b"))
        assert [Path(r).name for r in rows] == [f"imap_swapi_l1b_sci_20250101_v001.000{n}.cdf" for n in (1, 2, 3)]
        assert product_text(server, rows[1]).startswith("made by tiny 0.2.0 in ")
        assert product_text(server, rows[2]).startswith("made by tiny 0.1.0 in ")
        # A version that is not installed is refused.
        refused = subprocess.run([sdc_bin, "reprocess", "--start-date", "20250101", "--end-date", "20250101", "--instrument", "swapi",
                                  "--data-level", "l1b", "--descriptor", "sci", "--algorithm", "tiny==9.9"],
                                 env=server.env(api_key=server.write_key), capture_output=True, text=True)
        assert refused.returncode != 0 and "tiny==9.9 is not installed" in refused.stdout + refused.stderr
    finally:
        server.stop()


def test_a_remote_worker_installs_what_it_runs_and_removal_waits_for_live_jobs(sdc_bin, tmp_path):
    folder = write_pipeline(tmp_path / "pipeline", EDGES, ENTRY)
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--workers", "0"])
    worker = None
    try:
        digest, _ = install(server, "tiny", tiny_package(tmp_path, "0.1.0"))
        upload(server, tmp_path, "imap_swapi_l1a_sci_20250101_v001.0000.cdf", b"level 1a science")
        queued = wait_for(lambda: jobs(server, instrument="swapi", data_level="l1b"))[0]
        assert queued["status"] == "QUEUED" and queued["algorithm_version"] == digest
        refused = sdc(server, "algorithms", "remove", "--root", str(server.root), "tiny", "0.1.0", check=False)
        assert refused.returncode != 0 and f"{queued['id']} (queued" in refused.stderr

        # Another machine: its own environments folder, reached only through the API.
        remote_envs = tmp_path / "worker-environments"
        worker = subprocess.Popen([sdc_bin, "worker", "--url", server.url, "--api-key", server.write_key, "--pipeline", str(folder),
                                   "--environments", str(remote_envs)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1b") if j["status"] == "SUCCEEDED"], timeout=180)
        remote_environment = remote_envs / digest.removeprefix("sha256:")
        assert product_text(server, done[0]["outputs"][0]) == f"made by tiny 0.1.0 in {remote_environment}\n"
        log = requests.get(f"{server.url}/api-key/processing-logs/{done[0]['id']}", headers={"x-api-key": server.read_key}, timeout=30).text
        assert "[sdc] installing tiny==0.1.0 on this machine" in log

        removed = sdc(server, "algorithms", "remove", "--root", str(server.root), "tiny", "0.1.0")
        assert "removed tiny==0.1.0 and its environment" in removed.stdout
        assert not (server.root / "algorithms" / digest.removeprefix("sha256:")).exists()
        assert "tiny" not in sdc(server, "algorithms", "list", "--root", str(server.root)).stdout
    finally:
        if worker:
            worker.terminate()
            worker.wait(timeout=60)
        server.stop()


def test_a_spec_that_does_not_install_registers_nothing_and_says_why(sdc_bin, tmp_path):
    root = tmp_path / "root"
    result = sdc(sdc_bin, "algorithms", "install", "--root", str(root), "ghost", "sdc-no-such-package-zq7==0.0.1", check=False)
    assert result.returncode != 0
    assert "ghost was not installed, and nothing was registered" in result.stderr
    assert "No matching distribution found for sdc-no-such-package-zq7==0.0.1" in result.stderr
    assert "ghost" not in sdc(sdc_bin, "algorithms", "list", "--root", str(root)).stdout
    leftovers = [p.name for p in (root / "algorithms").iterdir() if p.name != ".building"]
    assert leftovers == [] and list((root / "algorithms" / ".building").iterdir()) == []


def test_a_pinned_pypi_requirement_installs_under_its_own_version(sdc_bin, tmp_path):
    root = tmp_path / "root"
    result = sdc(sdc_bin, "algorithms", "install", "--root", str(root), "six", "six==1.16.0")
    assert "installed six==1.16.0" in result.stdout and "entry points: (none)" in result.stdout
    shown = sdc(sdc_bin, "algorithms", "show", "--root", str(root), "six").stdout
    assert "spec:         six==1.16.0" in shown and "  six==1.16.0" in shown.split("pip freeze:")[1]


WHEELHOUSE = REPO / ".cache" / "wheelhouse" / "imap-processing-1.0.40"


@pytest.mark.skipif(not WHEELHOUSE.is_dir(), reason="no imap-processing wheelhouse (scripts/lib/imap_processing.sh makes it)")
def test_imap_processing_installs_from_the_wheelhouse_and_imap_cli_runs(sdc_bin, tmp_path):
    root = tmp_path / "root"
    env = {**os.environ, "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_NO_INDEX": "1"}
    result = subprocess.run([sdc_bin, "algorithms", "install", "--root", str(root), "imap-processing", "imap-processing==1.0.40"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "installed imap-processing==1.0.40" in result.stdout and "imap_cli" in result.stdout
    digest = re.search(r"digest:\s+(sha256:[0-9a-f]{64})", result.stdout).group(1)
    imap_cli_path = root / "algorithms" / digest.removeprefix("sha256:") / "bin" / "imap_cli"
    helped = subprocess.run([imap_cli_path, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--instrument" in helped.stdout
