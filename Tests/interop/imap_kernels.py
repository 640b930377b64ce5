"""Writes the SPICE kernels that imap_processing 1.0.40's MAG L2 (frame rotations into DSRF, SRF, GSE, GSM, RTN) reads
for one day, as the mission names them, so that the data center can choose them by kernel type and coverage.

Run with the imap-processing venv's interpreter (spiceypy lives there):
    python imap_kernels.py OUT_FOLDER YYYYMMDD

The mission's attitude, ephemeris and planetary kernels are not in the imap-processing wheel (its simulated ones
cover 2025-04-15..2026-04-15, not the test's day), so they are synthesized: a spacecraft spinning at 4 rpm about
its Z axis (attitude history CK), a despun pointing frame fixed in space (pointing CK), Earth on a circular 1 AU
orbit about the Sun and IMAP 1 % of the way sunward (reconstructed and predicted SPK), the Sun at the solar system
barycentre (planetary SPK) and the IAU rotation constants of the Sun and the Earth (text PCK). The science frame
kernel, the leapseconds and the SCLK kernels are the ones in the wheel. The wheel's IMAP frame kernel (imap_001.tf)
predates the IMAP_MAG_BASE frame that mag_l2 rotates from, so imap_002.tf is imap_001.tf plus that frame, aligned
with the spacecraft frame. Prints the written names."""

from __future__ import annotations

import math
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import imap_processing
import numpy as np
import spiceypy as spice

WHEEL_KERNELS = Path(imap_processing.__file__).parent / "ultra" / "l1c" / "sim_spice_kernels"
IMAP, SPACECRAFT, DPS = -43, -43000, -43901
AU_KM, YEAR_S = 149_597_870.7, 365.25636 * 86400
SPIN_PERIOD_S = 15.0

MAG_BASE_FRAME = """
The MAG base frame (absent from imap_001.tf), aligned with IMAP_SPACECRAFT: written by sdc's interop test.
\\begindata
FRAME_IMAP_MAG_BASE     = -43253
FRAME_-43253_NAME       = 'IMAP_MAG_BASE'
FRAME_-43253_CLASS      = 4
FRAME_-43253_CLASS_ID   = -43253
FRAME_-43253_CENTER     = -43
TKFRAME_-43253_RELATIVE = 'IMAP_SPACECRAFT'
TKFRAME_-43253_SPEC     = 'MATRIX'
TKFRAME_-43253_MATRIX   = ( 1 0 0  0 1 0  0 0 1 )
\\begintext
"""

PCK = """KPL/PCK
Rotation constants of the Sun and the Earth (IAU 2015, the values of NAIF's pck00011.tpc).
\\begindata
BODY10_POLE_RA  = ( 286.13  0.         0. )
BODY10_POLE_DEC = (  63.87  0.         0. )
BODY10_PM       = (  84.176 14.1844000 0. )
BODY10_RADII    = ( 696000. 696000. 696000. )
BODY399_POLE_RA  = (   0.      -0.641        0. )
BODY399_POLE_DEC = (  90.      -0.557        0. )
BODY399_PM       = ( 190.147  360.9856235    0. )
BODY399_RADII    = ( 6378.1366 6378.1366 6356.7519 )
\\begintext
"""


def earth_state(et: float) -> np.ndarray:
    """Earth about the Sun in J2000: a circular orbit of 1 AU in the ecliptic plane."""
    angle = 2 * math.pi * et / YEAR_S
    speed = 2 * math.pi * AU_KM / YEAR_S
    ecliptic = np.array([AU_KM * math.cos(angle), AU_KM * math.sin(angle), 0.0,
                         -speed * math.sin(angle), speed * math.cos(angle), 0.0])
    rotation = spice.pxform("ECLIPJ2000", "J2000", 0.0)
    return np.concatenate([rotation @ ecliptic[:3], rotation @ ecliptic[3:]])


def write_spk(path: Path, segments: list[tuple[int, int, callable]], begin: float, end: float) -> None:
    """Type 9 (Lagrange) segments of states every 10 minutes; each segment is (body, centre, state(et))."""
    times = list(np.arange(begin, end, 600.0)) + [end]
    handle = spice.spkopn(str(path), "sdc test ephemeris", 0)
    for body, centre, state in segments:
        states = np.array([state(t) for t in times])
        spice.spkw09(handle, body, centre, "J2000", begin, end, f"sdc test {body}", 7, len(times), states, times)
    spice.spkcls(handle)


def write_ck(path: Path, instrument: int, quaternion, begin: float, end: float, step: float) -> None:
    """A type 3 CK (quaternions with angular velocity) relative to J2000 from ``begin`` to ``end``, one record per
    ``step`` seconds, in one interpolation interval."""
    times = list(np.arange(begin, end, step)) + [end]
    ticks = [spice.sce2c(IMAP, t) for t in times]
    quaternions = np.array([quaternion(t) for t in times])
    rates = np.array([[0.0, 0.0, 2 * math.pi / SPIN_PERIOD_S if instrument == SPACECRAFT else 0.0]] * len(times))
    handle = spice.ckopn(str(path), "sdc test attitude", 0)
    spice.ckw03(handle, ticks[0], ticks[-1], instrument, "J2000", True, f"sdc test {instrument}", len(ticks), ticks,
                quaternions, rates, 1, [ticks[0]])
    spice.ckcls(handle)


def pointing(et: float) -> np.ndarray:
    """The despun pointing frame: Z towards the Sun (as IMAP's spin axis points), fixed for the day."""
    sun = -earth_state(et)[:3]
    z = sun / np.linalg.norm(sun)
    x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.array([x, y, z])  # rows: the frame's axes in J2000, i.e. the J2000 -> frame matrix


def main(out: Path, day: str) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    names = ["naif0012.tls", "imap_sclk_0000.tsc", "imap_science_100.tf"]
    for name in names:
        shutil.copy(WHEEL_KERNELS / name, out / name)
    (out / "imap_002.tf").write_text((WHEEL_KERNELS / "imap_001.tf").read_text() + MAG_BASE_FRAME)
    names.append("imap_002.tf")
    for name in names:
        spice.furnsh(str(out / name))
    start = datetime.strptime(day, "%Y%m%d")
    before, after = start - timedelta(days=1), start + timedelta(days=1)
    begin = spice.str2et(before.strftime("%Y-%m-%dT00:00:00"))
    end = spice.str2et((after + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00"))
    doy = lambda d: d.strftime("%Y_%j")  # noqa: E731
    span = f"{before:%Y%m%d}_{after:%Y%m%d}"

    (out / "pck00011.tpc").write_text(PCK)
    write_spk(out / "de440.bsp", [(10, 0, lambda t: np.zeros(6)), (399, 10, earth_state)], begin, end)
    for kind in ("recon", "pred"):
        write_spk(out / f"imap_{kind}_{span}_v01.bsp", [(IMAP, 10, lambda t: 0.99 * earth_state(t))], begin, end)

    def spinning(et: float) -> np.ndarray:
        angle = 2 * math.pi * ((et - begin) % SPIN_PERIOD_S) / SPIN_PERIOD_S
        spin = spice.rotate(angle, 3)  # about the pointing frame's Z
        return spice.m2q(spin @ pointing(begin))

    # The attitude covers the day itself (a record every 5 s, a third of a spin, keeps the CK small).
    day_begin, day_end = begin + 86400, begin + 2 * 86400
    attitude, pointing_name = f"imap_{doy(start)}_{doy(start)}_01.ah.bc", f"imap_dps_{doy(start)}_{doy(start)}_01.ah.bc"
    write_ck(out / attitude, SPACECRAFT, spinning, day_begin, day_end, 5.0)
    write_ck(out / pointing_name, DPS, lambda t: spice.m2q(pointing(begin)), day_begin, day_end, 3600.0)
    spice.kclear()
    return names + ["pck00011.tpc", "de440.bsp", f"imap_recon_{span}_v01.bsp", f"imap_pred_{span}_v01.bsp", attitude, pointing_name]


if __name__ == "__main__":
    print("\n".join(main(Path(sys.argv[1]), sys.argv[2])))
