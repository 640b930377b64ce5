"""Several missions in one data center (issue 14): sdc's HERMES and PADRE grammars against the real swxsoc 0.2.3.

The swxsoc side runs in its own venv (scripts/lib/swxsoc.sh exports SDC_SWXSOC_VENV) through
fixtures/swxsoc_oracle.py; the sdc side is `sdc name create` and `sdc name parse --json`.
"""

import json
import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import REPO

ORACLE = Path(__file__).parent / "fixtures" / "swxsoc_oracle.py"
MISSIONS = {
    "hermes": {"instruments": ["eea", "nemisis", "merit", "spani"], "levels": ["l0", "l1", "ql", "l2", "l3"]},
    "padre": {"instruments": ["meddea", "sharp", "craft"], "levels": ["raw", "l0", "l1", "ql", "l2", "l3"]},
}
WORDS = ["fast", "slow", "burst", "hk", "spec", "a-b", "x1", "sci", "Q2", "survey"]


@pytest.fixture(scope="session")
def swxsoc_python() -> str:
    venv = os.environ.get("SDC_SWXSOC_VENV") or str(REPO / ".venv-swxsoc")
    python = Path(venv) / "bin" / "python"
    assert python.is_file(), f"swxsoc venv not found at {venv}: scripts/test builds it (scripts/lib/swxsoc.sh)"
    return str(python)


def swxsoc(python: str, mission: str, create=(), parse=()) -> dict:
    """swxsoc's answers for one mission."""
    env = {**os.environ, "SWXSOC_MISSION": mission}
    out = subprocess.run([python, str(ORACLE)], input=json.dumps({"create": list(create), "parse": list(parse)}),
                         capture_output=True, text=True, env=env, check=True, timeout=300,
                         cwd=tempfile.gettempdir())  # swxsoc writes swxsoc.log into the current folder
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["mission"] == mission
    return answer


def sdc_create(sdc_bin: str, mission: str, kwargs: dict) -> subprocess.CompletedProcess:
    args = [sdc_bin, "name", "create", "--mission", mission, "--instrument", kwargs["instrument"], "--time", kwargs["time"],
            "--level", kwargs["level"], "--version", kwargs["version"]]
    if kwargs.get("mode"):
        args += ["--mode", kwargs["mode"]]
    if kwargs.get("descriptor"):
        args += ["--descriptor", kwargs["descriptor"]]
    if kwargs.get("test"):
        args.append("--test")
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def sdc_parse(sdc_bin: str, mission: str, names: list[str]) -> list[dict]:
    out = subprocess.run([sdc_bin, "name", "parse", "--mission", mission, "--json", *names], capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["name"] for line in lines] == names
    return lines


def product_arguments(mission: str, rng: random.Random, count: int) -> list[dict]:
    """Random product names both libraries should build the same way (no mode that reads as a level)."""
    levels = MISSIONS[mission]["levels"]
    result = []
    for _ in range(count):
        mode = rng.choice(WORDS) if rng.random() < 0.4 else ""
        result.append({
            "instrument": rng.choice(MISSIONS[mission]["instruments"]),
            "time": f"{rng.randint(2020, 2035)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}T"
                    f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}",
            "level": rng.choice(levels),
            "version": f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 300)}",
            "mode": mode if mode[:2] not in levels else "",
            "descriptor": rng.choice(WORDS) if rng.random() < 0.5 else "",
            "test": rng.random() < 0.25,
        })
    return result


def same_fields(ours: dict, theirs: dict, raw: bool) -> bool:
    expected = {k: theirs[k] for k in ("instrument", "mode", "test", "time", "level", "version", "descriptor")}
    if raw:
        expected["mission"] = theirs["mission"]
    return {k: ours[k] for k in expected} == expected


@pytest.mark.parametrize("mission", sorted(MISSIONS))
def test_generated_product_names_agree_with_swxsoc(sdc_bin, swxsoc_python, mission):
    """Names created by both from the same arguments are equal, and both parse them to the same fields."""
    arguments = product_arguments(mission, random.Random(f"sdc-{mission}"), 40)
    theirs = swxsoc(swxsoc_python, mission, create=arguments)
    names = []
    for kwargs, their_name in zip(arguments, theirs["create"]):
        ours = sdc_create(sdc_bin, mission, kwargs)
        assert ours.returncode == 0, f"{kwargs}: {ours.stderr}"
        assert ours.stdout.strip() == their_name, kwargs
        names.append(their_name)
    parsed = swxsoc(swxsoc_python, mission, parse=names)["parse"]
    misread = 0
    for kwargs, ours, their_fields in zip(arguments, sdc_parse(sdc_bin, mission, names), parsed):
        assert ours["valid"] and ours["class"] == "science", ours
        # sdc reads back exactly what was created.
        fields = ours["fields"]
        assert (fields["instrument"], fields["level"], fields["mode"] or "", fields["descriptor"] or "", fields["test"],
                fields["version"]) == (kwargs["instrument"], kwargs["level"], kwargs["mode"], kwargs["descriptor"],
                                       kwargs["test"], kwargs["version"]), (kwargs, fields)
        assert fields["time"] == kwargs["time"] + ".000"
        assert ours["key"].startswith(f"{mission}/{fields['instrument']}/{fields['level']}/")
        if len(kwargs["level"]) != 2:
            # Deliberate difference: swxsoc compares a part's first two letters with the levels, so it misreads
            # PADRE's three-letter level 'raw' as a mode; sdc reads the level.
            misread += their_fields.get("level") != kwargs["level"]
            continue
        assert same_fields(fields, their_fields, raw=False), (ours, their_fields)
    if mission == "hermes":
        assert misread == 0


@pytest.mark.parametrize("mission", sorted(MISSIONS))
def test_raw_names_agree_with_swxsoc(sdc_bin, swxsoc_python, mission):
    """sdc's raw names (`name create --raw`) and raw names in swxsoc's other time forms read the same in both."""
    rng = random.Random(f"raw-{mission}")
    names = []
    for instrument in MISSIONS[mission]["instruments"]:
        for _ in range(5):
            t = f"{rng.randint(2020, 2035)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}T{rng.randint(0, 23):02}:00:{rng.randint(0, 59):02}"
            out = subprocess.run([sdc_bin, "name", "create", "--mission", mission, "--raw", "--instrument", instrument,
                                  "--time", t, "--version", str(rng.randint(0, 3))], capture_output=True, text=True, check=True)
            names.append(out.stdout.strip())
    names += [f"{mission}_{MISSIONS[mission]['instruments'][0].upper()}_240916122901.dat",
              f"{mission}_{MISSIONS[mission]['instruments'][-1]}_2024042_000000.bin",
              f"{mission}_{MISSIONS[mission]['instruments'][0]}_1761936771334.csv"]
    parsed = swxsoc(swxsoc_python, mission, parse=names)["parse"]
    for ours, their_fields in zip(sdc_parse(sdc_bin, mission, names), parsed):
        assert "error" not in their_fields, their_fields
        assert ours["valid"] and ours["class"] == "raw", ours
        assert same_fields(ours["fields"], their_fields, raw=True), (ours, their_fields)


def test_rejections_agree_with_swxsoc(sdc_bin, swxsoc_python):
    """Names and arguments swxsoc refuses, sdc refuses too."""
    bad = ["padre_eea_l1_20240406T120621_v1.2.3.cdf", "hermes_xyz_l1_20240406T120621_v1.2.3.cdf",
           "hermes_EEA_l0_20241306T120621.bin", "hermes_EEA_l0_2024000-000000_v0.bin", "hermes_eea_l0.bin",
           "hermes_eea_l1_20240406T246021_v1.2.3.cdf", "hermes_l0_2024042-000000.bin"]
    theirs = swxsoc(swxsoc_python, "hermes", parse=bad,
                    create=[{"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l5", "version": "1.0.0"},
                            {"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0"},
                            {"instrument": "nem", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0.0"},
                            {"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0.0", "descriptor": "a_b"}])
    assert all("error" in r for r in theirs["parse"]), theirs["parse"]
    assert all(isinstance(r, dict) and "error" in r for r in theirs["create"]), theirs["create"]
    for ours in sdc_parse(sdc_bin, "hermes", bad):
        assert not ours["valid"] and ours["error"], ours
    for kwargs in [{"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l5", "version": "1.0.0"},
                   {"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0"},
                   {"instrument": "nem", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0.0"},
                   {"instrument": "eea", "time": "2024-04-06T12:06:21", "level": "l1", "version": "1.0.0", "descriptor": "a_b"}]:
        out = sdc_create(sdc_bin, "hermes", kwargs)
        assert out.returncode != 0 and out.stderr.strip(), kwargs


# Each deliberate difference (SWxSOCFileName.deliberateDifferences): swxsoc accepts the name, sdc refuses it.
DELIBERATE = {
    "hermes": ["hermes_eea_fast_xyz_20240406T120621_v1.0.0.cdf", "hermes_eea_l1x_20240406T120621_v1.0.0.cdf",
               "hermes_eea_l1_20240406T120621_v1.0.cdf", "hermes_eea_l1_20240406T120621_vvabc.cdf",
               "hermes_eea_l1_a_b_c_20240406T120621_v1.0.0.cdf", "hermes_eea_20240406T120621_v1.0.0.cdf",
               "hermes_eea_l1_20240406T1206_v1.2.3.cdf", "hermes_eea_l1_2024046T120621_v1.2.3.cdf",
               "padre_EEA_l0_2024042-000000_v0.bin", "xyz_eea_l0_2024042-000000.bin",
               "hermes_eea_l1_20240406T120621_v1.2.3.fits", "hermes_EEA_l0_2023366-000000_v0.bin"],
    "padre": ["padre_meddea_l1_20250710T010203_v0.1.fits"],
}


@pytest.mark.parametrize("mission", sorted(DELIBERATE))
def test_deliberate_differences_are_real(sdc_bin, swxsoc_python, mission):
    names = DELIBERATE[mission]
    theirs = swxsoc(swxsoc_python, mission, parse=names)["parse"]
    assert all("error" not in r for r in theirs), theirs
    for ours in sdc_parse(sdc_bin, mission, names):
        assert not ours["valid"] and ours["error"], ours


def test_shared_vectors_through_the_command_line(sdc_bin, shared_dir):
    """`sdc name parse --mission M --json` prints one object per name with the mission's fields and key."""
    vectors = json.loads((shared_dir / "testdata" / "naming" / "swxsoc_vectors.json").read_text())["missions"]
    for mission, entry in vectors.items():
        names = [p["name"] for p in entry["parse"]]
        for ours, vector in zip(sdc_parse(sdc_bin, mission, names), entry["parse"]):
            assert list(ours) == ["name", "valid", "class", "key", "fields", "error"]
            assert ours["valid"] == isinstance(vector["result"], dict), (ours, vector)
            if ours["valid"]:
                assert list(ours["fields"]) == ["mission", "instrument", "mode", "test", "time", "level", "version",
                                                "descriptor", "extension"]
                assert ours["fields"]["instrument"] == vector["result"]["instrument"]
    out = subprocess.run([sdc_bin, "name", "parse", "--json", "imap_swe_l1a_sci_20240105_v001.0002.cdf"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["key"] == "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0002.cdf"
    out = subprocess.run([sdc_bin, "name", "parse", "--mission", "mars", "x"], capture_output=True, text=True)
    assert out.returncode != 0 and "mission 'mars'" in out.stderr


# ---------------------------------------------------------------------------------------------------------------------
# One server hosting IMAP and HERMES: the SWxSOC flow, the mission routes, keys limited to missions.

import struct
import sys

import cdflib
import requests

from conftest import SDCServer, imap_cli, wait_for

PACKAGE = Path(__file__).parent / "fixtures" / "hermes_instrument_pkg"


@pytest.fixture
def two_missions(sdc_bin, tmp_path):
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=[
        "--missions", "imap,hermes", "--mission-python", sys.executable, "--mission-pythonpath", str(PACKAGE)])
    yield server
    server.stop()


def limited_key(server, scope, missions):
    return subprocess.run([server.sdc_bin, "keys", "create", "--root", str(server.root), "--scope", scope,
                           "--name", f"only-{missions}", "--missions", missions],
                          check=True, capture_output=True, text=True).stdout.strip()


def l0_bytes(count=50):
    return b"".join(struct.pack(">IH", i * 100, (i * 7) % 65536) for i in range(count))


def test_hermes_l0_is_sorted_and_processed_to_l1_beside_imap(two_missions, sdc_bin, tmp_path):
    server = two_missions
    name = subprocess.run([sdc_bin, "name", "create", "--mission", "hermes", "--raw", "--instrument", "eea",
                           "--time", "2024-02-11T00:00:00", "--version", "0"], capture_output=True, text=True, check=True).stdout.strip()
    assert name == "hermes_EEA_l0_2024042-000000_v0.bin"
    write = {"x-api-key": server.write_key}
    answer = requests.put(f"{server.url}/missions/hermes/upload/{name}", data=l0_bytes(), headers=write, timeout=30)
    assert answer.status_code == 200, answer.text
    l0_key = answer.json()["file_path"]
    assert l0_key == f"hermes/eea/l0/2024/02/11/{name}"

    def l1_rows():
        rows = requests.get(f"{server.url}/missions/hermes/query", params={"instrument": "eea", "level": "l1"}, timeout=30).json()
        return rows or None

    [l1] = wait_for(l1_rows, "the L1 product of the uploaded L0", timeout=120)
    assert l1["file_path"] == "hermes/eea/l1/unknown/2024/02/11/hermes_eea_l1_20240211T000000_v0.1.0.cdf"
    assert l1["origins"] == [l0_key] and l1["version"] == "0.1.0" and l1["mission"] == "hermes"
    [l0] = requests.get(f"{server.url}/missions/hermes/query", params={"level": "l0"}, timeout=30).json()
    assert l0["status"] == "success" and l0["processing_time"] > 0 and "hermes_eea_l1_20240211T000000" in l0["status_message"]
    # The L1 product: the counts of the L0 records, one per 100 ms from the file's time.
    body = requests.get(f"{server.url}/missions/hermes/download/{l1['file_path']}", timeout=30)
    assert body.status_code == 200 and body.headers["x-checksum-sha256"] == l1["sha256"]
    (tmp_path / "l1.cdf").write_bytes(body.content)
    cdf = cdflib.CDF(str(tmp_path / "l1.cdf"))
    assert list(cdf.varget("counts")) == [(i * 7) % 65536 for i in range(50)]
    assert cdflib.cdfepoch.encode(cdf.varget("Epoch")[1]) == "2024-02-11T00:00:00.100000000"
    # The test package processes only L0: the L1 is marked failed, "could not process further", as swxsoc does.
    wait_for(lambda: requests.get(f"{server.url}/missions/hermes/query", params={"level": "l1"}, timeout=30).json()[0]["status"] == "failed",
             "the L1's status")
    # The metrics carry the mission.
    metrics = requests.get(f"{server.url}/metrics", timeout=30).text
    assert 'sdc_mission_files_total{mission="hermes",instrument="eea",level="l0",outcome="received"' in metrics
    assert 'outcome="produced"' in metrics

    # IMAP beside it, through the unmodified imap-data-access client.
    imap_name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    (tmp_path / imap_name).write_bytes(b"imap bytes")
    env = server.env(api_key=server.write_key, data_dir=tmp_path / "data")
    up = subprocess.run([*imap_cli(), "upload", str(tmp_path / imap_name)], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    query = subprocess.run([*imap_cli(), "query", "--instrument", "swe", "--output-format", "json"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert imap_name in query.stdout
    # HERMES files are not IMAP files: the IMAP query does not list them.
    assert "hermes" not in requests.get(f"{server.url}/api-key/query", headers=write, timeout=30).text


def test_names_sent_to_the_wrong_mission_get_a_clear_400(two_missions):
    server = two_missions
    write = {"x-api-key": server.write_key}
    hermes = "hermes_EEA_l0_2024042-000000_v0.bin"
    to_imap = requests.get(f"{server.url}/api-key/upload/{hermes}", headers=write, timeout=30)
    assert to_imap.status_code == 400 and to_imap.json()["error"] == "WrongMission"
    assert f"/missions/hermes/upload/{hermes}" in to_imap.json()["message"]
    imap_name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    to_hermes = requests.put(f"{server.url}/missions/hermes/upload/{imap_name}", data=b"x", headers=write, timeout=30)
    assert to_hermes.status_code == 400 and "is an IMAP file name" in to_hermes.json()["message"]
    padre = requests.put(f"{server.url}/missions/hermes/upload/padre_meddea_l1_spec_20250710T010203_v0.1.0.fits", data=b"x",
                         headers=write, timeout=30)
    assert padre.status_code == 400 and "PADRE" in padre.json()["message"]
    assert requests.get(f"{server.url}/missions/padre/query", timeout=30).status_code == 404
    listing = requests.get(f"{server.url}/missions", timeout=30).json()
    assert [m["name"] for m in listing] == ["imap", "hermes"]


def test_unknown_instrument_is_kept_aside_with_the_reason(two_missions):
    server = two_missions
    write = {"x-api-key": server.write_key}
    name = "hermes_XYZ_l0_2024042-000000_v0.bin"
    answer = requests.put(f"{server.url}/missions/hermes/upload/{name}", data=b"precious bytes", headers=write, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidFileName"
    assert "no hermes instrument found" in answer.json()["message"]
    kept = answer.headers["x-sdc-rejected-key"]
    assert kept.startswith("rejected/hermes/") and kept.endswith("-" + name)
    [rejected] = requests.get(f"{server.url}/missions/hermes/rejected", headers=write, timeout=30).json()
    assert rejected["file_path"] == kept and rejected["size"] == len(b"precious bytes") and "instrument" in rejected["reason"]
    assert (server.root / "objects" / kept).read_bytes() == b"precious bytes"
    # Nothing is left in the incoming area.
    assert not any((server.root / "objects" / "hermes" / "incoming").glob("*"))


def test_keys_limited_to_one_mission_cannot_reach_the_other(two_missions):
    server = two_missions
    hermes_only = limited_key(server, "write", "hermes")
    imap_only = limited_key(server, "read", "imap")
    to_imap = requests.get(f"{server.url}/api-key/query", params={"instrument": "swe"}, headers={"x-api-key": hermes_only}, timeout=30)
    assert to_imap.status_code == 403 and to_imap.json()["error"] == "MissionNotAllowed"
    to_hermes = requests.get(f"{server.url}/missions/hermes/query", headers={"x-api-key": imap_only}, timeout=30)
    assert to_hermes.status_code == 403 and to_hermes.json()["error"] == "MissionNotAllowed"
    assert requests.get(f"{server.url}/api-key/query", params={"instrument": "swe"}, headers={"x-api-key": imap_only}, timeout=30).status_code == 200
    up = requests.put(f"{server.url}/missions/hermes/upload/hermes_NEM_l0_2024042-000000_v0.bin", data=l0_bytes(3),
                      headers={"x-api-key": hermes_only}, timeout=30)
    assert up.status_code == 200, up.text
    keys = subprocess.run([server.sdc_bin, "keys", "list", "--root", str(server.root)], capture_output=True, text=True, check=True).stdout
    assert "hermes" in keys and "imap" in keys


def test_mission_configuration_errors_name_the_mission_and_field(sdc_bin, tmp_path):
    out = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "r"), "--port", "0", "--missions", "imap,mars"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "mission 'mars': field 'missions'" in out.stderr
    config = tmp_path / "missions.json"
    config.write_text(json.dumps({"missions": [{"name": "reach", "levels": ["l0"], "file_extension": "cdf", "instruments": []}]}))
    out = subprocess.run([sdc_bin, "serve", "--root", str(tmp_path / "r"), "--port", "0", "--missions-config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "mission 'reach': field 'instruments'" in out.stderr


# ---------------------------------------------------------------------------------------------------------------------
# The SWxSOC intake: a watched folder, files a killed server left in the incoming area, IMAP routes only when IMAP is
# hosted, and the instrument package installed as an algorithm.

import re
import shutil
import socket

from test_watch_mirror import Watcher


def drop(folder: Path, name: str, data: bytes):
    """Writes a file the way a careful writer does: a hidden name, then a rename."""
    (folder / f".{name}.tmp").write_bytes(data)
    os.rename(folder / f".{name}.tmp", folder / name)


def test_watched_hermes_files_are_processed_by_the_installed_instrument_package(sdc_bin, tmp_path):
    root = tmp_path / "root"
    env = dict(os.environ)
    # numpy and cdflib from the imap-processing wheelhouse when scripts/test built it (else from the index).
    wheelhouse = Path(os.environ.get("SDC_IMAP_PROCESSING_WHEELHOUSE") or REPO / ".cache" / "wheelhouse" / "imap-processing-1.0.40")
    if wheelhouse.is_dir():
        env["PIP_FIND_LINKS"] = str(wheelhouse)
    # From a copy of the package folder (pip builds in the folder it installs).
    package = shutil.copytree(PACKAGE, tmp_path / "hermes_instrument_pkg")
    install = subprocess.run([sdc_bin, "algorithms", "install", "--root", str(root), "hermes-eea", str(package)], env=env,
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr
    digest = re.search(r"digest:\s+(sha256:[0-9a-f]{64})", install.stdout).group(1)
    config = tmp_path / "missions.json"
    config.write_text(json.dumps({"missions": ["imap", {"name": "hermes", "algorithms": {"eea": "hermes-eea==0.1.0"}}]}))
    # No --mission-python: the EEA package runs only in its installed environment.
    server = SDCServer(sdc_bin, root, extra_args=["--missions-config", str(config)])
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    watcher = Watcher(sdc_bin, server, outbox, tmp_path / "watch.log", "--mission", "hermes", "--settle", "0.2")
    try:
        wait_for(lambda: "watching" in watcher.text(), "the watcher to start", timeout=60)
        name = "hermes_EEA_l0_2024042-000000_v0.bin"
        drop(outbox, name, l0_bytes())
        bad = {"hermes_XYZ_l0_2024042-000000_v0.bin": "not a valid hermes file name",
               "imap_swe_l1a_sci_20240105_v001.0000.cdf": "is a file name of IMAP, not of the watched missions (hermes)",
               "mars_eea_l0_2024042-000000_v0.bin": "is not a file name of a watched mission (hermes)"}
        for other in bad:
            drop(outbox, other, b"precious bytes")

        def l1_rows():
            return requests.get(f"{server.url}/missions/hermes/query", params={"instrument": "eea", "level": "l1"}, timeout=30).json() or None

        [l1] = wait_for(l1_rows, "the L1 of the watched L0", timeout=180)
        l0_key = f"hermes/eea/l0/2024/02/11/{name}"
        assert l1["origins"] == [l0_key] and l1["file_path"].endswith("hermes_eea_l1_20240211T000000_v0.1.0.cdf")
        [l0] = requests.get(f"{server.url}/missions/hermes/query", params={"level": "l0"}, timeout=30).json()
        # The job's record names the algorithm and its environment's digest.
        assert l0["status"] == "success" and l0["status_message"].endswith(f" by hermes-eea==0.1.0 ({digest})"), l0
        body = requests.get(f"{server.url}/missions/hermes/download/{l1['file_path']}", timeout=30)
        (tmp_path / "l1.cdf").write_bytes(body.content)
        assert list(cdflib.CDF(str(tmp_path / "l1.cdf")).varget("counts")) == [(i * 7) % 65536 for i in range(50)]
        # Names of no watched mission are kept aside beside their reason, never lost.
        for other, reason in bad.items():
            kept = outbox / "rejected" / other
            wait_for(lambda: (kept.parent / f"{other}.reason").exists(), f"{other} to be kept aside", timeout=60)
            assert kept.read_bytes() == b"precious bytes" and reason in (kept.parent / f"{other}.reason").read_text()
        assert watcher.stop() == 0
    finally:
        if watcher.process.poll() is None:
            watcher.kill()
    # A watcher that lost its state sends the file again: the same bytes are already there (409), nothing is rejected.
    (outbox / ".sdc-watch" / "state.sqlite").unlink()
    again = Watcher(sdc_bin, server, outbox, tmp_path / "watch-again.log", "--mission", "hermes", "--backfill", "--settle", "0.2")
    try:
        wait_for(lambda: "already in the data center with the same bytes" in again.text(), "the re-sent file to count as present",
                 timeout=60)
        assert again.stop() == 0
        # Nothing reached the data center's rejected area: bad names stayed here, the re-sent file was recognised.
        assert requests.get(f"{server.url}/missions/hermes/rejected", headers={"x-api-key": server.write_key}, timeout=30).json() == []
    finally:
        if again.process.poll() is None:
            again.kill()
        server.stop()
    assert (outbox / name).exists() and not (outbox / "rejected" / name).exists()


def test_a_file_a_killed_server_left_in_the_incoming_area_is_sorted_and_processed_after_restart(two_missions):
    server = two_missions
    name = "hermes_EEA_l0_2024043-000000_v0.bin"
    data = l0_bytes()
    host, port = server.url.removeprefix("http://").split(":")
    # An upload in flight: the headers and the first bytes, the rest never sent.
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(f"PUT /missions/hermes/upload/{name} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {server.write_key}\r\n"
                       f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:10])
    note = server.root / "objects" / "hermes" / "arrivals" / name
    wait_for(note.exists, "the server to note the arrival", timeout=30)
    assert note.read_text().split()[0].endswith(f"/{server.process.pid}")
    server.kill()
    connection.close()
    # As if the whole body had been stored in the incoming area just before the kill.
    incoming = server.root / "objects" / "hermes" / "incoming" / name
    incoming.parent.mkdir(parents=True, exist_ok=True)
    incoming.write_bytes(data)
    server.start()

    def l1_rows():
        return requests.get(f"{server.url}/missions/hermes/query", params={"instrument": "eea", "level": "l1"}, timeout=30).json() or None

    [l1] = wait_for(l1_rows, "the L1 of the file left in the incoming area", timeout=120)
    assert l1["origins"] == [f"hermes/eea/l0/2024/02/12/{name}"]
    assert l1["file_path"].endswith("hermes_eea_l1_20240212T000000_v0.1.0.cdf")
    assert not incoming.exists() and not note.exists()
    # The name is free again: the same bytes sent now are already stored.
    again = requests.put(f"{server.url}/missions/hermes/upload/{name}", data=data, headers={"x-api-key": server.write_key}, timeout=30)
    assert again.status_code == 409 and again.json()["error"] == "FileAlreadyExists"


def test_without_imap_the_imap_routes_answer_that_imap_is_not_hosted(sdc_bin, tmp_path):
    server = SDCServer(sdc_bin, tmp_path / "root", extra_args=["--missions", "hermes"])
    try:
        write = {"x-api-key": server.write_key}
        imap_name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
        for path in ["/query?instrument=swe", "/api-key/query?instrument=swe", f"/api-key/upload/{imap_name}",
                     f"/download/imap/swe/l1a/2024/01/{imap_name}", "/spice-query"]:
            answer = requests.get(server.url + path, headers=write, timeout=30)
            assert answer.status_code == 404, (path, answer.text)
            assert answer.json()["error"] == "MissionNotHosted" and "IMAP is not hosted here" in answer.json()["message"]
            assert "/missions/hermes/" in answer.json()["message"]
        assert [m["name"] for m in requests.get(f"{server.url}/missions", timeout=30).json()] == ["hermes"]
        up = requests.put(f"{server.url}/missions/hermes/upload/hermes_NEM_l0_2024042-000000_v0.bin", data=l0_bytes(3), headers=write,
                          timeout=30)
        assert up.status_code == 200, up.text
        assert requests.get(f"{server.url}/missions/hermes/query", timeout=30).json()[0]["instrument"] == "nemisis"
    finally:
        server.stop()
