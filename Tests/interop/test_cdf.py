"""CDF interoperability: sdc against cdflib 1.3.16 (and pycdfpp 0.19.0 as a second reader)."""
import random
from pathlib import Path

import cdflib
import numpy as np
import pytest
from cdflib.cdfwrite import CDF as CDFWriter

from cdf_helpers import (NUMPY_TYPES, as_array, assert_dump_matches_cdflib, assert_same_values, run_sdc,
                         sdc_dump, sdc_write, shared_dir)

RNG = np.random.default_rng(20260101)


# ---------------------------------------------------------------- sdc reads shared files and cdflib output

def shared_cdf_files():
    files = sorted((shared_dir() / "testdata" / "cdf").glob("*.cdf"))
    assert len(files) == 7, files
    return files


@pytest.mark.parametrize("name", ["small.cdf", "small_gzipvar.cdf", "small_md5.cdf", "small_filegz.cdf",
                                  "minimal.cdf", "minimal_md5.cdf", "cvvr_demo.cdf"])
def test_sdc_reads_shared_test_files(name):
    path = shared_dir() / "testdata" / "cdf" / name
    assert path in shared_cdf_files()
    assert_dump_matches_cdflib(path, sdc_dump(path))


def cdflib_variables(records: int):
    """(spec, data, attrs) triples covering every type cdflib writes, scalars and arrays, RV and NRV."""
    epochs = 511921899184000000 + np.arange(records, dtype=np.int64) * 1_000_000_000
    out = [
        ("Epoch", 33, [], True, epochs, {"FILLVAL": [np.int64(-9223372036854775808), "CDF_TIME_TT2000"], "CATDESC": "time"}),
        ("i1", 1, [], True, RNG.integers(-128, 127, records, dtype=np.int8), {"FILLVAL": [np.int8(-128), "CDF_INT1"]}),
        ("i2", 2, [3], True, RNG.integers(-30000, 30000, (records, 3), dtype=np.int16), {}),
        ("i4", 4, [2, 2], True, RNG.integers(-2**31, 2**31 - 1, (records, 2, 2), dtype=np.int32), {"VALIDMIN": [np.int32(-5), "CDF_INT4"]}),
        ("i8", 8, [], True, RNG.integers(-2**62, 2**62, records, dtype=np.int64), {}),
        ("u1", 11, [4], True, RNG.integers(0, 255, (records, 4), dtype=np.uint8), {}),
        ("u2", 12, [], True, RNG.integers(0, 65535, records, dtype=np.uint16), {"FILLVAL": [np.uint16(65535), "CDF_UINT2"]}),
        ("u4", 14, [], True, RNG.integers(0, 2**32 - 1, records, dtype=np.uint32), {}),
        ("r4", 21, [3], True, RNG.normal(size=(records, 3)).astype(np.float32), {"FILLVAL": [np.float32(-1e31), "CDF_REAL4"]}),
        ("r8", 22, [], True, RNG.normal(size=records), {"VALIDMAX": [1e3, "CDF_REAL8"], "SCALEMIN": [[1.0, 2.0], "CDF_DOUBLE"]}),
        ("f4", 44, [], True, RNG.normal(size=records).astype(np.float32), {}),
        ("d8", 45, [2], True, RNG.normal(size=(records, 2)), {}),
        ("ep", 31, [], True, 63113904000000.0 + np.arange(records) * 1000.0, {}),
        ("table", 22, [5], False, np.linspace(0.5, 2.5, 5), {"CATDESC": "energy table"}),
        ("labels", 51, [3], False, np.array(["Bx", "By", "Bzz"]), {"FORMAT": "A3"}),
    ]
    return out


@pytest.mark.parametrize("compress", [0, 6])
def test_sdc_reads_what_cdflib_writes(tmp_path, compress):
    path = tmp_path / f"cdflib_{compress}.cdf"
    records = 20000 if compress else 37
    writer = CDFWriter(str(path), cdf_spec={"Encoding": "IBMPC_ENCODING", "Majority": "row_major"})
    writer.write_globalattrs({
        "Project": {0: "STP>Solar-Terrestrial Physics"},
        "TEXT": {0: "first", 1: "second"},
        "Numbers": {0: [np.int32(7), "CDF_INT4"], 1: [2.5, "CDF_REAL8"]},
    })
    for name, type_code, dims, rv, data, attrs in cdflib_variables(records):
        spec = {"Variable": name, "Data_Type": type_code, "Num_Elements": 3 if type_code == 51 else 1,
                "Rec_Vary": rv, "Dim_Sizes": dims, "Compress": compress}
        writer.write_var(spec, var_attrs=attrs, var_data=data)
    writer.close()
    dump = sdc_dump(path)
    assert_dump_matches_cdflib(path, dump)
    assert dump["variables"][1]["compression"] == ("gzip6" if compress else "none")


@pytest.mark.parametrize("majority,encoding", [("column_major", "NETWORK_ENCODING"), ("row_major", "NETWORK_ENCODING"),
                                               ("column_major", "IBMPC_ENCODING")])
def test_sdc_reads_big_endian_and_column_major_files(tmp_path, majority, encoding):
    path = tmp_path / "layout.cdf"
    writer = CDFWriter(str(path), cdf_spec={"Majority": majority, "Encoding": encoding})
    writer.write_globalattrs({"Numbers": {0: [np.float32(1.5), "CDF_REAL4"], 1: [np.int16(-3), "CDF_INT2"]}})
    writer.write_var({"Variable": "m", "Data_Type": 2, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [3, 4], "Compress": 0},
                     var_attrs={"FILLVAL": [np.int16(-32768), "CDF_INT2"]},
                     var_data=np.arange(5 * 12, dtype=np.int16).reshape(5, 3, 4))
    writer.write_var({"Variable": "x", "Data_Type": 22, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [2, 2, 2], "Compress": 6},
                     var_data=RNG.normal(size=(7, 2, 2, 2)))
    writer.close()
    assert_dump_matches_cdflib(path, sdc_dump(path))


# ---------------------------------------------------------------- cdflib (and pycdfpp) read what sdc writes

def sdc_spec(records: int, compression: str, md5: bool) -> dict:
    """A JSON spec with every type sdc writes, scalar and multi-dimensional, record-varying and not."""
    epoch = (511921899184000000 + np.arange(records, dtype=np.int64) * 1_000_000_000).tolist()

    def ints(low, high, shape):
        return RNG.integers(low, high, (records, *shape)).tolist()

    variables = [
        ("Epoch", "CDF_TIME_TT2000", [], True, epoch,
         {"FILLVAL": {"type": "CDF_TIME_TT2000", "value": -9223372036854775808}, "CATDESC": "Time",
          "VALIDMIN": {"type": "CDF_TIME_TT2000", "value": 315576066184000000}}),
        ("int1", "CDF_INT1", [], True, ints(-128, 128, []), {"FILLVAL": {"type": "CDF_INT1", "value": -128}}),
        ("byte", "CDF_BYTE", [2], True, ints(-128, 128, [2]), {}),
        ("int2", "CDF_INT2", [3], True, ints(-32768, 32768, [3]), {"FILLVAL": {"type": "CDF_INT2", "value": -32768}}),
        ("int4", "CDF_INT4", [2, 3], True, ints(-2**31, 2**31, [2, 3]), {}),
        ("int8", "CDF_INT8", [], True, ints(-2**63, 2**63 - 1, []), {"VALIDMAX": {"type": "CDF_INT8", "value": 2**63 - 1}}),
        ("uint1", "CDF_UINT1", [4], True, ints(0, 256, [4]), {}),
        ("uint2", "CDF_UINT2", [], True, ints(0, 65536, []), {"FILLVAL": {"type": "CDF_UINT2", "value": 65535}}),
        ("uint4", "CDF_UINT4", [], True, ints(0, 2**32, []), {}),
        ("real4", "CDF_REAL4", [3], True, RNG.normal(size=(records, 3)).astype(np.float32).tolist(),
         {"FILLVAL": {"type": "CDF_REAL4", "value": -1e31}, "VALIDMIN": {"type": "CDF_REAL4", "value": [-1.5, 2.5]}}),
        ("float", "CDF_FLOAT", [], True, RNG.normal(size=records).astype(np.float32).tolist(), {}),
        ("real8", "CDF_REAL8", [2, 2, 2], True, RNG.normal(size=(records, 2, 2, 2)).tolist(),
         {"FILLVAL": {"type": "CDF_REAL8", "value": -1e31}}),
        ("double", "CDF_DOUBLE", [], True, RNG.normal(size=records).tolist(), {}),
        ("ep31", "CDF_EPOCH", [], True, (63113904000000.0 + np.arange(records) * 250.0).tolist(),
         {"FILLVAL": {"type": "CDF_EPOCH", "value": -1e31}}),
        ("ep16", "CDF_EPOCH16", [], True, [[63113904000.0 + i, float(i * 1000)] for i in range(records)], {}),
        ("name", "CDF_CHAR", [], True, [f"rec{i % 97}" for i in range(records)], {}),
        ("uchar", "CDF_UCHAR", [2], True, [[f"a{i % 7}", "bb"] for i in range(records)], {}),
        ("energy", "CDF_REAL8", [5], False, [[1.0, 2.0, 4.0, 8.0, 16.0]], {"CATDESC": "Energy table"}),
        ("label", "CDF_CHAR", [3], False, [["Bx", "By", "Bz"]], {"FORMAT": "A2"}),
    ]
    return {
        "md5": md5,
        "attributes": {
            "Project": ["STP>Solar-Terrestrial Physics"],
            "TEXT": ["first entry", "second entry"],
            "Numbers": [{"type": "CDF_INT4", "value": [1, 2, 3]}, 2.5, 42],
            "Empty_ok": [" "],
        },
        "variables": [
            {"name": n, "type": t, "dims": d, "record_varying": rv, "compression": compression,
             "attributes": a, "values": v}
            for n, t, d, rv, v, a in variables
        ],
    }


@pytest.mark.parametrize("compression,md5", [("none", False), ("none", True), ("gzip6", False), ("gzip1", True)])
def test_cdflib_reads_what_sdc_writes(tmp_path, compression, md5):
    records = 12000 if compression != "none" else 50
    spec = sdc_spec(records, compression, md5)
    path = tmp_path / "sdc.cdf"
    sdc_write(spec, path)
    cdf = cdflib.CDF(str(path), validate=md5)
    info = cdf.cdf_info()
    assert info.Checksum == md5
    globals_ = cdf.globalattsget()
    assert globals_["Project"] == ["STP>Solar-Terrestrial Physics"]
    assert globals_["TEXT"] == ["first entry", "second entry"]
    assert np.asarray(globals_["Numbers"][0]).tolist() == [1, 2, 3]
    assert cdf.attget("Numbers", 0).Data_Type == "CDF_INT4"
    assert float(np.asarray(globals_["Numbers"][1])) == 2.5 and cdf.attget("Numbers", 1).Data_Type == "CDF_DOUBLE"
    assert int(np.asarray(globals_["Numbers"][2])) == 42 and cdf.attget("Numbers", 2).Data_Type == "CDF_INT8"
    assert list(info.zVariables) == [v["name"] for v in spec["variables"]]
    for variable in spec["variables"]:
        name = variable["name"]
        vinfo = cdf.varinq(name)
        assert vinfo.Data_Type_Description == variable["type"], name
        assert list(vinfo.Dim_Sizes) == variable["dims"], name
        assert vinfo.Rec_Vary == variable["record_varying"], name
        if compression != "none":
            assert vinfo.Compress == int(compression[4:]), name
        expected = as_array(variable["values"], variable["type"])
        assert_same_values(expected, np.asarray(cdf.varget(name)), name)
        attrs = cdf.varattsget(name)
        assert list(attrs.keys()) == list(variable["attributes"].keys()), name
        for attribute, value in variable["attributes"].items():
            entry = cdf.attget(attribute, name)
            if isinstance(value, dict):
                assert entry.Data_Type == value["type"], f"{name}.{attribute}"
                assert_same_values(as_array(value["value"], value["type"]), np.asarray(entry.Data), f"{name}.{attribute}")
            else:
                assert entry.Data == value, f"{name}.{attribute}"
    if compression != "none":
        plain = tmp_path / "plain.cdf"
        sdc_write(sdc_spec(records, "none", md5), plain)
        assert path.stat().st_size < 0.9 * plain.stat().st_size, "GZIP blocks must be stored compressed (CVVRs)"
    # and sdc reads its own file back identically to cdflib
    assert_dump_matches_cdflib(path, sdc_dump(path))


def pycdfpp_values(variable, type_name):
    """Plain numpy values from a pycdfpp variable (time types come back as structured arrays)."""
    if type_name == "CDF_TIME_TT2000":
        return np.asarray(variable.values["nseconds"])
    if type_name == "CDF_EPOCH":
        return np.asarray(variable.values["mseconds"])
    if type_name == "CDF_EPOCH16":
        raw = variable.values
        return np.asarray(raw["seconds"]) + 1j * np.asarray(raw["picoseconds"])
    if type_name in ("CDF_CHAR", "CDF_UCHAR"):
        return np.asarray(variable.values_encoded, dtype=str)
    return np.asarray(variable.values)


def test_pycdfpp_reads_what_sdc_writes(tmp_path):
    import pycdfpp  # pinned in requirements.txt; a missing install is a failure, not a skip

    for compression in ("none", "gzip6"):
        spec = sdc_spec(9000, compression, False)
        path = tmp_path / f"pp_{compression}.cdf"
        sdc_write(spec, path)
        cdf = pycdfpp.load(str(path))
        assert cdf is not None, f"pycdfpp cannot open {path}"
        assert [cdf.attributes["TEXT"][i] for i in range(2)] == ["first entry", "second entry"]
        for variable in spec["variables"]:
            theirs = cdf[variable["name"]]
            assert str(theirs.type) == "DataType." + variable["type"], variable["name"]
            expected = as_array(variable["values"], variable["type"])
            assert_same_values(expected, pycdfpp_values(theirs, variable["type"]), variable["name"])
            for attribute, value in variable["attributes"].items():
                got = theirs.attributes[attribute].value
                if isinstance(value, dict) and value["type"] in ("CDF_TIME_TT2000", "CDF_EPOCH", "CDF_EPOCH16"):
                    continue  # pycdfpp converts time attributes to datetime64; cdflib checks their raw values above
                if isinstance(value, dict):
                    assert_same_values(as_array(value["value"], value["type"]), np.asarray(got).ravel(), attribute)
                else:
                    assert got == value, attribute


# ---------------------------------------------------------------- TT2000 against cdflib

LEAP_DATES = [(1972, 7), (1973, 1), (1974, 1), (1975, 1), (1976, 1), (1977, 1), (1978, 1), (1979, 1), (1980, 1),
              (1981, 7), (1982, 7), (1983, 7), (1985, 7), (1988, 1), (1990, 1), (1991, 1), (1992, 7), (1993, 7),
              (1994, 7), (1996, 1), (1997, 7), (1999, 1), (2006, 1), (2009, 1), (2012, 7), (2015, 7), (2017, 1)]


def sdc_time(values, source, target):
    result = run_sdc("time", "--from", source, "--to", target, stdin=("\n".join(map(str, values)) + "\n").encode())
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().split()


def utc_fields(text):
    date, time = text.split("T")
    y, m, d = map(int, date.split("-"))
    hh, mm, rest = time.split(":")
    ss, frac = rest.split(".")
    ns = int(frac.ljust(9, "0"))
    return [y, m, d, int(hh), int(mm), int(ss), ns // 1_000_000, ns // 1000 % 1000, ns % 1000]


def test_tt2000_on_every_leap_second_boundary():
    instants = []
    for year, month in LEAP_DATES:
        prev = (year - 1, 12, 31) if month == 1 else (year, 6, 30)
        day = f"{prev[0]:04d}-{prev[1]:02d}-{prev[2]:02d}"
        instants += [f"{day}T23:59:58.000000000", f"{day}T23:59:59.000000000", f"{day}T23:59:59.999999999",
                     f"{day}T23:59:60.000000000", f"{day}T23:59:60.500000000", f"{day}T23:59:60.999999999",
                     f"{year:04d}-{month:02d}-01T00:00:00.000000000", f"{year:04d}-{month:02d}-01T00:00:01.000000000"]
    ours = [int(v) for v in sdc_time(instants, "utc", "tt2000")]
    theirs = [int(cdflib.cdfepoch.compute_tt2000(utc_fields(t))) for t in instants]
    assert ours == theirs
    # breakdown of the same instants, and of every boundary value ±1 s, round-trips to the ISO text
    assert sdc_time(ours, "tt2000", "utc") == instants
    around = sorted({t + delta for t in ours for delta in (-1_000_000_000, -1, 0, 1, 1_000_000_000)})
    back = [int(v) for v in sdc_time(sdc_time(around, "tt2000", "utc"), "utc", "tt2000")]
    assert back == around
    encoded = cdflib.cdfepoch.encode_tt2000(np.asarray(around, dtype=np.int64))
    ours_text = sdc_time(around, "tt2000", "utc")
    for value, mine, cdflibs in zip(around, ours_text, encoded):
        if -867931158816000000 <= value < -867931156816000000:
            continue  # cdflib renders the first leap second (1972-06-30T23:59:60) wrongly; see cdf.md §8
        assert mine == cdflibs, value


def test_tt2000_agrees_with_cdflib_on_random_instants():
    rng = random.Random(1972)
    low = int(cdflib.cdfepoch.compute_tt2000([1972, 1, 1, 0, 0, 0, 0, 0, 0]))
    high = int(cdflib.cdfepoch.compute_tt2000([2040, 12, 31, 23, 59, 59, 999, 999, 999]))
    values = [rng.randint(low, high) for _ in range(10_000)]
    ours_text = sdc_time(values, "tt2000", "utc")
    theirs_text = list(cdflib.cdfepoch.encode_tt2000(np.asarray(values, dtype=np.int64)))
    assert ours_text == theirs_text
    ours_back = [int(v) for v in sdc_time(ours_text, "utc", "tt2000")]
    theirs_back = [int(v) for v in cdflib.cdfepoch.compute_tt2000([utc_fields(t) for t in theirs_text])]
    assert ours_back == theirs_back == values


def test_validate_reports_istp_errors(tmp_path):
    good = shared_dir() / "testdata" / "cdf" / "small.cdf"
    result = run_sdc("validate", good)
    assert result.returncode == 0, result.stdout.decode()
    spec = sdc_spec(3, "none", False)
    path = tmp_path / "bad.cdf"
    sdc_write(spec, path)
    result = run_sdc("validate", path)
    assert result.returncode == 1
    report = result.stdout.decode()
    assert "required global attribute Data_type is missing" in report
    assert "VAR_TYPE is missing" in report


def test_tt2000_before_1972_uses_the_drift_table_like_cdflib():
    """Pre-1972 TAI-UTC drifts (fractional seconds); cdflib computes it in floating point, so allow 2 ns."""
    rng = random.Random(1960)
    low = int(cdflib.cdfepoch.compute_tt2000([1960, 1, 1, 0, 0, 0, 0, 0, 0]))
    high = int(cdflib.cdfepoch.compute_tt2000([1971, 12, 31, 23, 59, 59, 0, 0, 0]))
    values = [rng.randint(low, high) for _ in range(1000)]
    ours_text = sdc_time(values, "tt2000", "utc")
    theirs_of_ours = [int(v) for v in cdflib.cdfepoch.compute_tt2000([utc_fields(t) for t in ours_text])]
    assert max(abs(a - b) for a, b in zip(theirs_of_ours, values)) <= 2
    ours_back = [int(v) for v in sdc_time(ours_text, "utc", "tt2000")]
    assert max(abs(a - b) for a, b in zip(ours_back, theirs_of_ours)) <= 2
