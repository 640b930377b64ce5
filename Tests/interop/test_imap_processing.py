"""Issue 11, the production job protocol: the real imap_cli (imap-processing 1.0.40, unmodified) as an external
algorithm, and the protocol's edges (exit 75, an algorithm that writes nothing, a refused upload, a repeated upload).

scripts/test builds the imap-processing venv (scripts/lib/imap_processing.sh) and exports SDC_IMAP_PROCESSING_VENV."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import imap_l0
from conftest import REPO, SDCServer, imap_cli
from test_pipeline import BUILT_IN, jobs, science, wait_for

DATE = "20240924"
# MET (seconds since 2010-01-01) of 2024-09-24 12:00 UTC: imap_cli keeps only the packets of the job's day.
MET = 464_875_200
L0 = f"imap_swapi_l0_raw_{DATE}_v001.pkts"  # the mission's L0 names are vNNN, which imap-data-access refuses to upload


@pytest.fixture(scope="module")
def imap_processing() -> Path:
    venv = Path(os.environ.get("SDC_IMAP_PROCESSING_VENV") or REPO / ".venv-imap-processing")
    assert (venv / "bin" / "imap_cli").is_file(), f"imap_cli not found in {venv}: run scripts/test (ensure_imap_processing) first"
    return venv


def kernels(venv: Path) -> list[Path]:
    """The leapseconds and IMAP SCLK kernels that ship inside the imap-processing wheel."""
    folder = next(venv.glob("lib/python3*/site-packages/imap_processing/ultra/l1c/sim_spice_kernels"))
    return [folder / "naif0012.tls", folder / "imap_sclk_0000.tsc"]


def pipeline(folder: Path, venv: Path, builtin_swapi: bool = False) -> Path:
    """imap_cli makes SWAPI L1 hk (L1A and L1B) from L0 and two kernels; the built-in L1A still makes MAG's."""
    folder.mkdir(parents=True, exist_ok=True)
    edges = """
swapi, l0, raw, swapi, l1, hk, HARD, DOWNSTREAM
leapseconds, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
spacecraft_clock, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
mag, l0, raw, mag, l1a, all, HARD, DOWNSTREAM
"""
    if builtin_swapi:
        edges += "swapi, l0, raw, swapi, l1a, all, HARD, DOWNSTREAM\n"
    (folder / "dependencies.csv").write_text(edges)
    built_in = (BUILT_IN / "algorithms.yaml").read_text().replace("xtce: xtce/", f"xtce: {BUILT_IN}/xtce/")
    built_in = built_in.replace("attributes: cdf-attrs", f"attributes: {BUILT_IN}/cdf-attrs")
    entries = built_in.split("\n  - product: ")
    kept = [entries[0]] + [e for e in entries[1:] if e.startswith("{instrument: mag") or (builtin_swapi and e.startswith("{instrument: swapi"))]
    (folder / "algorithms.yaml").write_text("\n  - product: ".join(kept) + f"""
  - product: {{instrument: swapi, level: l1, descriptor: hk}}
    name: imap-processing
    version: "1.0.40"
    command: [{venv / 'bin' / 'imap_cli'}]
    makes: [l1a hk, l1b hk]
    timeout_seconds: 300
    max_attempts: 2
""")
    return folder


def upload(server, path: Path, client="imap"):
    """Uploads with imap-data-access, or with sdc's own client (which accepts the mission's vNNN L0 names)."""
    command = [*imap_cli(), "upload", str(path)] if client == "imap" else [server.sdc_bin, "upload", str(path)]
    return subprocess.run(command, env=server.env(api_key=server.write_key), capture_output=True, text=True)


def get(server, path, **params):
    response = requests.get(f"{server.url}/api-key/{path}", params=params, headers={"x-api-key": server.read_key}, timeout=60)
    assert response.status_code == 200, response.text
    return response


def read_cdf(server, key: str, folder: Path):
    import cdflib
    path = folder / Path(key).name
    path.write_bytes(get(server, f"download/{key}").content)
    return cdflib.CDF(str(path))


def parents(cdf) -> list[str]:
    value = cdf.globalattsget()["Parents"]
    return sorted(value if isinstance(value, list) else [value])


def test_real_imap_cli_makes_swapi_l1a_and_l1b_hk_by_itself(sdc_bin, shared_dir, imap_processing, tmp_path):
    from packets_oracle import generate

    folder = pipeline(tmp_path / "pipeline", imap_processing)
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder)])
    try:
        for kernel in kernels(imap_processing):
            result = upload(server, kernel)
            assert result.returncode == 0, result.stderr
        packets = subprocess.run([sys.executable, str(shared_dir / "testdata" / "tools" / "gen_packets.py"), "--xtce",
                                  str(shared_dir / "testdata" / "xtce" / "swapi_packet_definition.xml"), "--container", "SWP_HK",
                                  "--container", "SWP_SCI", "-n", "30", "--start-met", str(MET), "--cadence", "12",
                                  "--out", str(tmp_path / "gen" / "swapi")], check=True, capture_output=True, text=True)
        assert packets.returncode == 0
        l0 = tmp_path / L0
        l0.write_bytes((tmp_path / "gen" / "swapi.pkts").read_bytes())
        # imap-data-access refuses a vNNN science name; sdc's client lets the mission's L0 in.
        refused = upload(server, l0)
        assert refused.returncode != 0 and "Invalid science file" in refused.stderr
        entered = upload(server, l0, client="sdc")
        assert entered.returncode == 0, entered.stderr
        mag = generate(shared_dir, BUILT_IN / "xtce" / "MAG_SCI_COMBINED.xml", ["P_MAG_SCI_NORM", "P_MAG_SCI_BURST"], 20, 3,
                       tmp_path / "gen" / "mag", "1,96,191,384")
        mag_l0 = tmp_path / f"imap_mag_l0_raw_{DATE}_v001.0000.pkts"
        mag_l0.write_bytes(mag.read_bytes())
        assert upload(server, mag_l0).returncode == 0

        job = wait_for(lambda: [j for j in jobs(server, instrument="swapi", data_level="l1") if j["status"] in ("SUCCEEDED", "FAILED")],
                       timeout=240)[0]
        shown = get(server, f"processing-jobs/{job['id']}").json()
        assert job["status"] == "SUCCEEDED", shown["log"][-3000:]
        assert job["products"] == ["l1a hk", "l1b hk"]
        kernel_names = [k.name for k in kernels(imap_processing)]
        assert sorted(job["inputs"]) == sorted([L0, *kernel_names])
        # The real imap_cli downloaded the dependency file by name and found every product's version in it.
        name = f"imap_swapi_l1_hk-{job['dependency_hash']}_{DATE}_v001.0001.json"
        assert f"--dependency {name} --upload-to-sdc" in shown["log"]
        assert "Interpreting dependency argument as a JSON file" in shown["log"] and "No version provided" not in shown["log"]
        document = get(server, f"download/imap/dependency/swapi/l1/2024/09/{name}").json()
        assert document == {"dependency": [{"type": "science", "files": [L0]}, {"type": "spice", "files": kernel_names}],
                            "version": {"hk": {"major_version": 1, "minor_version": 1}}}
        expected = sorted(f"imap/swapi/{level}/2024/09/imap_swapi_{level}_hk_{DATE}_v001.0001.cdf" for level in ("l1a", "l1b"))
        assert sorted(job["outputs"]) == expected
        for key in expected:
            cdf = read_cdf(server, key, tmp_path)
            attributes = cdf.globalattsget()
            assert attributes["Data_version"] in ("001.0001", ["001.0001"])
            assert len(cdf.varget("epoch")) > 0
            lineage = get(server, f"lineage/{key}").json()["inputs"]
            assert parents(cdf) == sorted(lineage) == sorted(job["inputs"])

        # The built-in MAG L1A runs beside it: its products' Parents agree with the lineage too.
        rows = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(science(server, instrument="mag", data_level="l1a")), timeout=120)
        for row in rows:
            cdf = read_cdf(server, row["file_path"], tmp_path)
            assert parents(cdf) == get(server, f"lineage/{row['file_path']}").json()["inputs"] == [mag_l0.name]

        # The same uploads again: refused as duplicates, and no second job.
        assert upload(server, l0, client="sdc").returncode != 0
        assert upload(server, kernels(imap_processing)[0]).returncode != 0
        assert len(jobs(server, instrument="swapi")) == 1
    finally:
        server.stop()


def test_two_producers_of_one_product_are_refused_at_start(sdc_bin, imap_processing, tmp_path):
    """The built-in SWAPI L1A and imap_cli's L1 hk both make (swapi, l1a, hk): the server does not start."""
    folder = pipeline(tmp_path / "pipeline", imap_processing, builtin_swapi=True)
    with pytest.raises(RuntimeError) as failure:
        SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder)])
    assert "(swapi, l1a, hk) made by xtce-l1a for (swapi, l1a, all) and (swapi, l1a, hk) made by imap-processing" in str(failure.value)
    assert "give each product one producer" in str(failure.value)


SCRIPT = r'''
import os, sys
from pathlib import Path
import imap_data_access
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
mode, instrument, version = os.environ["MODE"], args["--instrument"], args["--version"]
product = Path(f"imap_{instrument}_l1a_sci_{args['--start-date']}_{version}.cdf")
marker = Path(os.environ["MARKERS"]) / instrument
if mode == "slowdown" and not marker.exists():
    marker.touch()
    print("Upload failed after 3 attempts. Exiting with code 75.", flush=True)
    sys.exit(75)
if mode == "nothing":
    print("no data for this day", flush=True)
    sys.exit(0)
if mode == "collide":
    product = Path(os.environ["TAKEN"])
product.write_bytes(b"product of " + instrument.encode())
try:
    imap_data_access.upload(product)
except imap_data_access.io.IMAPDataAccessError as error:
    print(f"Skipping upload of existing file, {product}: {error}", flush=True)
sys.exit(0)
'''


def test_retry_exit_nothing_made_and_refused_uploads(sdc_bin, tmp_path):
    """On a remote worker: exit 75 is retried without counting; exit 0 with no product fails naming what was
    expected; an upload refused because another producer's file has the name fails the job, naming the file (imap_cli
    would log "skipping" and exit 0)."""
    script = tmp_path / "algorithm.py"
    script.write_text(SCRIPT)
    (tmp_path / "markers").mkdir()
    taken = tmp_path / "imap_swe_l1a_sci_20250101_v001.0001.cdf"
    folder = tmp_path / "pipeline"
    folder.mkdir()
    (folder / "dependencies.csv").write_text("".join(f"{i}, l0, raw, {i}, l1a, all, HARD, DOWNSTREAM\n" for i in ("hit", "codice", "swe")))
    entries = ""
    for instrument, mode in (("hit", "slowdown"), ("codice", "nothing"), ("swe", "collide")):
        entries += f"""
  - product: {{instrument: {instrument}, level: l1a, descriptor: all}}
    name: test-{mode}
    version: "1"
    command: [{sys.executable}, {script}]
    makes: [l1a sci]
    max_attempts: 1
    environment: {{MODE: {mode}, MARKERS: {tmp_path / 'markers'}, TAKEN: {taken}}}
"""
    (folder / "algorithms.yaml").write_text("algorithms:" + entries)
    # The jobs run on a remote worker: postponement, the dependency file and product lookups go through the job API.
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--pipeline", str(folder), "--workers", "0"])
    worker = subprocess.Popen([sdc_bin, "worker", "--url", server.url, "--api-key", server.write_key, "--pipeline", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Another producer's file already has the name the swe job will make.
        taken.write_bytes(b"made elsewhere")
        assert upload(server, taken).returncode == 0
        for instrument in ("hit", "codice", "swe"):
            l0 = tmp_path / f"imap_{instrument}_l0_raw_20250101_v001.0000.pkts"
            l0.write_bytes(instrument.encode())
            assert upload(server, l0).returncode == 0

        def ended(instrument):
            return [j for j in jobs(server, instrument=instrument) if j["status"] in ("SUCCEEDED", "FAILED")]

        hit = wait_for(lambda: ended("hit"), timeout=120)[0]
        assert hit["status"] == "SUCCEEDED" and hit["attempts"] == 1 and hit["postponements"] == 1
        assert "postponed" in get(server, f"processing-logs/{hit['id']}").text
        codice = wait_for(lambda: ended("codice"), timeout=120)[0]
        assert codice["status"] == "FAILED"
        assert codice["error"] == ("exited with status 0 but made none of its products: expected "
                                   "imap_codice_l1a_sci_20250101_v001.0001.cdf")
        swe = wait_for(lambda: ended("swe"), timeout=120)[0]
        # The swe job's version is above the cataloged file's, so its own product never collides; the algorithm
        # uploaded the other producer's name instead, and that refusal is what fails the job.
        assert swe["status"] == "FAILED" and taken.name in swe["error"] and "another producer" in swe["error"]
        assert "made by another producer" in get(server, f"processing-logs/{swe['id']}").text
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        server.stop()


# ---- The built-in `--pipeline imap` profile: one server for the slow scenario (one install of imap-processing).

WHEELHOUSE = REPO / ".cache" / "wheelhouse" / "imap-processing-1.0.40"
SWAPI_L1 = ["l1a/hk", "l1b/hk", "l1/sci"]
MAG_L1A = ["norm-raw", "burst-raw", "norm-mago", "norm-magi", "burst-mago", "burst-magi"]


def sdc_jobs_list(server, *args) -> str:
    result = subprocess.run([server.sdc_bin, "jobs", "list", "--root", str(server.root), *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def imap_profile(sdc_bin, shared_dir, imap_processing, tmp_path_factory):
    """`sdc serve --pipeline imap` with imap-processing 1.0.40 installed as an algorithm (from the wheelhouse that
    scripts/lib/imap_processing.sh fills, without an index) and generated L0 for SWAPI, MAG and GLOWS."""
    folder = tmp_path_factory.mktemp("imap-profile")
    root = folder / "root"
    env = {**os.environ, "PIP_FIND_LINKS": str(Path(os.environ.get("SDC_IMAP_PROCESSING_WHEELHOUSE") or WHEELHOUSE)), "PIP_NO_INDEX": "1"}
    installed = subprocess.run([sdc_bin, "algorithms", "install", "--root", str(root), "imap-processing", "imap-processing==1.0.40"],
                               capture_output=True, text=True, env=env)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr
    server = SDCServer(sdc_bin, root, extra_args=["--pipeline", "imap", "--workers", "2"])
    site = next(imap_processing.glob("lib/python3*/site-packages/imap_processing"))
    gen = folder / "gen"
    data = {
        # The mission's L0 name (vNNN) enters through sdc's client; the others through imap-data-access.
        f"imap_swapi_l0_raw_{DATE}_v001.pkts": imap_l0.swapi_l0(shared_dir, gen / "swapi", MET, sweeps=20),
        f"imap_mag_l0_raw_{DATE}_v001.0000.pkts": imap_l0.mag_l0(shared_dir, BUILT_IN / "xtce" / "MAG_SCI_COMBINED.xml", gen / "mag", MET, 30),
        f"imap_glows_l0_raw_{DATE}_v001.0000.pkts": imap_l0.glows_l0(shared_dir, site / "glows" / "packet_definitions" / "P_GLX_TMSCHIST.xml",
                                                                     gen / "glows", MET, 10),
    }
    files = {}
    for name, path in data.items():
        files[name] = folder / name
        files[name].write_bytes(path.read_bytes())
    for name, write in (("imap_swapi_esa-unit-conversion_20240101_v001.csv", imap_l0.swapi_esa_unit_conversion),
                        ("imap_swapi_lut-notes_20240101_v001.csv", imap_l0.swapi_lut_notes),
                        ("imap_mag_l1b-calibration_20240101_v001.cdf", imap_l0.mag_l1b_calibration)):
        files[name] = write(folder / name)
    yield server, files
    server.stop()


def products(server, instrument, level) -> dict[str, str]:
    """descriptor -> key of the newest product of the day at `level`, per descriptor."""
    rows = sorted(science(server, instrument=instrument, data_level=level, start_date=DATE, end_date=DATE), key=lambda r: r["file_path"])
    return {row["descriptor"]: row["file_path"] for row in rows}


def test_imap_profile_waits_for_kernels_then_makes_every_product_down_to_l2_by_itself(imap_profile, imap_processing, tmp_path):
    server, files = imap_profile
    swapi_l0 = f"imap_swapi_l0_raw_{DATE}_v001.pkts"
    # L0 before the kernels: every L1 job waits for the leapseconds and SCLK kernels, visibly, and runs none.
    assert upload(server, files[swapi_l0], client="sdc").returncode == 0
    for name in files:
        if "_l0_" in name and name != swapi_l0:
            result = upload(server, files[name])
            assert result.returncode == 0, result.stderr
    listing = wait_for(lambda: (lambda text: text if text.count("leapseconds kernel (spice, historical) covering 20240924") == 4 else None)(sdc_jobs_list(server, "--waiting")),
                       "the L1 jobs to wait for the kernels", timeout=60)
    assert "(swapi, l1, hk)" in listing and "(mag, l1a, all)" in listing and "(glows, l1a, all)" in listing
    assert "spacecraft_clock kernel (spice, historical) covering 20240924" in listing
    assert jobs(server) == []
    # The job API lists them too, as rows of status WAITING naming what they wait for.
    waiting = {(row["instrument"], row["data_level"], row["descriptor"]): row for row in jobs(server, status="waiting")}
    assert sorted(waiting) == [("glows", "l1a", "all"), ("mag", "l1a", "all"), ("swapi", "l1", "hk"), ("swapi", "l1", "sci")]
    assert waiting[("swapi", "l1", "hk")] == {
        "status": "WAITING", "instrument": "swapi", "data_level": "l1", "descriptor": "hk", "start_date": DATE, "repointing": None,
        "waiting_for": "leapseconds kernel (spice, historical) covering 20240924; spacecraft_clock kernel (spice, historical) covering 20240924"}
    # The kernels do not trigger jobs, but the days waiting for them are planned; the chain then runs by itself.
    for kernel in kernels(imap_processing):
        result = upload(server, kernel)
        assert result.returncode == 0, result.stderr
    for name in ("imap_swapi_esa-unit-conversion_20240101_v001.csv", "imap_swapi_lut-notes_20240101_v001.csv",
                 "imap_mag_l1b-calibration_20240101_v001.cdf"):
        result = upload(server, files[name])
        assert result.returncode == 0, result.stderr

    def made():
        done = [j for j in jobs(server) if j["status"] in ("SUCCEEDED", "FAILED")]
        failed = [j for j in done if j["status"] == "FAILED"]
        assert not failed, [(j["instrument"], j["data_level"], j["descriptor"], j["error"], get(server, f"processing-logs/{j['id']}").text[-2000:])
                            for j in failed]
        live = [j for j in jobs(server) if j["status"] in ("QUEUED", "RUNNING")]
        return (not live and len(done) >= 11 and products(server, "swapi", "l2") and len(products(server, "mag", "l1c")) == 2
                and len(products(server, "mag", "l1b")) == 4)

    wait_for(made, "SWAPI L1 hk, L1 sci, L2, MAG L1A, L1B, L1C and GLOWS L1A", timeout=600)
    expected = {("swapi", "l1a"): ["hk"], ("swapi", "l1b"): ["hk"], ("swapi", "l1"): ["sci"], ("swapi", "l2"): ["sci"],
                ("mag", "l1a"): MAG_L1A, ("mag", "l1b"): [d for d in MAG_L1A if d.endswith(("mago", "magi"))],
                ("mag", "l1c"): ["norm-mago", "norm-magi"], ("glows", "l1a"): ["hist"]}
    for (instrument, level), descriptors in expected.items():
        keys = products(server, instrument, level)
        assert sorted(keys) == sorted(descriptors), (instrument, level, keys)
        for key in keys.values():
            # MAG L1C is triggered by normal and burst L1B alike (SOFT_TRIGGER): a second arrival remakes it one minor up.
            assert key.endswith("_v001.0001.cdf") or level == "l1c", key
            cdf = read_cdf(server, key, tmp_path)
            assert len(cdf.varget("epoch")) > 0, key
            if level != "l2":
                assert parents(cdf) == sorted(get(server, f"lineage/{key}").json()["inputs"]), key
    # Only GLOWS L1B and MAG L1D and L2 of that day wait: their tables, the spin table and attitude, ephemeris and frame
    # kernels are not there (test_imap_profile_makes_glows_l1b_from_kernels_and_tables provides GLOWS's for another
    # day, test_imap_profile_makes_mag_l1d_and_l2_once_their_tables_and_kernels_arrive MAG's).
    waiting = [line for line in sdc_jobs_list(server, "--waiting").splitlines() if "waiting for" in line]
    mag_l2 = [line for line in waiting if "(mag, l2, " in line]
    assert len(mag_l2) == 2 and all("ancillary mag l2-calibration valid on 20240924" in line for line in mag_l2), waiting
    mag_l1d = [line for line in waiting if "(mag, l1d, " in line]
    assert len(mag_l1d) == 1 and "ancillary mag l1d-calibration valid on 20240924" in mag_l1d[0], waiting
    waiting = [line for line in waiting if line not in mag_l2 + mag_l1d]
    assert len(waiting) == 1 and "(glows, l1b, hist)" in waiting[0] and "ancillary glows pipeline-settings valid on 20240924" in waiting[0], waiting
    # sdc's lineage of L2 is what its job received: the L1 science product and the two SWAPI tables. The file's own
    # Parents are L1 sci's: imap_processing 1.0.40's swapi_l2 builds its dataset from the L1 dataset, attributes
    # included, and imap_cli keeps a Parents attribute that processing already set (cli.py, post_processing).
    l2 = products(server, "swapi", "l2")["sci"]
    l1_sci = f"imap_swapi_l1_sci_{DATE}_v001.0001.cdf"
    assert sorted(get(server, f"lineage/{l2}").json()["inputs"]) == sorted(
        [l1_sci, "imap_swapi_esa-unit-conversion_20240101_v001.csv", "imap_swapi_lut-notes_20240101_v001.csv"])
    assert parents(read_cdf(server, l2, tmp_path)) == parents(read_cdf(server, products(server, "swapi", "l1")["sci"], tmp_path))

    # The same upload again: refused, and no second job.
    count = len(jobs(server, limit=1000))
    assert upload(server, files[swapi_l0], client="sdc").returncode != 0
    assert upload(server, files["imap_swapi_lut-notes_20240101_v001.csv"]).returncode != 0
    assert len(jobs(server, limit=1000)) == count

    # A newer table valid that day reprocesses SWAPI L2 (a HARD input) by itself, one minor version up, beside the old.
    newer = imap_l0.swapi_esa_unit_conversion(tmp_path / "imap_swapi_esa-unit-conversion_20240101_v002.csv")
    assert upload(server, newer).returncode == 0
    rows = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        science(server, instrument="swapi", data_level="l2", start_date=DATE, end_date=DATE)), "the reprocessed L2", timeout=300)
    assert sorted(Path(r["file_path"]).name for r in rows) == [f"imap_swapi_l2_sci_{DATE}_v001.0001.cdf", f"imap_swapi_l2_sci_{DATE}_v001.0002.cdf"]
    # Lineage is recorded when the job completes, just after its upload.
    wait_for(lambda: len([j for j in jobs(server, limit=1000) if j["status"] == "SUCCEEDED"]) == count + 1, "the L2 job to complete", timeout=60)
    assert newer.name in get(server, f"lineage/imap/swapi/l2/2024/09/imap_swapi_l2_sci_{DATE}_v001.0002.cdf").json()["inputs"]
    assert read_cdf(server, f"imap/swapi/l2/2024/09/imap_swapi_l2_sci_{DATE}_v001.0002.cdf", tmp_path).globalattsget()["Data_version"] in (
        "001.0002", ["001.0002"])


def test_imap_profile_makes_glows_l1b_from_kernels_and_tables(imap_profile, imap_processing, shared_dir, tmp_path):
    """GLOWS L1B histograms and direct events through imap_cli under --pipeline imap, one job per pointing as
    production plans them, from generated L0 for a day that the attitude and ephemeris kernels shipped in the
    imap-processing wheel cover, a spin table, a repoint table, a planetary ephemeris written for the test and the
    wheel's own GLOWS tables: the day waits for them, visibly, then L1A and L1B are made by themselves."""
    server, _ = imap_profile
    day = imap_l0.GLOWS_L1B_DAY
    site = next(imap_processing.glob("lib/python3*/site-packages/imap_processing"))
    l0 = tmp_path / f"imap_glows_l0_raw_{day}_v001.0000.pkts"
    l0.write_bytes(imap_l0.glows_l0(shared_dir, site / "glows" / "packet_definitions" / "P_GLX_TMSCHIST.xml", tmp_path / "gen" / "glows",
                                    imap_l0.GLOWS_L1B_MET, 10).read_bytes() + imap_l0.glows_de_packets(imap_l0.GLOWS_L1B_MET, 5))
    # Every L1 job needs the leapseconds and SCLK kernels (the profile test uploads them first when it runs).
    for kernel in kernels(imap_processing):
        result = upload(server, kernel)
        assert result.returncode == 0 or "FileAlreadyExists" in result.stderr + result.stdout, result.stderr
    assert upload(server, l0).returncode == 0

    def waiting_l1b():
        rows = [row for row in jobs(server, status="waiting") if (row["instrument"], row["data_level"], row["start_date"]) == ("glows", "l1b", day)]
        return {row["descriptor"]: row for row in rows} if len(rows) == 2 else None

    # L1A is made; its products trigger L1B hist, which waits for the repoint table, every table, the spin table and
    # the kernels, and L1B de, which waits for the conversion table and the repoint table.
    waiting = wait_for(waiting_l1b, "GLOWS L1B hist and de to wait for their inputs", timeout=120)
    assert waiting["de"]["waiting_for"] == (f"repoint kernel (repoint, historical) covering {day}; "
                                            f"ancillary glows l1b-conversion-table-for-anc-data valid on {day}")
    row = waiting["hist"]
    assert row["waiting_for"].count("repoint kernel (repoint, historical)") == 1
    for needed in ("repoint kernel (repoint, historical) covering", "ancillary glows pipeline-settings valid on",
                   "ancillary glows l1b-map-of-uv-sources valid on", "spin kernel (spin, historical) covering", "attitude_history kernel (spice, historical) covering",
                   "planetary_ephemeris kernel (spice, historical) covering", "imap_frames kernel (spice, historical) covering"):
        assert f"{needed} {day}" in row["waiting_for"], row["waiting_for"]

    kernel_files = imap_l0.glows_l1b_kernels(site, tmp_path / "kernels", imap_processing / "bin" / "python")
    spin = imap_l0.spin_table(tmp_path / "imap_2025_106_2025_106_01.spin.csv", imap_l0.GLOWS_L1B_MET - 600, 480)
    tables = imap_l0.glows_l1b_tables(site, tmp_path / "tables")
    # Pointing 106 runs from 2025-04-16 00:29:45 to 23:30:15, as in the shipped attitude kernel.
    repoints = imap_l0.repoint_table(tmp_path / "imap_2025_107_01.repoint.csv", [
        (105, "2025-04-14 23:30:15", "2025-04-15 00:29:45"), (106, "2025-04-15 23:30:15", "2025-04-16 00:29:45"),
        (107, "2025-04-16 23:30:15", "2025-04-17 00:29:45")])
    for path in (*kernel_files, spin, *tables, repoints):
        result = upload(server, path)
        assert result.returncode == 0, (path.name, result.stderr)

    def made():
        rows = science(server, instrument="glows", data_level="l1b", start_date=day, end_date=day)
        # Lineage is recorded when the job completes, just after its upload.
        done = [j for j in jobs(server, instrument="glows", data_level="l1b") if j["status"] in ("SUCCEEDED", "FAILED")]
        failed = [j for j in done if j["status"] == "FAILED"]
        assert not failed, [(j["error"], get(server, f"processing-logs/{j['id']}").text[-3000:]) for j in failed]
        return len(rows) == 2 and len(done) == 2 and (rows, {j["descriptor"]: j for j in done})

    rows, done = wait_for(made, "GLOWS L1B hist and de", timeout=300)
    key = f"imap/glows/l1b/2025/04/imap_glows_l1b_hist_{day}-repoint00106_v001.0001.cdf"
    de_key = f"imap/glows/l1b/2025/04/imap_glows_l1b_de_{day}-repoint00106_v001.0001.cdf"
    assert sorted(r["file_path"] for r in rows) == [de_key, key]
    job = done["hist"]
    assert job["status"] == "SUCCEEDED" and job["outputs"] == [key], job
    assert done["de"]["status"] == "SUCCEEDED" and done["de"]["outputs"] == [de_key], done["de"]
    assert job["repointing"] == done["de"]["repointing"] == 106
    assert sorted(done["de"]["inputs"]) == sorted([f"imap_glows_l1a_de_{day}_v001.0001.cdf", repoints.name,
                                                   "imap_glows_l1b-conversion-table-for-anc-data_20250101_v001.json"])
    # Production's grouping: one science group, one group per table, every kernel in one spice group, the spin table
    # in its own group.
    name = f"imap_glows_l1b_hist-{job['dependency_hash']}_{day}-repoint00106_v001.0001.json"
    assert f"--start-date {day} --repointing repoint00106 --version v001.0001 --dependency {name}" in get(server, f"processing-jobs/{job['id']}").json()["log"]
    document = get(server, f"download/imap/dependency/glows/l1b/2025/04/{name}").json()
    groups = {g["type"]: [] for g in document["dependency"]}
    for group in document["dependency"]:
        groups[group["type"]].append(group["files"])
    assert groups["science"] == [[f"imap_glows_l1a_hist_{day}_v001.0001.cdf"]]
    assert sorted(f for files in groups["ancillary"] for f in files) == sorted(p.name for p in tables)
    assert sorted(groups["spice"][0]) == sorted([k.name for k in kernels(imap_processing)] + [k.name for k in kernel_files])
    assert groups["spin"] == [[spin.name]]
    assert groups["repoint"] == [[repoints.name]]
    assert document["version"] == {"hist": {"major_version": 1, "minor_version": 1}}

    cdf = read_cdf(server, key, tmp_path)
    assert parents(cdf) == sorted(get(server, f"lineage/{key}").json()["inputs"]) == sorted(job["inputs"])
    assert len(cdf.varget("epoch")) == 10
    assert cdf.globalattsget()["Repointing"] in ("repoint00106", ["repoint00106"])
    # The values come from the inputs: the spin table's period, and IMAP's distance from the Sun (the shipped
    # Earth-relative ephemeris chained through the planetary ephemeris) close to 1 au.
    import numpy as np
    assert np.allclose(cdf.varget("spin_period_ground_average"), 15.0)
    distance = np.linalg.norm(cdf.varget("spacecraft_location_average"), axis=1)
    assert np.all(np.abs(distance / 1.495978707e8 - 1) < 0.02), distance
    # Direct events: one block per second, each with the 20 events written into the L0, decoded with the table.
    de = read_cdf(server, de_key, tmp_path)
    assert parents(de) == sorted(get(server, f"lineage/{de_key}").json()["inputs"]) == sorted(done["de"]["inputs"])
    assert len(de.varget("epoch")) == 5
    assert np.allclose(de.varget("spin_period"), 15.0, atol=0.01)
    assert de.varget("direct_event_pulse_lengths")[0][:3].tolist() == [100.0, 91.0, 92.0]


def test_imap_profile_makes_mag_l1d_and_l2_once_their_tables_and_kernels_arrive(imap_profile, imap_processing, tmp_path):
    """MAG L2 (normal and burst mode, each in SRF, DSRF, GSE, GSM and RTN) and L1D (both modes in SRF, DSRF, GSE and
    RTN) through imap_cli under --pipeline imap: the day's L2 waits, visibly, for the calibration table, the attitude,
    pointing and ephemeris kernels and the offsets tables; once the MAG team's offsets (made from the newest L1C
    norm-mago and L1B burst-mago) arrive, L2 is made by itself; L1D likewise once its calibration and spin tables
    arrive. The kernels are synthesized for the day (imap_kernels.py); the tables hold placeholder values."""
    import cdflib
    import numpy as np

    import imap_mag

    server, files = imap_profile
    frames = ["srf", "dsrf", "gse", "gsm", "rtn"]
    kernel_files = imap_mag.kernels(imap_processing / "bin" / "python", tmp_path / "kernels", DATE)
    assert [k.name for k in kernel_files[:2]] == [k.name for k in kernels(imap_processing)]

    def arrive(path: Path):
        """Uploads `path` unless the profile test already did (this test also runs alone)."""
        result = upload(server, path)
        assert result.returncode == 0 or "FileAlreadyExists" in result.stderr + result.stdout, (path.name, result.stderr)

    def settled(condition):
        def check():
            failed = [j for j in jobs(server, limit=1000) if j["status"] == "FAILED"]
            assert not failed, [(j["data_level"], j["descriptor"], j["error"], get(server, f"processing-logs/{j['id']}").text[-2000:]) for j in failed]
            return not [j for j in jobs(server, limit=1000) if j["status"] in ("QUEUED", "RUNNING")] and condition()
        return check

    def l2_waiting_for():
        return {row["descriptor"]: row["waiting_for"] for row in jobs(server, status="waiting")
                if (row["instrument"], row["data_level"], row["start_date"]) == ("mag", "l2", DATE)}

    # MAG L1A, L1B and L1C of the day (made by the profile test, or here); L2 then waits for what it lacks.
    for path in (*kernel_files[:2], files["imap_mag_l1b-calibration_20240101_v001.cdf"], files[f"imap_mag_l0_raw_{DATE}_v001.0000.pkts"]):
        arrive(path)
    wait_for(settled(lambda: len(products(server, "mag", "l1c")) == 2 and len(l2_waiting_for()) == 2), "MAG L1C and L2 waiting", timeout=300)
    waiting = l2_waiting_for()
    for mode in ("norm", "burst"):
        for reason in ("ancillary mag l2-calibration valid on", f"ancillary mag l2-{mode}-offsets valid on",
                       "attitude_history kernel (spice, historical) covering", "pointing_attitude kernel (spice, historical) covering",
                       "an ephemeris kernel (ephemeris_reconstructed or ephemeris_predicted) covering"):
            assert f"{reason} {DATE}" in waiting[f"{mode}-srf"], waiting
    assert "(mag, l2, norm-srf)" in sdc_jobs_list(server, "--waiting")

    # The kernels and the L2 calibration arrive: L2 still waits, now only for the offsets tables.
    for path in (*kernel_files[2:], imap_mag.calibration(tmp_path / "imap_mag_l2-calibration_20240101_v001.cdf", "imap_mag_l2-calibration",
                                                          ["URFTOORFO", "URFTOORFI"])):
        arrive(path)
    wait_for(settled(lambda: l2_waiting_for() == {f"{mode}-srf": f"ancillary mag l2-{mode}-offsets valid on {DATE}" for mode in ("norm", "burst")}),
             "MAG L2 to wait only for its offsets", timeout=60)

    # The MAG team's offsets, made from the newest L1C norm-mago and L1B burst-mago, arrive and trigger L2.
    sources = {"norm": products(server, "mag", "l1c")["norm-mago"], "burst": products(server, "mag", "l1b")["burst-mago"]}
    for mode, key in sources.items():
        name = f"imap_mag_l2-{mode}-offsets_{DATE}_{DATE}_v001.cdf"
        arrive(imap_mag.offsets(tmp_path / name, read_cdf(server, key, tmp_path), Path(key).name, f"imap_mag_l2-{mode}-offsets"))
    made = [f"{mode}-{frame}" for mode in ("norm", "burst") for frame in frames]
    wait_for(settled(lambda: sorted(products(server, "mag", "l2")) == sorted(made)), "MAG L2 in five frames", timeout=300)
    assert l2_waiting_for() == {}

    l2_jobs = {j["descriptor"]: j for j in jobs(server, instrument="mag", data_level="l2", limit=100)}
    assert sorted(l2_jobs) == ["burst-srf", "norm-srf"] and all(j["status"] == "SUCCEEDED" for j in l2_jobs.values())
    for mode, source in sources.items():
        job = l2_jobs[f"{mode}-srf"]
        assert job["products"] == [f"l2 {mode}-{frame}" for frame in frames]
        assert sorted(job["inputs"]) == sorted([Path(source).name, "imap_mag_l2-calibration_20240101_v001.cdf",
                                                f"imap_mag_l2-{mode}-offsets_{DATE}_{DATE}_v001.cdf", *(k.name for k in kernel_files)])
        l1 = read_cdf(server, source, tmp_path)
        count = len(l1.varget("epoch"))
        vectors = {}
        for frame in frames:
            key = f"imap/mag/l2/2024/09/imap_mag_l2_{mode}-{frame}_{DATE}_v001.0001.cdf"
            assert key in job["outputs"]
            cdf = read_cdf(server, key, tmp_path)
            # imap_cli names as Parents the L1 file the offsets name; sdc passed the same one.
            assert parents(cdf) == sorted(get(server, f"lineage/{key}").json()["inputs"]) == sorted(job["inputs"]), key
            # Every vector of the day, rotated by the kernels (a missing rotation would leave NaN or fill).
            vectors[frame] = cdf.varget(f"b_{frame}")
            assert len(cdf.varget("epoch")) == count and vectors[frame].shape == (count, 3), key
            assert np.isfinite(vectors[frame]).all() and (np.abs(vectors[frame]) < 1e30).all(), key
        # The offsets (0.5 nT per axis; identity calibration) are applied; rotations keep the magnitude.
        assert np.allclose(vectors["srf"], l1.varget("vectors")[:, :3] + 0.5)
        for frame in frames[1:]:
            assert np.allclose(np.linalg.norm(vectors[frame], axis=1), np.linalg.norm(vectors["srf"], axis=1), rtol=1e-4), frame
        assert not np.allclose(vectors["gse"], vectors["srf"]) and not np.allclose(vectors["dsrf"], vectors["srf"])

    # MAG L1D waits for its calibration table and the spin table; once they arrive it is made by itself.
    l1d_waiting = [row["waiting_for"] for row in jobs(server, status="waiting") if (row["instrument"], row["data_level"]) == ("mag", "l1d")]
    assert len(l1d_waiting) == 1 and l1d_waiting[0] == (f"ancillary mag l1d-calibration valid on {DATE}; spin kernel (spin, historical) covering {DATE}"), l1d_waiting
    for path in (imap_mag.l1d_calibration(tmp_path / "imap_mag_l1d-calibration_20240101_v001.cdf"),
                 imap_l0.spin_table(tmp_path / "imap_2024_268_2024_268_01.spin.csv", MET - 3600, 480)):
        arrive(path)
    l1d_made = [f"{mode}-{frame}" for mode in ("norm", "burst") for frame in ("srf", "dsrf", "gse", "rtn")]
    wait_for(settled(lambda: sorted(products(server, "mag", "l1d")) == sorted(l1d_made)), "MAG L1D", timeout=300)
    l1d_jobs = jobs(server, instrument="mag", data_level="l1d", limit=100)
    assert len(l1d_jobs) == 1 and l1d_jobs[0]["status"] == "SUCCEEDED", l1d_jobs
    job = l1d_jobs[0]
    l1 = {descriptor: products(server, "mag", level)[descriptor]
          for level, descriptor in (("l1c", "norm-mago"), ("l1c", "norm-magi"), ("l1b", "burst-mago"), ("l1b", "burst-magi"))}
    assert sorted(job["inputs"]) == sorted([*(Path(key).name for key in l1.values()), "imap_mag_l1d-calibration_20240101_v001.cdf",
                                            "imap_2024_268_2024_268_01.spin.csv", *(k.name for k in kernel_files)])
    for descriptor in l1d_made:
        key = f"imap/mag/l1d/2024/09/imap_mag_l1d_{descriptor}_{DATE}_v001.0001.cdf"
        assert key in job["outputs"]
        cdf = read_cdf(server, key, tmp_path)
        assert parents(cdf) == sorted(get(server, f"lineage/{key}").json()["inputs"]) == sorted(job["inputs"]), key
        vectors = cdf.varget(f"b_{descriptor.split('-')[1]}")
        assert len(vectors) == len(read_cdf(server, l1[f"{descriptor.split('-')[0]}-mago"], tmp_path).varget("epoch")), key
        assert np.isfinite(vectors).all() and (np.abs(vectors) < 1e30).all(), key
    # The spin offsets imap_cli computes are uploaded as an ancillary table (not a product of the job's level).
    spin_offsets = tmp_path / "imap_mag_spin-offsets_20240924_20240924_v001.cdf"
    spin_offsets.write_bytes(get(server, f"download/imap/ancillary/mag/{spin_offsets.name}").content)
    spin_cdf = cdflib.CDF(str(spin_offsets))
    assert len(spin_cdf.varget("epoch")) > 0
    # It is one of the job's products (makes: ancillary spin-offsets), with lineage to the job's inputs; imap_cli writes
    # its Parents only into the science products, but where it names them they agree. The version block carries
    # spin-offsets (no "No version provided" warning), and the log claims no required product missing: the gradiometry
    # offsets, made only when gradiometry applies, are optional.
    spin_key = f"imap/ancillary/mag/{spin_offsets.name}"
    assert spin_key in job["outputs"], job["outputs"]
    assert sorted(get(server, f"lineage/{spin_key}").json()["inputs"]) == sorted(job["inputs"])
    if "Parents" in spin_cdf.globalattsget():
        assert parents(spin_cdf) == sorted(job["inputs"])
    log = get(server, f"processing-jobs/{job['id']}").json()["log"]
    assert "No version provided for descriptor: 'spin-offsets'" not in log, log[-3000:]
    assert "not made:" not in log.replace("optional, not made:", ""), log[-3000:]
    assert "[sdc] made 9 of 11 declared products; optional, not made: imap_mag_gradiometry-offsets-norm_20240924_20240924_v001.cdf, " \
           "imap_mag_gradiometry-offsets-burst_20240924_20240924_v001.cdf" in log, log[-3000:]
