"""MAG L2's inputs besides L1 and the SPICE kernels (imap_kernels.py): the calibration and offsets tables the MAG team
delivers as ancillary files, in the layout imap_processing 1.0.40 reads, with placeholder values (the mission's are
not public)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def kernels(python: Path, folder: Path, day: str) -> list[Path]:
    """The SPICE kernels MAG L2 reads for ``day`` (imap_kernels.py, run with the imap-processing venv's ``python``,
    where spiceypy is): the leapseconds and SCLK kernels first."""
    written = subprocess.run([str(python), str(Path(__file__).with_name("imap_kernels.py")), str(folder), day],
                             capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    return [folder / name for name in written.stdout.split()]


def calibration(path: Path, logical_source: str, matrices: list[str]) -> Path:
    """A MAG calibration ancillary CDF in the layout imap_processing 1.0.40 reads: per sensor a 3 x 3 x 4 rotation
    (one 3 x 3 per range) without an epoch. The mission's calibration is not public; every matrix is the identity."""
    import cdflib
    from cdflib.cdfwrite import CDF

    identity = np.ascontiguousarray(np.repeat(np.eye(3)[:, :, None], 4, axis=2))
    cdf = CDF(str(path))
    cdf.write_globalattrs({"Logical_source": {0: logical_source}, "Data_version": {0: "v001"}})
    for name in matrices:
        cdf.write_var({"Variable": name, "Data_Type": cdflib.cdfwrite.CDF.CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": False,
                       "Dim_Sizes": [3, 3, 4]}, var_attrs={"VAR_TYPE": "data"}, var_data=identity)
    cdf.close()
    return path


def offsets(path: Path, l1, l1_name: str, logical_source: str) -> Path:
    """A MAG L2 offsets table as the MAG team makes one from an L1 file (L1C for normal mode, L1B for burst): one
    record per L1 vector at the same epochs, offsets of 0.5 nT, no time shift, good quality; its Parents attribute
    names that L1 file, which imap_cli then reads. Placeholder values: the mission's offsets are not public."""
    import cdflib
    from cdflib.cdfwrite import CDF

    epoch = l1.varget("epoch")
    count = len(epoch)
    cdf = CDF(str(path))
    cdf.write_globalattrs({"Logical_source": {0: logical_source}, "Data_version": {0: "v001"}, "Parents": {0: l1_name}})

    def variable(name, data_type, data, dims=()):
        cdf.write_var({"Variable": name, "Data_Type": data_type, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": list(dims)},
                      var_attrs={"VAR_TYPE": "support_data" if name == "epoch" else "data", "DEPEND_0": "epoch"}, var_data=data)
    variable("epoch", cdflib.cdfwrite.CDF.CDF_TIME_TT2000, epoch)
    variable("offsets", cdflib.cdfwrite.CDF.CDF_DOUBLE, np.full((count, 3), 0.5), dims=[3])
    variable("timedeltas", cdflib.cdfwrite.CDF.CDF_DOUBLE, np.zeros(count))
    variable("quality_flag", cdflib.cdfwrite.CDF.CDF_INT1, np.zeros(count, dtype=np.int8))
    variable("quality_bitmask", cdflib.cdfwrite.CDF.CDF_UINT2, np.zeros(count, dtype=np.uint16))
    cdf.close()
    return path


def l1d_calibration(path: Path) -> Path:
    """A MAG ``l1d-calibration`` ancillary CDF in the layout imap_processing 1.0.40's mag_l1d reads (without an epoch):
    per sensor the 3 x 3 x 4 rotation, per sensor and range the offsets (2 x 4 x 3), the number of spins to average
    the spin offsets over, the quality flag threshold, the spin average application factor and the gradiometer
    factor. Placeholder values: identity rotations, no offsets."""
    import cdflib
    from cdflib.cdfwrite import CDF

    cdf = CDF(str(path))
    cdf.write_globalattrs({"Logical_source": {0: "imap_mag_l1d-calibration"}, "Data_version": {0: "v001"}})
    identity = np.ascontiguousarray(np.repeat(np.eye(3)[:, :, None], 4, axis=2))
    for name, data_type, data in (("URFTOORFO", CDF.CDF_DOUBLE, identity), ("URFTOORFI", CDF.CDF_DOUBLE, identity),
                                  ("offsets", CDF.CDF_DOUBLE, np.zeros((2, 4, 3))), ("number_of_spins", CDF.CDF_INT4, np.array(2, dtype=np.int32)),
                                  ("quality_flag_threshold", CDF.CDF_DOUBLE, np.array(1.0)),
                                  ("spin_average_application_factor", CDF.CDF_DOUBLE, np.array(0.5)), ("gradiometer_factor", CDF.CDF_DOUBLE, np.ones(3))):
        cdf.write_var({"Variable": name, "Data_Type": data_type, "Num_Elements": 1, "Rec_Vary": False, "Dim_Sizes": list(np.shape(data))},
                      var_attrs={"VAR_TYPE": "data"}, var_data=data)
    cdf.close()
    return path
