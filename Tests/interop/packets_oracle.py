"""Helpers for comparing `sdc packets decode` with space_packet_parser 6.2.0 (the oracle).

Packet files come from the shared generator (`testdata/tools/gen_packets.py`); both decoders read the same
file and every field of every packet is compared: integers and strings exactly, floats bit for bit, binary
values as lowercase hex.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import space_packet_parser as spp
from space_packet_parser import common


def concrete_containers(xtce: Path) -> list[str]:
    """Names of the leaf, non-abstract containers of a definition (what gen_packets.py can emit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definition = spp.load_xtce(xtce)
    return [name for name, c in definition.containers.items() if not c.abstract and not c.inheritors]


def generate(shared: Path, xtce: Path, containers: list[str], n: int, seed: int, out: Path,
             dynamic_bytes: str | None = None) -> Path:
    """Runs gen_packets.py and returns the path of the written .pkts file."""
    command = [sys.executable, str(shared / "testdata" / "tools" / "gen_packets.py"), "--xtce", str(xtce),
               "-n", str(n), "--seed", str(seed), "--out", str(out)]
    for container in containers:
        command += ["--container", container]
    if dynamic_bytes:
        command += ["--dynamic-bytes", dynamic_bytes]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out.with_suffix(".pkts")


def decode_with_spp(xtce: Path, packets: Path) -> dict[int, dict]:
    """Per APID: field names in packet order and, per field, the derived and raw values of every packet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        definition = spp.load_xtce(xtce)
        result: dict[int, dict] = {}
        with open(packets, "rb") as handle:
            for raw_packet in spp.ccsds_generator(handle):
                packet = definition.parse_bytes(raw_packet)
                group = result.setdefault(raw_packet.apid, {"fields": list(packet.keys()), "derived": {}, "raw": {}})
                assert list(packet.keys()) == group["fields"], f"APID {raw_packet.apid}: field set changed"
                for name, value in packet.items():
                    group["derived"].setdefault(name, []).append(value)
                    group["raw"].setdefault(name, []).append(value.raw_value)
    return result


def decode_with_sdc(sdc: str, xtce: Path, packets: Path, *extra: str) -> dict[int, dict]:
    """Per APID: the parsed JSON object `sdc packets decode --format json` printed for it."""
    completed = subprocess.run([sdc, "packets", "decode", str(packets), "--xtce", str(xtce), "--format", "json", *extra],
                               check=True, capture_output=True, text=True)
    result = {}
    for line in completed.stdout.splitlines():
        document = json.loads(line)
        assert document["apid"] not in result, f"APID {document['apid']} printed twice"
        result[document["apid"]] = document
    return result


def _float_bits(value) -> bytes:
    if isinstance(value, str):  # non-finite floats are written as strings
        value = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return struct.pack(">d", float(value))


def same_value(expected, actual) -> bool:
    """Whether a value from spp equals the value sdc printed (floats bit for bit)."""
    if isinstance(expected, common.BoolParameter):
        return isinstance(actual, bool) and actual == bool(expected)
    if isinstance(expected, bytes):
        return isinstance(actual, str) and actual == expected.hex()
    if isinstance(expected, float):
        if isinstance(actual, bool) or not isinstance(actual, (float, str)):
            return False
        if math.isnan(float(expected)):
            return isinstance(actual, str) and actual == "NaN"
        return _float_bits(actual) == _float_bits(expected)
    if isinstance(expected, int):
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == int(expected)
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == str(expected)
    return False


def mismatches(oracle: dict[int, dict], decoded: dict[int, dict], kind: str, limit: int = 20) -> list[str]:
    """Differences between spp (`kind` = "derived" or "raw") and sdc, at most `limit` of them."""
    problems: list[str] = []
    if sorted(oracle) != sorted(decoded):
        return [f"APIDs differ: spp {sorted(oracle)}, sdc {sorted(decoded)}"]
    for apid, expected in sorted(oracle.items()):
        actual = decoded[apid]
        count = len(expected[kind][expected["fields"][0]])
        if actual["packets"] != count:
            problems.append(f"APID {apid}: {actual['packets']} packets, spp has {count}")
        if list(actual["fields"]) != expected["fields"]:
            problems.append(f"APID {apid}: fields {list(actual['fields'])} != spp {expected['fields']}")
            continue
        for name in expected["fields"]:
            values = actual["fields"][name]
            if len(values) != count:
                problems.append(f"APID {apid} {name}: {len(values)} values, spp has {count}")
                continue
            for index, (want, got) in enumerate(zip(expected[kind][name], values)):
                if not same_value(want, got):
                    problems.append(f"APID {apid} {name}[{index}] ({kind}): sdc {got!r}, spp {want!r}")
                    if len(problems) >= limit:
                        return problems
    return problems
