"""Issue 11 item 6: sdc's built-in XTCE L1A against imap_processing 1.0.40's L1A, on the same L0 bytes.

sdc's side runs through a real `sdc serve` (an L0 upload makes the L1A products by itself). imap_processing's side
runs in its own venv (scripts/lib/imap_processing.sh, SDC_IMAP_PROCESSING_VENV) with the leapseconds and SCLK kernels
of its wheel furnished, calling the functions imap_cli's L1A calls and writing with its `write_cdf`. Both CDFs are
read with cdflib and every variable present in both is compared by name: values equal exactly (integers as integers,
epoch as TT2000 nanoseconds). Variables in only one of them are listed below, so a change is noticed."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SDCServer, imap_cli
from test_pipeline import BUILT_IN, science, wait_for

DATE = "20240924"
MET = 464_875_200  # 2024-09-24 12:00 UTC: inside the day, as imap_cli's day filter wants

VENV = Path(os.environ.get("SDC_IMAP_PROCESSING_VENV") or REPO / ".venv-imap-processing")
pytestmark = pytest.mark.skipif(not (VENV / "bin" / "python").is_file(),
                                reason=f"the imap-processing venv is absent ({VENV}): scripts/test builds it (ensure_imap_processing)")

# Runs in the imap-processing venv. SWAPI hk: swapi_l1(dependencies, "hk") as imap_cli's Swapi.do_processing calls it.
# SWAPI sci: imap_processing makes no L1A sci product (its L1 sci is made straight from L0); sdc's L1A sci is
# compared with the decode that L1 sci starts from, packet_file_to_datasets(..., use_derived_value=False).
# MAG: the norm-raw/burst-raw datasets mag_l1a makes (decom_mag.generate_dataset), which are sdc's MAG products.
# mag_l1a itself cannot run on generated L0: its mago/magi products (which sdc does not make) decode VECTORS, whose
# length must match PRI_VECSEC/SEC_VECSEC and COMPRESSION, and random fields do not (MagL1a.process_vector_data
# raises IndexError); gen_packets.py cannot set field values. GLOWS: glows_l1a.
IMAP_SIDE = r'''
import json, os, sys
from pathlib import Path
import numpy as np
import spiceypy
args = json.loads(sys.argv[1])
out = Path(args["out"])
os.environ["IMAP_DATA_DIR"] = str(out)
from imap_processing import imap_module_directory
from imap_processing.cdf.utils import write_cdf
spiceypy.furnsh(args["kernels"])
written = {}

def write(dataset):
    dataset.attrs["Data_version"] = "001.0001"
    dataset.attrs["Start_date"] = args["date"]
    written[dataset.attrs["Logical_source"]] = str(write_cdf(dataset))

from imap_data_access.processing_input import ProcessingInputCollection, ScienceInput
from imap_processing.swapi.l1.swapi_l1 import swapi_l1
from imap_processing.swapi.swapi_utils import SWAPIAPID
from imap_processing.utils import packet_file_to_datasets
swapi = Path(args["swapi"])
for dataset in swapi_l1(ProcessingInputCollection(ScienceInput(swapi.name)), "hk"):
    if dataset.attrs["Logical_source"] == "imap_swapi_l1a_hk":
        write(dataset)
xtce = f"{imap_module_directory}/swapi/packet_definitions/swapi_packet_definition.xml"
sci = packet_file_to_datasets(str(swapi), xtce, use_derived_value=False)[SWAPIAPID.SWP_SCI]
np.savez(out / "swapi_sci.npz", **{name: sci[name].values for name in sci.variables})
written["imap_swapi_l1a_sci"] = str(out / "swapi_sci.npz")

from imap_processing.cdf.imap_cdf_manager import ImapCdfAttributes
from imap_processing.mag.constants import DataMode
from imap_processing.mag.l0 import decom_mag
attributes = ImapCdfAttributes()
attributes.add_instrument_global_attrs("mag")
attributes.add_instrument_variable_attrs("mag", "l1a")
packets = decom_mag.decom_packets(Path(args["mag"]))
for mode, key in ((DataMode.NORM, "norm"), (DataMode.BURST, "burst")):
    write(decom_mag.generate_dataset(packets[key], mode, attributes))

from imap_processing.glows.l1a.glows_l1a import glows_l1a
for dataset in glows_l1a(Path(args["glows"])):
    write(dataset)
print(json.dumps(written))
'''


def kernels() -> list[str]:
    folder = next(VENV.glob("lib/python3*/site-packages/imap_processing/ultra/l1c/sim_spice_kernels"))
    return [str(folder / "naif0012.tls"), str(folder / "imap_sclk_0000.tsc")]


def glows_valid_times(packets: bytes, schema: Path) -> bytes:
    """Random L0 has negative signed fields: glows_l1a gives SPICE the block start time (SEC) for its epoch and
    stores the spin ids and variances (STARTID, HVVAR, SPVAR) as unsigned, and refuses both. Set each packet's SEC to
    its MET and clear the sign bit of the other signed fields, so both sides run on one file that a GLOWS could make."""
    fields = next(iter(json.loads(schema.read_text()).values()))["fields"]
    offsets, bit = {}, 0
    for field in fields:
        offsets[field["name"]] = (bit, field)
        bit += field["nbits"]
    data = bytearray(packets)
    start = 0
    while start < len(data):
        met = data[start + offsets["MET"][0] // 8:start + offsets["MET"][0] // 8 + 4]
        for name, (bit, field) in offsets.items():
            assert field["kind"] != "int" or bit % 8 == 0, f"{name} is not byte aligned"
            if name == "SEC":
                data[start + bit // 8:start + bit // 8 + 4] = met
            elif field["kind"] == "int":
                data[start + bit // 8] &= 0x7F
        start += struct.unpack(">H", data[start + 4:start + 6])[0] + 7
    return bytes(data)


INSTRUMENTS = {
    "swapi": ("swapi_packet_definition.xml", ["SWP_HK", "SWP_SCI"], None, {"hk", "sci"}),
    "mag": ("MAG_SCI_COMBINED.xml", ["P_MAG_SCI_NORM", "P_MAG_SCI_BURST"], "1,96,191,384", {"norm-raw", "burst-raw"}),
    "glows": ("P_GLX_TMSCHIST.xml", ["P_GLX_TMSCHIST"], None, {"hist"}),
}


@pytest.fixture(scope="module")
def products(sdc_bin, shared_dir, tmp_path_factory):
    """Per logical source: (sdc's CDF, imap_processing's CDF or .npz), both made from the same L0 bytes."""
    folder = tmp_path_factory.mktemp("crosscheck")
    data = folder / "imap-data"
    server = SDCServer(sdc_bin, folder / "root")
    try:
        inputs = {}
        for instrument, (xtce, containers, dynamic, _) in INSTRUMENTS.items():
            command = [sys.executable, str(shared_dir / "testdata" / "tools" / "gen_packets.py"), "--xtce", str(BUILT_IN / "xtce" / xtce),
                       "-n", "24", "--seed", "11", "--start-met", str(MET), "--cadence", "12", "--out", str(folder / "gen" / instrument)]
            for container in containers:
                command += ["--container", container]
            if dynamic:
                command += ["--dynamic-bytes", dynamic]
            subprocess.run(command, check=True, capture_output=True, text=True)
            content = (folder / "gen" / f"{instrument}.pkts").read_bytes()
            if instrument == "glows":
                content = glows_valid_times(content, folder / "gen" / "glows.truth.json")
            # Laid out as imap-data-access downloads it (imap_processing resolves its inputs under IMAP_DATA_DIR).
            l0 = data / "imap" / instrument / "l0" / DATE[:4] / DATE[4:6] / f"imap_{instrument}_l0_raw_{DATE}_v001.pkts"
            l0.parent.mkdir(parents=True)
            l0.write_bytes(content)
            inputs[instrument] = str(l0)
            upload = folder / f"imap_{instrument}_l0_raw_{DATE}_v001.0000.pkts"
            upload.write_bytes(content)
            result = subprocess.run([*imap_cli(), "upload", str(upload)], env=server.env(api_key=server.write_key),
                                    capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
        imap = subprocess.run([str(VENV / "bin" / "python"), "-c", IMAP_SIDE,
                               json.dumps({"out": str(data), "date": DATE, "kernels": kernels(), **inputs})],
                              capture_output=True, text=True, timeout=300)
        assert imap.returncode == 0, imap.stderr[-4000:]
        theirs = json.loads(imap.stdout.strip().splitlines()[-1])
        pairs = {}
        for instrument, (_, _, _, descriptors) in INSTRUMENTS.items():
            rows = wait_for(lambda: (lambda r: r if len(r) == len(descriptors) else None)(
                science(server, instrument=instrument, data_level="l1a")), timeout=120)
            for row in rows:
                source = f"imap_{instrument}_l1a_{row['descriptor']}"
                pairs[source] = (server.root / "objects" / row["file_path"], Path(theirs[source]))
        return pairs
    finally:
        server.stop()


def variables(path: Path) -> dict:
    if path.suffix == ".npz":
        with np.load(path) as loaded:
            return {name: loaded[name] for name in loaded.files}
    import cdflib
    cdf = cdflib.CDF(str(path))
    return {name: cdf.varget(name) for name in cdf.cdf_info().zVariables}


# imap_processing's deliberate conversions, checked against sdc's raw values: name in imap_processing's product ->
# (the sdc variables it is made from, how imap_processing computes it from them).
MAG_RAW = {
    # mag/l0/mag_l0_data.py MagL0.__post_init__: PRI_VECSEC/SEC_VECSEC hold 2**raw (vectors per second).
    "pri_vecsec": (["pri_vecsec"], lambda raw: 2 ** raw.astype(np.int64)),
    "sec_vecsec": (["sec_vecsec"], lambda raw: 2 ** raw.astype(np.int64)),
    # mag/l0/decom_mag.py generate_dataset: the VECTORS bytes as float64, zero padded as sdc pads them.
    "raw_vectors": (["vectors"], lambda raw: raw.astype(np.float64)),
    # decom_mag.generate_dataset stores met_to_ttj2000ns(SHCOARSE) (nanoseconds since J2000) in a datetime64[ns]
    # array (nanoseconds since 1970 UTC), and write_cdf converts that date, in 1994, to TT2000: its epoch is sdc's
    # minus J2000 in Unix time (946727935.816 s) minus the 3 leap seconds of 1996-1998. imap_processing 1.0.40 is
    # wrong here (its MAG raw epoch reads as 1994); sdc's epoch is the TT2000 of SHCOARSE, as SWAPI's is in both.
    "epoch": (["epoch"], lambda epoch: epoch - (946_727_935_816_000_000 + 3_000_000_000)),
}
GLOWS_HIST = {
    # glows/l1a/glows_l1a_data.py HistogramL1A.__post_init__: renamed fields, and the block's times in seconds.
    "first_spin_id": (["startid"], lambda raw: raw),
    "last_spin_id": (["startid", "endid"], lambda start, end: start.astype(np.int64) + end),
    "flags_set_onboard": (["flags"], lambda raw: raw),
    "number_of_spins_per_block": (["spins"], lambda raw: raw),
    "number_of_bins_per_histogram": (["nbins"], lambda raw: raw),
    "number_of_events": (["events"], lambda raw: raw),
    "filter_temperature_average": (["tempavg"], lambda raw: raw),
    "filter_temperature_variance": (["tempvar"], lambda raw: raw),
    "hv_voltage_average": (["hvavg"], lambda raw: raw),
    "hv_voltage_variance": (["hvvar"], lambda raw: raw),
    "spin_period_average": (["spavg"], lambda raw: raw),
    "spin_period_variance": (["spvar"], lambda raw: raw),
    "pulse_length_average": (["elavg"], lambda raw: raw),
    "pulse_length_variance": (["elvar"], lambda raw: raw),
    "seq_count_in_pkts_file": (["src_seq_ctr"], lambda raw: raw),
    # HistogramL1A.__post_init__ drops the last (padding) byte when NBINS is odd, and glows_l1a's
    # generate_histogram_dataset fills the bins past the histogram's length with 65535.
    "histogram": (["histogram_data", "nbins"], lambda raw, nbins: np.where(
        (np.arange(raw.shape[1]) == raw.shape[1] - 1) & (nbins % 2 == 1)[:, None], 65535, raw.astype(np.int64))),
    # TimeTuple.to_seconds: seconds + subseconds / 2 MHz.
    "imap_start_time": (["sec", "subsec"], lambda sec, sub: sec + sub / 2e6),
    "imap_time_offset": (["offsetsec", "offsetsubsec"], lambda sec, sub: sec + sub / 2e6),
    "glows_start_time": (["glxsec", "glxsubsec"], lambda sec, sub: sec + sub / 2e6),
    "glows_time_offset": (["glxoffsec", "glxoffsubsec"], lambda sec, sub: sec + sub / 2e6),
    # glows_l1a.generate_histogram_dataset: the epoch is the block's middle, met_to_ttj2000ns(imap_start_time +
    # imap_time_offset / 2), where sdc's is the packet's MET; SPICE's double arithmetic rounds below a microsecond.
    "epoch": (["sec", "subsec", "offsetsec", "offsetsubsec"], lambda sec, sub, offset, offset_sub: TT2000_OF_MET_0 + np.round(
        (sec + sub / 2e6 + (offset + offset_sub / 2e6) / 2) * 1e9).astype(np.int64)),
}
TT2000_OF_MET_0 = 315_576_066_184_000_000  # TT2000 of MET 0 (2010-01-01T00:00:00 UTC), as sdc's L1A epoch uses
CONVERSIONS = {"imap_mag_l1a_norm-raw": MAG_RAW, "imap_mag_l1a_burst-raw": MAG_RAW, "imap_glows_l1a_hist": GLOWS_HIST}

# Variables in only one product, after the conversions above. MAG: imap_processing drops SHCOARSE (the epoch is made
# from it) and the spare fields, and adds the vector axis. GLOWS: glows_l1a keeps no CCSDS header, nor the packet's
# MET or software version, and adds a constant flag and the bin axis; sdc's L1A keeps every packet field raw.
ONLY_SDC = {
    "imap_swapi_l1a_hk": set(), "imap_swapi_l1a_sci": set(),
    "imap_mag_l1a_norm-raw": {"pus_spare1", "pus_spare2", "shcoarse", "spare1", "spare2"},
    "imap_glows_l1a_hist": {"version", "type", "sec_hdr_flg", "pkt_apid", "seq_flgs", "pkt_len", "met", "swver"},
}
ONLY_SDC["imap_mag_l1a_burst-raw"] = ONLY_SDC["imap_mag_l1a_norm-raw"]
ONLY_IMAP = {
    "imap_swapi_l1a_hk": set(), "imap_swapi_l1a_sci": set(),
    "imap_mag_l1a_norm-raw": {"direction", "direction_label"}, "imap_mag_l1a_burst-raw": {"direction", "direction_label"},
    "imap_glows_l1a_hist": {"is_generated_on_ground", "bins", "bins_label"},
}
TOLERANCE_NS = {"imap_glows_l1a_hist": 1_000}  # the GLOWS epoch conversion above, in SPICE's double arithmetic


def same(a, b, tolerance: int = 0) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if tolerance:
        return a.shape == b.shape and bool(np.all(np.abs(a.astype(np.int64) - b.astype(np.int64)) <= tolerance))
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return a.shape == b.shape and np.array_equal(a.astype(np.int64), b.astype(np.int64))
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("source", ["imap_swapi_l1a_hk", "imap_swapi_l1a_sci", "imap_mag_l1a_norm-raw",
                                    "imap_mag_l1a_burst-raw", "imap_glows_l1a_hist"])
def test_built_in_l1a_matches_imap_processing(products, source):
    """Every variable of both products is equal by name, equal after imap_processing's named conversion, or in a
    documented set; the count of packets agrees."""
    ours, theirs = (variables(p) for p in products[source])
    assert "epoch" in ours and "epoch" in theirs
    conversions = CONVERSIONS.get(source, {})
    different, converted = [], set()
    for name, (inputs, convert) in conversions.items():
        tolerance = TOLERANCE_NS.get(source, 0) if name == "epoch" else 0
        if not same(convert(*(np.asarray(ours[i]) for i in inputs)), theirs[name], tolerance):
            different.append(f"{name} (from sdc's {', '.join(inputs)})")
        converted |= {name, *inputs}
    for name in sorted((set(ours) & set(theirs)) - converted):
        if not same(ours[name], theirs[name]):
            different.append(name)
    assert different == [], f"{source}: values differ in {different}"
    assert len(ours["epoch"]) == len(theirs["epoch"]) == 24
    assert set(ours) - set(theirs) - converted == ONLY_SDC[source]
    assert set(theirs) - set(ours) - converted == ONLY_IMAP[source]


@pytest.mark.parametrize("source", ["imap_swapi_l1a_hk", "imap_mag_l1a_norm-raw", "imap_mag_l1a_burst-raw", "imap_glows_l1a_hist"])
def test_built_in_l1a_cdf_types_match_imap_processing(products, source):
    """The CDF data type of every variable present in both products by name agrees, except MAG's: decom_mag's
    generate_dataset collects the header fields in Python lists, so imap_processing writes them all as CDF_INT8 where
    sdc (and imap_processing's own packet_file_to_datasets, as SWAPI shows) keeps the XTCE's integer widths."""
    import cdflib
    ours, theirs = (cdflib.CDF(str(p)) for p in products[source])
    common = sorted(set(ours.cdf_info().zVariables) & set(theirs.cdf_info().zVariables))
    assert "epoch" in common
    differing = {name: (ours.varinq(name).Data_Type_Description, theirs.varinq(name).Data_Type_Description)
                 for name in common if ours.varinq(name).Data_Type_Description != theirs.varinq(name).Data_Type_Description}
    if source.startswith("imap_mag"):
        assert set(differing) == set(common) - {"epoch"}
        assert {theirs_type for _, theirs_type in differing.values()} == {"CDF_INT8"}
        assert all(ours_type.startswith("CDF_UINT") for ours_type, _ in differing.values())
    else:
        assert differing == {}
    assert ours.varinq("epoch").Data_Type_Description == "CDF_TIME_TT2000"
