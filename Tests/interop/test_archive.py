"""Issue 12 (archive delivery to the SPDF): `sdc archive` packs the released CDF products of an instrument and level
as a BagIt bag that PyPI's `bagit` validates, refuses an ISTP-invalid file with its reasons, records the delivery in
the ledger, and after a reprocessing lists the re-deliveries owed (`--pending`) and delivers exactly those."""
import shutil
import subprocess
from pathlib import Path

import bagit
import pytest
import requests

from conftest import REPO, imap_cli, wait_for

BUILT_IN_XTCE = REPO / "Sources" / "SDCPipeline" / "Resources" / "pipeline" / "xtce"
L1A = ["imap_swapi_l1a_hk_20250101_v001.0001.cdf", "imap_swapi_l1a_sci_20250101_v001.0001.cdf"]
REPROCESSED = ["imap_swapi_l1a_hk_20250101_v001.0002.cdf", "imap_swapi_l1a_sci_20250101_v001.0002.cdf"]
INVALID = "imap_swapi_l1a_bad_20250102_v001.0001.cdf"


def cli(server, *args):
    result = subprocess.run([*imap_cli(), *args], env=server.env(api_key=server.write_key), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def l1a_names(server):
    reply = requests.get(f"{server.url}/api-key/query", params={"instrument": "swapi", "data_level": "l1a"},
                         headers={"x-api-key": server.read_key}, timeout=30)
    return sorted(Path(row["file_path"]).name for row in reply.json())


def release(server, folder: Path, version: int):
    manifest = folder / f"imap_swapi_data-release-001_20250101_20250131_v{version:03d}.txt"
    manifest.write_text("# every SWAPI product of January 2025\n")
    assert "Successfully submitted release request" in cli(server, "release", "--release-type", "release", "--manifest-file", str(manifest)).stdout


def archive(server, *args):
    return subprocess.run([server.sdc_bin, "archive", "--root", str(server.root), *args], capture_output=True, text=True, timeout=300)


def test_archive_delivers_validated_bags_and_owes_redeliveries(sdc_server, shared_dir, tmp_path):
    from packets_oracle import generate

    folder = tmp_path / "uploads"
    folder.mkdir()
    packets = generate(shared_dir, BUILT_IN_XTCE / "swapi_packet_definition.xml", ["SWP_HK", "SWP_SCI"], 40, 7, tmp_path / "generated")
    l0 = folder / "imap_swapi_l0_raw_20250101_v001.0000.pkts"
    l0.write_bytes(packets.read_bytes())
    cli(sdc_server, "upload", str(l0))
    wait_for(lambda: l1a_names(sdc_server) == L1A, "the built-in L1A products", timeout=120)
    # A product that breaks the ISTP rules (no global attributes at all).
    invalid = folder / INVALID
    invalid.write_bytes((shared_dir / "testdata" / "cdf" / "minimal.cdf").read_bytes())
    cli(sdc_server, "upload", str(invalid))
    dates = ["--instrument", "swapi", "--level", "l1a", "--from", "20250101", "--to", "20250131"]
    # Nothing is released yet: nothing to deliver.
    first = archive(sdc_server, *dates, str(tmp_path / "none"))
    assert first.returncode != 0 and "no released CDF products of swapi l1a" in first.stderr
    release(sdc_server, folder, 1)

    bag_path = tmp_path / "delivery-1"
    result = archive(sdc_server, *dates, str(bag_path))
    assert result.returncode == 1, result.stderr  # a file was refused
    assert f"refused {INVALID}:" in result.stderr and "ISTP: required global attribute Logical_source is missing or empty" in result.stderr
    bag = bagit.Bag(str(bag_path))
    bag.validate()
    assert sorted(Path(name).name for name in bag.payload_files()) == L1A
    assert bag.info["Payload-Oxum"].endswith(".2") and bag.info["External-Identifier"] == "delivery-1"
    assert set(bag.algorithms) == {"sha256"}
    for name in L1A:
        stored = requests.get(f"{sdc_server.url}/api-key/download/imap/swapi/l1a/2025/01/{name}", headers={"x-api-key": sdc_server.read_key},
                              timeout=30).content
        assert (bag_path / "data" / "imap" / "swapi" / "l1a" / "2025" / "01" / name).read_bytes() == stored
    # The manifests are real: a payload byte changed after packing fails validation.
    damaged = tmp_path / "damaged"
    shutil.copytree(bag_path, damaged)
    payload = damaged / "data" / "imap" / "swapi" / "l1a" / "2025" / "01" / L1A[0]
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(damaged)).validate()
    history = archive(sdc_server, "--history")
    assert history.returncode == 0 and "delivery-1  swapi l1a 2025-01-01..2025-01-31  2 files" in history.stdout
    assert archive(sdc_server, "--pending").stdout == ""

    # Reprocessing makes v001.0002 of both products; once released, both are owed.
    cli(sdc_server, "reprocess", "--start-date", "20250101", "--end-date", "20250101", "--instrument", "swapi")
    wait_for(lambda: set(REPROCESSED) <= set(l1a_names(sdc_server)), "the reprocessed L1A products", timeout=120)
    assert archive(sdc_server, "--pending").stdout == ""  # not released yet
    release(sdc_server, folder, 2)
    pending = archive(sdc_server, "--pending", "--instrument", "swapi").stdout.splitlines()
    assert [line.split()[0] for line in pending] == REPROCESSED
    assert all(f"replaces {old} (delivery 1," in line for line, old in zip(pending, L1A))

    # The same command now delivers exactly what is owed, and nothing is owed afterwards.
    again = archive(sdc_server, *dates, str(tmp_path / "delivery-2"))
    assert again.returncode == 1 and f"refused {INVALID}:" in again.stderr
    second = bagit.Bag(str(tmp_path / "delivery-2"))
    second.validate()
    assert sorted(Path(name).name for name in second.payload_files()) == REPROCESSED
    assert archive(sdc_server, "--pending").stdout == ""

