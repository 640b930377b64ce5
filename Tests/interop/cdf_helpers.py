"""Helpers for the CDF interoperability tests: drive `sdc cdf` and compare with cdflib."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np


def sdc_bin() -> str:
    path = os.environ.get("SDC_BIN")
    assert path, "SDC_BIN must name the built sdc executable"
    assert Path(path).is_file(), f"SDC_BIN={path} does not exist"
    return path


def shared_dir() -> Path:
    path = os.environ.get("SDC_SHARED")
    assert path, "SDC_SHARED must name the shared folder"
    return Path(path)


def run_sdc(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sdc_bin(), "cdf", *map(str, args)], input=stdin, capture_output=True, check=False)


def sdc_dump(path) -> dict:
    result = run_sdc("dump", "--json", path)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def sdc_write(spec: dict, path) -> None:
    result = run_sdc("write", "-", path, stdin=json.dumps(spec).encode())
    assert result.returncode == 0, result.stderr.decode()


NUMPY_TYPES = {
    "CDF_INT1": np.int8, "CDF_BYTE": np.int8, "CDF_INT2": np.int16, "CDF_INT4": np.int32, "CDF_INT8": np.int64,
    "CDF_UINT1": np.uint8, "CDF_UINT2": np.uint16, "CDF_UINT4": np.uint32, "CDF_REAL4": np.float32,
    "CDF_FLOAT": np.float32, "CDF_REAL8": np.float64, "CDF_DOUBLE": np.float64, "CDF_EPOCH": np.float64,
    "CDF_TIME_TT2000": np.int64,
}


def as_array(values, type_name: str) -> np.ndarray:
    """JSON values of a CDF type as a numpy array (EPOCH16 pairs become complex like cdflib returns)."""
    if type_name == "CDF_EPOCH16":
        pairs = np.asarray(values, dtype=np.float64).reshape(-1, 2)
        return pairs[:, 0] + 1j * pairs[:, 1]
    if type_name in ("CDF_CHAR", "CDF_UCHAR"):
        return np.asarray(values, dtype=str)
    return np.asarray(values, dtype=NUMPY_TYPES[type_name])


def assert_same_values(expected: np.ndarray, actual: np.ndarray, what: str) -> None:
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    assert expected.size == actual.size, f"{what}: {expected.size} values vs {actual.size}"
    e = expected.ravel()
    a = actual.ravel()
    if e.dtype.kind == "f" or a.dtype.kind == "f":
        assert np.array_equal(e.astype(a.dtype) if a.dtype.kind == "f" else e, a, equal_nan=True), f"{what}: {e[:8]} vs {a[:8]}"
    elif e.dtype.kind == "c":
        assert np.array_equal(e, a), f"{what}: {e[:8]} vs {a[:8]}"
    else:
        assert e.tolist() == a.tolist(), f"{what}: {e.tolist()[:8]} vs {a.tolist()[:8]}"


def assert_dump_matches_cdflib(path, dump: dict) -> None:
    """Every global attribute, variable attribute and value in `dump` equals what cdflib reads from `path`."""
    import cdflib

    cdf = cdflib.CDF(str(path))
    info = cdf.cdf_info()
    globals_ = cdf.globalattsget()
    assert list(dump["attributes"].keys()) == list(globals_.keys())
    for name, entries in globals_.items():
        mine = dump["attributes"][name]
        assert len(mine) == len(entries), name
        for theirs, ours in zip(entries, mine):
            if isinstance(theirs, str):
                assert ours == theirs, name
            else:
                assert_same_values(np.asarray(theirs), np.asarray(ours, dtype=np.asarray(theirs).dtype), name)
    names = [v["name"] for v in dump["variables"]]
    assert names == list(info.zVariables) + list(info.rVariables)
    for variable in dump["variables"]:
        name = variable["name"]
        vinfo = cdf.varinq(name)
        assert variable["type"] == vinfo.Data_Type_Description, name
        assert variable["dims"] == list(vinfo.Dim_Sizes), name
        assert variable["record_varying"] == vinfo.Rec_Vary, name
        assert variable["records"] == vinfo.Last_Rec + 1, name
        attrs = cdf.varattsget(name)
        assert list(variable["attributes"].keys()) == list(attrs.keys()), name
        for attribute, value in attrs.items():
            ours = variable["attributes"][attribute]
            if isinstance(value, str):
                assert ours == value, f"{name}.{attribute}"
            else:
                entry_type = cdf.attget(attribute, name).Data_Type
                assert_same_values(np.asarray(value), as_array(ours, entry_type), f"{name}.{attribute}")
        if variable["records"] == 0:
            continue
        theirs = cdf.varget(name)
        assert_same_values(np.asarray(theirs), as_array(variable["values"], variable["type"]), f"{name} values")
