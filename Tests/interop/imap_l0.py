"""Generated Level 0 that imap_processing 1.0.40 accepts as real instrument data, and the ancillary tables it needs.

gen_packets.py draws every field at random, which decodes fine but is not what an instrument sends: SWAPI's L1
science only keeps complete sweeps (12 packets 1 s apart, SEQ_NUMBER 0..11, MODE HVSCI, one PLAN_ID and
SWEEP_TABLE per sweep). ``patch_fields`` rewrites chosen fields of generated packets in place, by the bit layout
gen_packets.py writes beside them (``<out>.truth.json``), so the rest stays the generator's bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Callable


def generate(shared: Path, xtce: Path, containers: list[str], n: int, met: int, cadence: int, out: Path,
             dynamic_bytes: str | None = None) -> Path:
    """Runs the shared generator; returns the .pkts path (the .truth.json layout is beside it)."""
    command = [sys.executable, str(shared / "testdata" / "tools" / "gen_packets.py"), "--xtce", str(xtce), "-n", str(n),
               "--start-met", str(met), "--cadence", str(cadence), "--out", str(out)]
    for container in containers:
        command += ["--container", container]
    if dynamic_bytes:
        command += ["--dynamic-bytes", dynamic_bytes]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out.with_suffix(".pkts")


def _set_bits(packet: bytearray, offset: int, nbits: int, value: int) -> None:
    for bit in range(nbits):
        position = offset + bit
        mask = 0x80 >> (position % 8)
        if (value >> (nbits - 1 - bit)) & 1:
            packet[position // 8] |= mask
        else:
            packet[position // 8] &= ~mask & 0xFF


def patch_fields(packets: Path, values: dict[int, Callable[[int], dict[str, int]]]) -> None:
    """Rewrites fields of fixed-layout packets: for APID a, ``values[a](i)`` gives {field name: raw value} for its
    i-th packet. Field offsets come from the generator's truth.json (fields before a patched one must be fixed-size)."""
    layout = json.loads(packets.with_suffix(".truth.json").read_text())
    offsets: dict[int, dict[str, tuple[int, int]]] = {}
    for apid, schema in layout.items():
        position, fields = 0, {}
        for field in schema["fields"]:
            if field["nbits"] is None:  # variable size: the fields after it have no fixed offset
                break
            fields[field["name"]] = (position, field["nbits"])
            position += field["nbits"]
        offsets[int(apid)] = fields
    data = bytearray(packets.read_bytes())
    counters: dict[int, int] = {}
    cursor = 0
    while cursor + 6 <= len(data):
        apid = ((data[cursor] & 0x07) << 8) | data[cursor + 1]
        length = ((data[cursor + 4] << 8) | data[cursor + 5]) + 7
        if apid in values:
            index = counters.get(apid, 0)
            counters[apid] = index + 1
            packet = bytearray(data[cursor:cursor + length])
            for name, value in values[apid](index).items():
                offset, nbits = next(v for k, v in offsets[apid].items() if k == name or k.endswith("." + name))
                _set_bits(packet, offset, nbits, value)
            data[cursor:cursor + length] = packet
        cursor += length
    packets.write_bytes(bytes(data))


SWAPI_HK_APID, SWAPI_SCI_APID = 1184, 1188


def swapi_l0(shared: Path, out: Path, met: int, sweeps: int) -> Path:
    """SWAPI L0 for one day from ``met``: ``sweeps`` complete HVSCI sweeps (12 science packets 1 s apart) and one
    housekeeping packet per science packet, as the instrument sends them."""
    xtce = shared / "testdata" / "xtce" / "swapi_packet_definition.xml"
    path = generate(shared, xtce, ["SWP_HK", "SWP_SCI"], 12 * sweeps, met, 1, out)
    patch_fields(path, {SWAPI_SCI_APID: lambda i: {"SEQ_NUMBER": i % 12, "MODE": 3, "PLAN_ID": 1, "SWEEP_TABLE": 1}})
    return path


def swapi_esa_unit_conversion(path: Path, sweep_table: int = 1) -> Path:
    """A SWAPI ``esa-unit-conversion`` table in the mission's CSV layout for one sweep table: 72 fixed ESA steps
    (62 coarse, then fine), no "Solve" step, so the ``lut-notes`` table is read but not indexed. The mission's own
    table is not public; the values are placeholders of the right shape."""
    rows = ["timestamp,Sweep #,ESA Step #,ESA Index Number,Energy"]
    for step in range(72):
        rows.append(f"01/01/2024 00:00,{sweep_table},{step},{step},\"{int(20000 * 0.93 ** step):,}\"")
    path.write_text("\n".join(rows) + "\n")
    return path


def swapi_lut_notes(path: Path) -> Path:
    """A SWAPI ``lut-notes`` table in the mission's CSV layout (ESA DAC value -> energy); placeholder values."""
    rows = ["ESA DAC (Hex),Energy"] + [f"{dac:04X},{int(20000 * 0.99 ** dac)}" for dac in range(256)]
    path.write_text("\n".join(rows) + "\n")
    return path


MAG_NORM_APID, MAG_BURST_APID = 1052, 1068


def mag_l0(shared: Path, xtce: Path, out: Path, met: int, n: int) -> Path:
    """MAG L0 (normal and burst) whose headers agree with their vector payload. gen_packets.py draws PUS_SSUBTYPE
    (seconds of data per packet, minus 1), PRI_VECSEC/SEC_VECSEC (log2 of vectors per second per sensor) and
    COMPRESSION independently of the VECTORS length, so imap_processing's mag_l1a reads past the payload
    ("IndexError: index 384 is out of bounds"). Here every packet holds 8 uncompressed vectors of 50 bits in a 96-byte
    payload, one packet every 2 s."""
    path = generate(shared, xtce, ["P_MAG_SCI_NORM", "P_MAG_SCI_BURST"], n, met, 2, out, dynamic_bytes="96")

    def fields(seconds: int, log2_rate: int):
        def packet(index: int) -> dict[str, int]:
            return {"PUS_SSUBTYPE": seconds - 1, "COMPRESSION": 0, "PRI_VECSEC": log2_rate, "SEC_VECSEC": log2_rate, "PRI_SENS": 0,
                    "PRI_COARSETM": met + 2 * index, "PRI_FNTM": 0, "SEC_COARSETM": met + 2 * index, "SEC_FNTM": 0}
        return packet
    # Burst runs at a higher rate than normal mode (mag_l1c needs both rates): 2 s at 2 vectors/s, 2 s at 4 vectors/s
    # would not fit, so burst packets hold 1 s at 4 vectors/s (8 vectors too).
    patch_fields(path, {MAG_NORM_APID: fields(2, 1), MAG_BURST_APID: fields(1, 2)})
    return path


GLOWS_HIST_APID = 1480


def glows_l0(shared: Path, xtce: Path, out: Path, met: int, n: int) -> Path:
    """GLOWS histogram L0, one block every 60 s from ``met``. gen_packets.py draws the block start times (SEC,
    GLXSEC) at random, up to 2**32 s after 2010, past the end of the SCLK kernel (SPICE(VALUEOUTOFRANGE) in
    glows_l1a), and the spin counters (STARTID, ENDID) so that counts above 2**31 (EVENTS, HVVAR, SPVAR) overflow their uint32 variables; here the
    times follow the packet clock, each block holds 10 spins and 3600 bins (the payload's size)."""
    path = generate(shared, xtce, ["P_GLX_TMSCHIST"], n, met, 60, out, dynamic_bytes="3600")

    def fields(index: int) -> dict[str, int]:
        start = met + 60 * index
        return {"SEC": start, "SUBSEC": 0, "OFFSETSEC": 60, "OFFSETSUBSEC": 0,
                "GLXSEC": start, "GLXSUBSEC": 0, "GLXOFFSEC": 60, "GLXOFFSUBSEC": 0,
                "STARTID": 10 * index, "ENDID": 9, "SPINS": 10, "NBINS": 3600, "EVENTS": 1000, "HVVAR": 100, "SPVAR": 100}
    patch_fields(path, {GLOWS_HIST_APID: fields})
    return path


def mag_l1b_calibration(path: Path) -> Path:
    """A MAG ``l1b-calibration`` ancillary CDF in the layout imap_processing 1.0.40's mag_l1b reads: per sensor a
    3 x 3 x 4 calibration matrix (one 3 x 3 per range; MFOTOURFO for MAGo, MFITOURFI for MAGi) and a time shift in
    seconds (OTS, ITS), without an epoch. The mission's calibration is not public; here every matrix is the identity
    and the shifts are 0."""
    import cdflib
    import numpy as np
    from cdflib.cdfwrite import CDF

    identity = np.ascontiguousarray(np.repeat(np.eye(3)[:, :, None], 4, axis=2))
    if path.exists():
        path.unlink()
    cdf = CDF(str(path))
    cdf.write_globalattrs({"Logical_source": {0: "imap_mag_l1b-calibration"}, "Data_version": {0: "v001"}})
    for name in ("MFOTOURFO", "MFITOURFI"):
        cdf.write_var({"Variable": name, "Data_Type": cdflib.cdfwrite.CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": False,
                       "Dim_Sizes": [3, 3, 4]}, var_attrs={"VAR_TYPE": "data"}, var_data=identity)
    for name in ("OTS", "ITS"):
        cdf.write_var({"Variable": name, "Data_Type": cdflib.cdfwrite.CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": False,
                       "Dim_Sizes": []}, var_attrs={"VAR_TYPE": "data"}, var_data=np.array(0.0))
    cdf.close()
    return path


# ---- GLOWS L1B: the SPICE kernels, spin table and ancillary tables it reads.

# The shipped simulated kernels (imap_processing/ultra/l1c/sim_spice_kernels) cover 2025-04-15 onwards: attitude (CK
# -43000, one pointing a day from 00:29:45 to 23:30:15), pointing frame (CK -43901) and IMAP's ephemeris about the Earth.
GLOWS_L1B_DAY = "20250416"
# MET of 2025-04-16 00:59:57 UTC (IMAP's SCLK, imap_sclk_0000.tsc): inside that day's pointing.
GLOWS_L1B_MET = 482_461_200
# MET counts from 2010-01-01 00:00:00 UTC with the 3 leap seconds inserted since (2012, 2015, 2016).
MET_LEAP_SECONDS = 3


def glows_l1b_kernels(site: Path, folder: Path, python: Path) -> list[Path]:
    """The kernels GLOWS L1B needs (production's `hist_spice`, attitude history, reconstructed and planetary
    ephemeris) under IMAP's kernel names, so that sdc types them and reads their coverage from the name like the
    mission's: the simulated attitude, pointing frame, ephemeris and frame kernels shipped in the imap-processing wheel,
    and a planetary ephemeris written here (the mission uses JPL's DE440, which the wheel does not hold)."""
    import shutil

    shipped = site / "ultra" / "l1c" / "sim_spice_kernels"
    folder.mkdir(parents=True, exist_ok=True)
    copies = {"sim_1yr_imap_attitude.bc": "imap_2025_105_2025_107_01.ah.bc",
              "sim_1yr_imap_pointing_frame.bc": "imap_dps_2025_105_2025_107_01.ah.bc",
              "imap_spk_demo.bsp": "imap_recon_20250415_20250420_v01.bsp",
              "imap_001.tf": "imap_001.tf", "imap_science_100.tf": "imap_science_100.tf"}
    paths = []
    for source, name in copies.items():
        paths.append(folder / name)
        shutil.copyfile(shipped / source, paths[-1])
    # A planetary ephemeris name carries no coverage: the newest version serves every day. This one is below the
    # de440.bsp that imap_kernels.py writes for the MAG test, which runs after the GLOWS test on the shared server.
    paths.append(planetary_ephemeris(python, folder / "de001.bsp", "2025-04-14", "2025-04-19"))
    return paths


PLANETARY_EPHEMERIS_SCRIPT = r'''
import sys
import numpy as np
import spiceypy
sys.path.insert(0, sys.argv[1])
import imap_kernels
path, first, last, leapseconds = sys.argv[2:]
spiceypy.furnsh(leapseconds)
times = np.arange(spiceypy.utc2et(first), spiceypy.utc2et(last) + 1, 3600.0)
handle = spiceypy.spkopn(path, "sdc test planetary ephemeris", 0)
for body, centre, state in ((10, 0, lambda t: np.zeros(6)), (399, 10, imap_kernels.earth_state)):
    states = np.array([state(t) for t in times])
    spiceypy.spkw09(handle, body, centre, "J2000", times[0], times[-1], f"sdc test {body}", 7, len(times), states, times)
spiceypy.spkcls(handle)
'''


def planetary_ephemeris(python: Path, path: Path, first: str, last: str) -> Path:
    """A planetary ephemeris (type-9 SPK, hourly states) from ``first`` to ``last`` (UTC dates): the Sun at the
    solar-system barycentre and the Earth about the Sun as imap_kernels.py models them (a circular orbit of 1 AU in
    the ecliptic), so that imap_processing can chain IMAP's Earth-relative ephemeris to the Sun. Written with spiceypy
    from the imap-processing environment (``python``)."""
    if path.exists():
        path.unlink()
    site = next(python.parent.parent.glob("lib/python3*/site-packages/imap_processing"))
    leapseconds = site / "ultra" / "l1c" / "sim_spice_kernels" / "naif0012.tls"
    subprocess.run([str(python), "-c", PLANETARY_EPHEMERIS_SCRIPT, str(Path(__file__).parent), str(path), first, last, str(leapseconds)],
                   check=True, capture_output=True, text=True)
    return path


def spin_table(path: Path, start_met: int, spins: int, period: float = 15.0) -> Path:
    """A spin table in the mission's CSV layout (imap_processing.spice.spin): ``spins`` valid spins of ``period``
    seconds from ``start_met``, no thruster firing, corrected start times equal to the measured ones."""
    from datetime import datetime, timedelta

    rows = ["spin_number,spin_start_sec_sclk,spin_start_subsec_sclk,spin_start_utc,spin_start_sec_sclk_corr,"
            "spin_start_subsec_sclk_corr,spin_start_utc_corr,spin_period_sec,spin_period_valid,spin_phase_valid,"
            "spin_period_source,thruster_firing"]
    for spin in range(spins):
        met = start_met + spin * period
        seconds, micros = int(met), round((met - int(met)) * 1e6)
        utc = (datetime(2010, 1, 1) + timedelta(seconds=met - MET_LEAP_SECONDS)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        rows.append(f"{spin},{seconds},{micros},{utc},{seconds},{micros},{utc},{period},1,1,0,0")
    path.write_text("\n".join(rows) + "\n")
    return path


# The ancillary tables GLOWS L1B reads, by the descriptor imap_cli asks for, from the files the imap-processing wheel
# ships in imap_processing/glows/ancillary (the instrument team's own exclusion maps, settings and conversion table).
GLOWS_L1B_TABLES = {
    "pipeline-settings": "imap_glows_pipeline-settings_20250923_v002.json",
    "l1b-exclusions-by-instr-team": "imap_glows_exclusions-by-instr-team_20250923_v002.dat",
    "l1b-map-of-excluded-regions": "imap_glows_map-of-excluded-regions_20250923_v002.dat",
    "l1b-map-of-uv-sources": "imap_glows_map-of-uv-sources_20250923_v002.dat",
    "l1b-suspected-transients": "imap_glows_suspected-transients_20250923_v002.dat",
    "l1b-conversion-table-for-anc-data": "l1b_conversion_table_v001.json",
}


def glows_l1b_tables(site: Path, folder: Path, start_date: str = "20250101") -> list[Path]:
    """The GLOWS L1B ancillary tables under IMAP ancillary names valid from ``start_date``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for descriptor, source in GLOWS_L1B_TABLES.items():
        paths.append(folder / f"imap_glows_{descriptor}_{start_date}_v001.{source.rsplit('.', 1)[1]}")
        shutil.copyfile(site / "glows" / "ancillary" / source, paths[-1])
    return paths


GLOWS_DE_APID = 1481


def glows_de_packets(met: int, seconds: int, events: int = 20) -> bytes:
    """GLOWS direct-event L0 (APID 1481), one single-packet block (LEN 1, SEQ 0) per second from ``met``, built here
    field by field (GLX_COMBINED.xml: MET, SEC, LEN, SEQ, then DE_DATA to the end of the packet), because DE_DATA is
    a compressed stream that random bytes do not decode as: a 40-byte status block (IMAP and GLOWS clocks at the
    last PPS, valid spin period and phase, 1 spin done, filter temperature and HV codes, one padding byte; the codes
    decode with the wheel's L1B conversion table to a 15 s spin, 20 degC and 1000 V), the
    first event uncompressed (seconds, then impulse length and 21-bit subseconds) and ``events - 1`` events as 2-byte
    time differences (marker 0b10) each followed by an impulse length."""
    import struct

    packets = b""
    for index in range(seconds):
        sec = met + index
        status = struct.pack(">IIII", sec, sec, 0, sec + 1) + bytes([0, 1, 1, 0]) + struct.pack(">HHI", 46875, 0, 1)
        status += struct.pack(">HH", 116, 1170) + bytes([1, 1, 1, 0, 0, 0, 0]) + b"\x00"
        data = status + struct.pack(">II", sec, (100 << 24) | 1000)
        for event in range(1, events):
            diff = 5000 + 37 * event
            data += bytes([0x80 | (diff >> 8), diff & 0xFF, 90 + event % 20])
        body = struct.pack(">IiHH", sec, sec, 1, 0) + data
        header = struct.pack(">HHH", (1 << 11) | GLOWS_DE_APID, (3 << 14) | (index & 0x3FFF), len(body) - 1)
        packets += header + body
    return packets


def met(utc: str) -> int:
    """IMAP MET seconds of a UTC time ``YYYY-MM-DD HH:MM:SS`` (after 2017, with the leap seconds since 2010)."""
    from datetime import datetime

    return int((datetime.fromisoformat(utc) - datetime(2010, 1, 1)).total_seconds()) + MET_LEAP_SECONDS


def repoint_table(path: Path, repoints: list[tuple[int, str, str]]) -> Path:
    """A repoint table in the mission's CSV layout (imap_processing.spice.repoint): per manoeuvre (repoint_id, start
    UTC, end UTC), its start and end in MET seconds and microseconds, then in UTC."""
    rows = ["repoint_start_sec_sclk,repoint_start_subsec_sclk,repoint_end_sec_sclk,repoint_end_subsec_sclk,"
            "repoint_start_utc,repoint_end_utc,repoint_id"]
    for repoint_id, start, end in repoints:
        rows.append(f"{met(start)},0,{met(end)},0,{start}.000,{end}.000,{repoint_id}")
    path.write_text("\n".join(rows) + "\n")
    return path
