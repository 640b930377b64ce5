"""`sdc packets` against space_packet_parser 6.2.0 on generated packet files.

For every concrete container of the SWAPI, MAG and GLOWS definitions, files written by the shared generator
with several seeds are decoded by spp (`parse_bytes`) and by `sdc packets decode --format json` (derived
values, then `--raw`); every field of every packet must be identical, floats bit for bit.

Environment: SDC_BIN (the sdc executable) and SDC_SHARED (the shared folder) are required.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from packets_oracle import concrete_containers, decode_with_sdc, decode_with_spp, generate, mismatches
from packets_synthetic_xtce import SYNTHETIC_XTCE

SEEDS = [0, 1, 2]
PACKETS_PER_CONTAINER = 300

# (definition file, payload sizes in bytes for PKT_LEN-sized binaries)
DEFINITIONS = {
    "swapi": ("swapi_packet_definition.xml", None),
    "mag": ("MAG_SCI_COMBINED.xml", "1,96,191,384"),
    "glows_hist": ("P_GLX_TMSCHIST.xml", None),
    "glows_de": ("P_GLX_TMSCDE.xml", None),
}


def _required_env(name: str) -> str:
    value = os.environ.get(name)
    assert value, f"environment variable {name} must be set (see scripts/test)"
    return value


@pytest.fixture(scope="module")
def sdc() -> str:
    path = _required_env("SDC_BIN")
    assert os.access(path, os.X_OK), f"SDC_BIN={path} is not executable"
    return path


@pytest.fixture(scope="module")
def shared() -> Path:
    path = Path(_required_env("SDC_SHARED"))
    assert (path / "testdata" / "tools" / "gen_packets.py").is_file(), f"no gen_packets.py under {path}"
    return path


def _xtce(shared: Path, name: str) -> Path:
    return shared / "testdata" / "xtce" / DEFINITIONS[name][0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_field_matches_space_packet_parser(sdc, shared, tmp_path, name, seed):
    xtce = _xtce(shared, name)
    containers = concrete_containers(xtce)
    assert containers, f"{xtce} has no concrete containers"
    packets = generate(shared, xtce, containers, PACKETS_PER_CONTAINER, seed, tmp_path / name, DEFINITIONS[name][1])
    oracle = decode_with_spp(xtce, packets)
    assert len(oracle) == len(containers)

    derived = decode_with_sdc(sdc, xtce, packets)
    assert {document["container"] for document in derived.values()} == set(containers)
    assert mismatches(oracle, derived, "derived") == []

    raw = decode_with_sdc(sdc, xtce, packets, "--raw")
    assert mismatches(oracle, raw, "raw") == []


@pytest.mark.parametrize("seed", SEEDS)
def test_synthetic_encodings_match_space_packet_parser(sdc, shared, tmp_path, seed):
    """Floats, little-endian and 64-bit integers, strings, odd-sized binaries, splines, cubic polynomials."""
    xtce = tmp_path / "synthetic.xml"
    xtce.write_text(SYNTHETIC_XTCE)
    packets = generate(shared, xtce, ["FIXED", "VAR"], PACKETS_PER_CONTAINER, seed, tmp_path / "synthetic", "0,1,5,64")
    oracle = decode_with_spp(xtce, packets)
    assert sorted(oracle) == [100, 200]
    assert mismatches(oracle, decode_with_sdc(sdc, xtce, packets), "derived") == []
    assert mismatches(oracle, decode_with_sdc(sdc, xtce, packets, "--raw"), "raw") == []


def test_mag_variable_size_packets_have_all_sizes(sdc, shared, tmp_path):
    xtce = _xtce(shared, "mag")
    packets = generate(shared, xtce, ["P_MAG_SCI_NORM"], 200, 5, tmp_path / "mag", "1,96,191,384")
    decoded = decode_with_sdc(sdc, xtce, packets, "--raw")
    lengths = {len(vector) // 2 for vector in decoded[1052]["fields"]["VECTORS"]}
    assert lengths == {1, 96, 191, 384}


def test_container_filter_and_csv(sdc, shared, tmp_path):
    xtce = _xtce(shared, "swapi")
    packets = generate(shared, xtce, ["SWP_HK", "SWP_SCI"], 50, 0, tmp_path / "swapi", None)
    only_science = decode_with_sdc(sdc, xtce, packets, "--container", "SWP_SCI")
    assert [document["container"] for document in only_science.values()] == ["SWP_SCI"]

    completed = subprocess.run([sdc, "packets", "decode", str(packets), "--xtce", str(xtce), "--format", "csv",
                                "--container", "SWP_SCI"], check=True, capture_output=True, text=True)
    lines = completed.stdout.splitlines()
    assert lines[0] == "# container SWP_SCI apid 1188 packets 50"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert len(rows) == 50
    science = only_science[1188]["fields"]
    for name, values in science.items():
        assert [row[name] for row in rows] == [str(value) for value in values], name


def test_inspect_reports_damage_and_gaps(sdc, shared, tmp_path):
    xtce = _xtce(shared, "swapi")
    packets = generate(shared, xtce, ["SWP_HK", "SWP_SCI"], 20, 0, tmp_path / "swapi", None)
    data = packets.read_bytes()
    sizes = []  # (offset, size, APID) of every packet
    offset = 0
    while offset < len(data):
        size = ((data[offset + 4] << 8) | data[offset + 5]) + 7
        sizes.append((offset, size, ((data[offset] & 7) << 8) | data[offset + 1]))
        offset += size
    # Drop the fifth packet (a sequence gap in its APID) and cut the last packet short.
    drop_offset, drop_size, drop_apid = sizes[4]
    damaged = data[:drop_offset] + data[drop_offset + drop_size:-10]
    broken = tmp_path / "broken.pkts"
    broken.write_bytes(damaged)

    completed = subprocess.run([sdc, "packets", "inspect", str(broken), "--xtce", str(xtce), "--json"],
                               check=True, capture_output=True, text=True)
    report = json.loads(completed.stdout)
    by_apid = {entry["apid"]: entry for entry in report["apids"]}
    assert by_apid[drop_apid]["gaps"] == 1 and by_apid[drop_apid]["missing"] == 1
    last_apid = sizes[-1][2]
    assert by_apid[last_apid]["damage"]["truncated"]["count"] == 1
    assert by_apid[last_apid]["damage"]["truncated"]["first_offset"] == sizes[-1][0] - drop_size
    assert report["packets"] == len(sizes) - 2
    assert report["decoded"] == len(sizes) - 2

    # Packets of APIDs the definition does not know are counted and skipped.
    unknown = subprocess.run([sdc, "packets", "inspect", str(packets), "--xtce", str(_xtce(shared, "mag")), "--json"],
                             check=True, capture_output=True, text=True)
    report = json.loads(unknown.stdout)
    assert report["decoded"] == 0
    assert sum(entry["damage"]["unknownAPID"]["count"] for entry in report["apids"]) == 40


def test_unsupported_construct_names_element_and_line(sdc, shared, tmp_path):
    text = _xtce(shared, "glows_de").read_text()
    marker = '<xtce:IntegerDataEncoding sizeInBits="32" encoding="signed" />'
    assert marker in text
    line = text[: text.index(marker)].count("\n") + 1
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace(marker, '<xtce:IntegerDataEncoding sizeInBits="32" encoding="BCD" />'))
    completed = subprocess.run([sdc, "packets", "decode", str(tmp_path / "none.pkts"), "--xtce", str(broken)],
                               capture_output=True, text=True)
    assert completed.returncode != 0
    assert f"XTCE line {line}: unsupported element <IntegerDataEncoding>" in completed.stderr
