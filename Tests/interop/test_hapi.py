"""Issue 13 part 1: the HAPI 3.3 server at /hapi, read by hapiclient 0.3.3 and checked against cdflib and a HAPI 3.3
JSON schema (fixtures/hapi/hapi-3.3.schema.json, written from the specification)."""

import json
import subprocess
from pathlib import Path

import cdflib
import jsonschema
import numpy as np
import pytest
import requests

from conftest import REPO, SDCServer, imap_cli, wait_for

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "hapi" / "hapi-3.3.schema.json").read_text())
XTCE = REPO / "Sources" / "SDCPipeline" / "Resources" / "pipeline" / "xtce" / "swapi_packet_definition.xml"
DATASET = "imap_swapi_l1a_hk"
# TT2000 of IMAP's MET 0 as sdc's L1A converts it (2010-01-01, epoch = this + MET seconds).
MET_ZERO = 315576066184000000
PACKETS_PER_DAY = 120


def validate(document: dict, kind: str):
    """Validates a HAPI JSON response against the schema's definition `kind`."""
    jsonschema.validate(document, {**SCHEMA, "$ref": f"#/definitions/{kind}"})


def level0(shared_dir: Path, folder: Path, day: int, seed: int, name: str) -> Path:
    """SWAPI housekeeping L0 whose clock starts a minute into January `day`, 2025 (so its L1A falls on that day)."""
    midnight = int(cdflib.cdfepoch.compute_tt2000([2025, 1, day, 0, 0, 0, 0, 0, 0]))
    start_met = (midnight - MET_ZERO) // 1_000_000_000 + 60
    out = folder / f"l0-{day}-{seed}"
    subprocess.run([__import__("sys").executable, str(shared_dir / "testdata" / "tools" / "gen_packets.py"), "--xtce", str(XTCE),
                    "--container", "SWP_HK", "-n", str(PACKETS_PER_DAY), "--seed", str(seed), "--start-met", str(start_met),
                    "--cadence", "30", "--out", str(out)], check=True, capture_output=True, text=True)
    path = folder / name
    path.write_bytes(out.with_suffix(".pkts").read_bytes())
    return path


def l1a_rows(server):
    response = requests.get(f"{server.url}/api-key/query", params={"instrument": "swapi", "data_level": "l1a", "descriptor": "hk"},
                            headers={"x-api-key": server.read_key}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def hapi_server(sdc_bin, shared_dir, tmp_path_factory):
    """A server whose built-in pipeline made SWAPI L1A housekeeping for three days, day 2 twice (two L0 versions)."""
    folder = tmp_path_factory.mktemp("hapi")
    server = SDCServer(sdc_bin, folder / "root")
    uploads = [(1, 1, "imap_swapi_l0_raw_20250101_v001.0000.pkts"), (2, 2, "imap_swapi_l0_raw_20250102_v001.0000.pkts"),
               (3, 3, "imap_swapi_l0_raw_20250103_v001.0000.pkts")]
    for day, seed, name in uploads:
        path = level0(shared_dir, folder, day, seed, name)
        result = subprocess.run([*imap_cli(), "upload", str(path)], env=server.env(api_key=server.write_key), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    wait_for(lambda: len(l1a_rows(server)) == 3, "three days of L1A housekeeping", timeout=180)
    # A second L0 version of day 2 makes a newer L1A of that day: HAPI must serve it, not the first.
    path = level0(shared_dir, folder, 2, 22, "imap_swapi_l0_raw_20250102_v002.0000.pkts")
    result = subprocess.run([*imap_cli(), "upload", str(path)], env=server.env(api_key=server.write_key), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len(l1a_rows(server)) == 4, "the second version of day 2", timeout=180)
    # The pipeline's products are embargoed until released, as for downloads: anonymous callers see no dataset and
    # get 1406 for it, key holders see it.
    assert hapi_get(server, "catalog").json()["catalog"] == []
    assert hapi_get(server, "info", dataset=DATASET).status_code == 404
    assert [d["id"] for d in hapi_get(server, "catalog", key=server.read_key).json()["catalog"]] == [DATASET]
    # Released (as an operator would), the dataset is public: hapiclient sends no key.
    release_all(server, folder)
    wait_for(lambda: hapi_get(server, "catalog").json()["catalog"], "the released dataset in the public catalog", timeout=60)
    yield server
    server.stop()


def latest_products(server) -> list[Path]:
    """The latest version of each day's product, as files in the server's store, by day."""
    latest = {}
    for row in l1a_rows(server):
        key = row["start_date"]
        version = row["file_path"].rsplit("_", 1)[-1]
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, row["file_path"])
    return [server.root / "objects" / latest[day][1] for day in sorted(latest)]


def hapi_get(server, endpoint: str, key: str | None = None, **params) -> requests.Response:
    headers = {"x-api-key": key} if key else {}
    return requests.get(f"{server.url}/hapi/{endpoint}", params=params, headers=headers, timeout=60)


@pytest.mark.parametrize("fmt", ["csv", "binary"])
def test_hapiclient_reads_every_parameter_as_cdflib_does(hapi_server, tmp_path, fmt):
    from hapiclient import hapi

    server = hapi_server
    info = hapi_get(server, "info", dataset=DATASET).json()
    validate(info, "info")
    names = [p["name"] for p in info["parameters"]]
    assert names[0] == "epoch" and len(names) > 10
    products = latest_products(server)
    assert len(products) == 3
    options = {"logging": False, "usecache": False, "cache": False, "cachedir": str(tmp_path / "cache"), "format": fmt}
    data, meta = hapi(server.url + "/hapi", DATASET, "", "2025-01-01T00:00:00Z", "2025-01-04T00:00:00Z", **options)
    validate(meta, "info")
    cdfs = [cdflib.CDF(str(path)) for path in products]
    epochs = np.concatenate([cdf.varget("epoch") for cdf in cdfs])
    assert len(data) == len(epochs) == 3 * PACKETS_PER_DAY
    expected_times = [t + "Z" for t in cdflib.cdfepoch.encode_tt2000(epochs)]
    assert [t.decode() for t in data["epoch"]] == expected_times
    for parameter in meta["parameters"][1:]:
        name = parameter["name"]
        values = np.concatenate([np.asarray(cdf.varget(name)) for cdf in cdfs])
        got = np.asarray(data[name])
        if parameter["type"] == "integer":
            assert np.array_equal(got.astype(np.int64), values.astype(np.int64)), name
        elif parameter["type"] == "double":
            assert np.array_equal(got.astype(np.float64), values.astype(np.float64)), name
        else:
            assert [v.decode() if isinstance(v, bytes) else str(v) for v in got.reshape(-1)] == [str(v).rstrip("\x00 ") for v in values.reshape(-1)], name
    # Day 2 comes from its latest product only: two versions are cataloged, and the older one's times are not served.
    day2 = sorted(row["file_path"] for row in l1a_rows(server) if row["start_date"] == "20250102")
    assert len(day2) == 2
    older = cdflib.CDF(str(server.root / "objects" / day2[0]))
    served = slice(PACKETS_PER_DAY, 2 * PACKETS_PER_DAY)
    differing = [p["name"] for p in meta["parameters"][1:] if p["type"] != "string"
                 and not np.array_equal(np.asarray(older.varget(p["name"])).astype(np.float64), np.asarray(data[p["name"]][served]).astype(np.float64))]
    assert differing, "the older version of day 2 should differ from the served one in some parameter"


def release_all(server, folder: Path):
    """Releases every L1A product with an early-release manifest listing them."""
    keys = [Path(row["file_path"]).name for row in l1a_rows(server)]
    manifest = folder / "imap_swapi_hapi-test_20250101_v001.txt"
    manifest.write_text("\n".join(keys) + "\n")
    result = subprocess.run([*imap_cli(), "upload", str(manifest)], env=server.env(api_key=server.write_key), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    response = requests.get(f"{server.url}/api-key/release", params={"release_type": "early-release", "manifest_file": manifest.name},
                            headers={"x-api-key": server.admin_key}, timeout=30)
    assert response.status_code == 200, response.text
    assert len(response.json()["changed"]) == len(keys), response.json()


def test_every_json_response_validates_against_the_hapi_schema(hapi_server):
    server = hapi_server
    key = server.read_key
    validate(hapi_get(server, "capabilities").json(), "capabilities")
    validate(hapi_get(server, "about").json(), "about")
    catalog = hapi_get(server, "catalog", key=key).json()
    validate(catalog, "catalog")
    for entry in catalog["catalog"]:
        validate(hapi_get(server, "info", key=key, dataset=entry["id"]).json(), "info")
    info = hapi_get(server, "info", key=key, dataset=DATASET).json()
    second = info["parameters"][2]["name"]
    subset = hapi_get(server, "info", key=key, dataset=DATASET, parameters=second).json()
    validate(subset, "info")
    assert [p["name"] for p in subset["parameters"]] == ["epoch", second]
    data = hapi_get(server, "data", key=key, dataset=DATASET, start="2025-01-01Z", stop="2025-01-01T01:00Z", format="json")
    assert data.headers["content-type"] == "application/json"
    document = data.json()
    validate(document, "info")
    assert document["format"] == "json" and len(document["data"]) > 0
    header = hapi_get(server, "data", key=key, dataset=DATASET, start="2025-01-01Z", stop="2025-01-01T01:00Z", include="header").text
    validate(json.loads(header.split("\n", 1)[0][1:]), "info")


ERRORS = [
    ({"dataset": "imap_swapi_l1a_nope", "start": "2025-01-01Z", "stop": "2025-01-02Z"}, 1406, 404),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-01-02Z", "parameters": "no_such_parameter"}, 1407, 404),
    ({"dataset": DATASET, "start": "2025-01-02Z", "stop": "2025-01-01Z"}, 1404, 400),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-01-01Z"}, 1404, 400),
    ({"dataset": DATASET, "start": "last tuesday", "stop": "2025-01-02Z"}, 1402, 400),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-02-30Z"}, 1403, 400),
    ({"dataset": DATASET, "start": "1999-01-01Z", "stop": "1999-12-31Z"}, 1405, 400),
    ({"dataset": DATASET, "start": "2090-01-01Z", "stop": "2099-01-01Z"}, 1405, 400),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-01-02Z", "format": "parquet"}, 1409, 400),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-01-02Z", "include": "everything"}, 1410, 400),
    ({"dataset": DATASET, "start": "2025-01-01Z", "stop": "2025-01-02Z", "cadence": "PT1M"}, 1401, 400),
]


@pytest.mark.parametrize("params, code, status", ERRORS)
def test_each_documented_error_has_its_code_and_status(hapi_server, params, code, status):
    response = hapi_get(hapi_server, "data", key=hapi_server.read_key, **params)
    assert response.status_code == status, response.text
    document = response.json()
    validate(document, "error")
    assert document["status"]["code"] == code, document


def test_parameter_order_and_unknown_endpoint_errors(hapi_server):
    server = hapi_server
    info = hapi_get(server, "info", key=server.read_key, dataset=DATASET).json()
    first, second = info["parameters"][1]["name"], info["parameters"][2]["name"]
    response = hapi_get(server, "info", key=server.read_key, dataset=DATASET, parameters=f"{second},{first}")
    assert response.status_code == 400 and response.json()["status"]["code"] == 1411
    validate(response.json(), "error")
    response = hapi_get(server, "nothing-here")
    assert response.status_code == 400 and response.json()["status"]["code"] == 1400
    validate(response.json(), "error")
