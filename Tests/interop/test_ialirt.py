"""Issue 13 (part 2) acceptance: I-ALiRT real-time data read with the real ialirt-data-access 0.10.0 CLI.

Packets come from gen_packets.py (imap-processing's ialirt.xml, APID 478, 183 bytes), timed in the last hour, and
reach sdc as an uploaded `imap_ialirt_l0_raw_*.pkts` file (imap-data-access upload) and as live POSTs. Every
subcommand of the CLI runs against the server; the CLI exits 0 even on HTTP errors, so the tests read what it prints
and the files it writes. Values are checked against space_packet_parser's decoding of the same packets."""

import ast
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cdflib
import pytest
import requests

from conftest import SDCServer, wait_for
from packets_oracle import decode_with_spp, generate
from test_pipeline import upload

# IMAP MET counts seconds from 2010-01-01T00:00:00 UTC; three leap seconds (2012, 2015, 2016) fall between then and
# the test's data, as sdc's MET -> UTC conversion (and the built-in L1A's epoch) count them.
MET_EPOCH = datetime(2010, 1, 1, tzinfo=timezone.utc)
LEAP_SECONDS = 3
UPLOADED = 600  # packets in the uploaded L0 file, one a second
LIVE = 30  # packets posted live after them


def met_to_utc(met: int) -> datetime:
    return MET_EPOCH + timedelta(seconds=met - LEAP_SECONDS)


def utc_to_met(moment: datetime) -> int:
    return int((moment - MET_EPOCH).total_seconds()) + LEAP_SECONDS


def cli(server: SDCServer, *args: str, api_key: str | None = None, url: str | None = None) -> str:
    """Runs the ialirt-data-access CLI and returns its standard output (it exits 0 even on HTTP errors)."""
    command = [sys.executable, "-c", "from ialirt_data_access.cli import main; main()", "--url", url or server.url]
    if api_key:
        command += ["--api-key", api_key]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def printed(output: str):
    """The Python value the CLI printed (`print(query_results)`)."""
    return ast.literal_eval(output.strip())


@pytest.fixture(scope="module")
def ialirt(sdc_bin, shared_dir, tmp_path_factory):
    """A server holding an uploaded I-ALiRT L0 file (10 minutes of packets ending 15 minutes ago) and live packets
    posted after them; with space_packet_parser's decoding of both."""
    work = tmp_path_factory.mktemp("ialirt")
    xtce = shared_dir / "testdata" / "xtce" / "ialirt.xml"
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=25)
    command = [sys.executable, str(shared_dir / "testdata" / "tools" / "gen_packets.py"), "--xtce", str(xtce), "--container", "IALiRTPacket"]
    subprocess.run([*command, "-n", str(UPLOADED), "--seed", "3", "--start-met", str(utc_to_met(start)), "--out", str(work / "uploaded")],
                   check=True, capture_output=True)
    subprocess.run([*command, "-n", str(LIVE), "--seed", "4", "--start-met", str(utc_to_met(start) + UPLOADED), "--out", str(work / "live")],
                   check=True, capture_output=True)
    uploaded = (work / "uploaded.pkts").read_bytes()
    live = (work / "live.pkts").read_bytes()
    assert len(uploaded) == UPLOADED * 183 and len(live) == LIVE * 183
    truth = {}
    for path in (work / "uploaded.pkts", work / "live.pkts"):
        raw = decode_with_spp(xtce, path)[478]["raw"]
        for index, met in enumerate(raw["SC_SCLK_SEC"]):
            truth[int(met)] = {name: int(values[index]) for name, values in raw.items()}

    server = SDCServer(sdc_bin, work / "root")
    try:
        # imap-data-access 1.3.0 uploads science files only with a vMMM.mmmm version (sdc also takes vNNN, as the
        # Swift tests upload it).
        name = f"imap_ialirt_l0_raw_{start:%Y%m%d}_v001.0000.pkts"
        upload(server, work, name, uploaded)
        # The upload is answered once the file is stored; its packets are decoded in the background.
        def decoded():
            answer = requests.get(f"{server.url}/space-weather", params={"instrument": "mag", "time_utc_start": f"{start:%Y-%m-%dT%H:%M:%S}",
                                                                           "time_utc_end": f"{start + timedelta(seconds=UPLOADED - 1):%Y-%m-%dT%H:%M:%S}"}, timeout=30)
            return answer.ok and answer.json()["meta"]["count"] == UPLOADED
        wait_for(decoded, "the uploaded I-ALiRT file's records")
        response = requests.post(f"{server.url}/api-key/ialirt-packets", data=live, headers={"x-api-key": server.write_key}, timeout=30)
        assert response.status_code == 200, response.text
        yield {"server": server, "start": start, "uploaded": uploaded, "live": live, "truth": truth, "post": response.json(), "work": work}
    finally:
        server.stop()


def test_space_weather_returns_every_record_with_the_packets_values(ialirt, tmp_path):
    server, start, truth = ialirt["server"], ialirt["start"], ialirt["truth"]
    end = start + timedelta(seconds=UPLOADED + LIVE - 1)
    output = cli(server, "space-weather", "--instrument", "mag", "--time_utc_start", f"{start:%Y-%m-%dT%H:%M:%S}",
                 "--time_utc_end", f"{end:%Y-%m-%dT%H:%M:%S}", "--downloads_dir", str(tmp_path))
    saved = Path(output.strip().removeprefix("Saved query results to: "))
    assert saved.parent == tmp_path and saved.name.startswith("imap_ialirt_l1_realtime_"), output
    result = json.loads(saved.read_text())
    assert result["meta"] == {"count": UPLOADED + LIVE, "type": "science", "instrument": "mag"}
    for item in result["data"]:
        packet = truth[item["met"]]
        assert item["instrument"] == "mag"
        assert item["time_utc"] == f"{met_to_utc(item['met']):%Y-%m-%dT%H:%M:%S}"
        assert (item["mag_acq_tm_coarse"], item["mag_acq_tm_fine"], item["mag_status"], item["mag_data"]) == (
            packet["MAG_ACQ_TM_COARSE"], packet["MAG_ACQ_TM_FINE"], packet["MAG_STATUS"], packet["MAG_DATA"])
    assert sorted(item["met"] for item in result["data"]) == sorted(truth)

    # No instrument: the six science instruments; no time: the last hour (all of the data is in it).
    output = cli(server, "space-weather", "--downloads_dir", str(tmp_path / "all"))
    everything = json.loads(Path(output.strip().removeprefix("Saved query results to: ")).read_text())
    assert everything["meta"] == {"count": 6 * (UPLOADED + LIVE), "type": "science", "instrument": "all"}
    swapi = [item for item in everything["data"] if item["instrument"] == "swapi"]
    assert all(item[f"swapi_coin_cnt{channel}"] == truth[item["met"]][f"SWAPI_COIN_CNT{channel}"] for item in swapi for channel in range(6))
    # met_in_utc_* are accepted for backward compatibility, as the SDC's lambda does.
    output = cli(server, "space-weather", "--instrument", "swe", "--met_in_utc_start", f"{start:%Y-%m-%dT%H:%M:%S}",
                 "--downloads_dir", str(tmp_path / "swe"))
    swe = json.loads(Path(output.strip().removeprefix("Saved query results to: ")).read_text())
    assert swe["meta"]["count"] == UPLOADED + LIVE and swe["meta"]["instrument"] == "swe"
    assert {"swe_cem1_e1", "swe_nom_flag"} <= set(swe["data"][0])


def test_log_and_packet_queries_and_their_downloads(ialirt, tmp_path):
    server, start = ialirt["server"], ialirt["start"]
    today = datetime.now(timezone.utc)
    logs = printed(cli(server, "ialirt-log-query", "--year", f"{today:%Y}", "--doy", f"{today:%j}", "--instance", "1"))["files"]
    assert len(logs) == 2 and all(name.startswith(f"flight_iois_1.log.{today:%Y-%j}T") for name in logs)
    assert ialirt["post"]["log_file"] in logs
    assert printed(cli(server, "ialirt-log-query", "--year", f"{today:%Y}", "--doy", f"{today:%j}", "--instance", "2")) == {"files": []}

    first_file = f"iois_1_packets_{start:%Y_%j_%H_%M_%S}.bin"
    live_start = start + timedelta(seconds=UPLOADED)
    # The two packet files may fall on two UTC days (a run just after midnight): query each day.
    packets = []
    for year, doy in sorted({(f"{moment:%Y}", f"{moment:%j}") for moment in (start, live_start)}):
        packets += printed(cli(server, "ialirt-packet-query", "--year", year, "--doy", doy))["files"]
    assert packets == sorted([first_file, f"iois_1_packets_{live_start:%Y_%j_%H_%M_%S}.bin"])
    by_hour = printed(cli(server, "ialirt-packet-query", "--year", f"{start:%Y}", "--doy", f"{start:%j}", "--hh", f"{start:%H}",
                          "--mm", f"{start:%M}", "--ss", f"{start:%S}"))["files"]
    assert by_hour == [first_file]
    in_range = printed(cli(server, "ialirt-packet-query", "--time_utc_start", f"{live_start:%Y-%m-%dT%H:%M:%S}"))["files"]
    assert in_range == [f"iois_1_packets_{live_start:%Y_%j_%H_%M_%S}.bin"]

    # Packets and logs are not public: the client asks /api-key/ialirt-download/ for them, which needs a key; it prints
    # the server's refusal and writes nothing. (The public path refuses them too.)
    refused = cli(server, "ialirt-download", "--filetype", "packets", "--filename", first_file, "--downloads_dir", str(tmp_path / "anon"))
    assert "HTTP Error: 401" in refused and "Missing API key" in refused
    public = requests.get(f"{server.url}/ialirt-download/packets/{first_file}", timeout=30)
    assert public.status_code == 403 and public.text == "I-ALiRT logs and packet data are not publicly downloadable."
    assert not (tmp_path / "anon" / first_file).exists()
    done = cli(server, "ialirt-download", "--filetype", "packets", "--filename", first_file, "--downloads_dir", str(tmp_path),
               api_key=server.read_key)
    assert "Successfully downloaded" in done
    assert (tmp_path / first_file).read_bytes() == ialirt["uploaded"]
    log_name = next(name for name in logs if name != ialirt["post"]["log_file"])
    cli(server, "ialirt-download", "--filetype", "logs", "--filename", log_name, "--downloads_dir", str(tmp_path), api_key=server.read_key)
    assert f"received {UPLOADED} I-ALiRT packets (APID 478) from upload imap_ialirt_l0_raw_" in (tmp_path / log_name).read_text()

    # A key holder's base URL ending in /api-key, as the client's README says: downloads go to /api-key/api-key/...
    keyed = tmp_path / "keyed"
    cli(server, "ialirt-download", "--filetype", "logs", "--filename", ialirt["post"]["log_file"], "--downloads_dir", str(keyed),
        api_key=server.read_key, url=f"{server.url}/api-key")
    assert f"received {LIVE} I-ALiRT packets" in (keyed / ialirt["post"]["log_file"]).read_text()
    assert printed(cli(server, "ialirt-log-query", "--year", f"{today:%Y}", "--doy", f"{today:%j}", "--instance", "1",
                       api_key=server.read_key, url=f"{server.url}/api-key"))["files"] == logs
    missing = cli(server, "ialirt-log-query", "--year", f"{today:%Y}", "--doy", f"{today:%j}", "--instance", "1", url=f"{server.url}/api-key")
    assert "HTTP Error: 401" in missing


def test_archive_query_and_download_of_the_daily_cdf(ialirt, tmp_path):
    server, start, truth = ialirt["server"], ialirt["start"], ialirt["truth"]
    days = sorted({f"{met_to_utc(met):%Y%m%d}" for met in truth})
    names = [f"imap_ialirt_l1_realtime_{day}_v001.cdf" for day in days]
    assert printed(cli(server, "ialirt-archive-query", "--year", f"{start:%Y}"))["files"] == names
    assert printed(cli(server, "ialirt-archive-query", "--since", days[0]))["files"] == names
    assert printed(cli(server, "ialirt-archive-query", "--year", f"{start:%Y}", "--version", "2")) == {"files": []}
    cli(server, "ialirt-download", "--filetype", "archive", "--filename", names[-1], "--downloads_dir", str(tmp_path))
    archive = cdflib.CDF(str(tmp_path / names[-1]))
    epochs = cdflib.cdfepoch.to_datetime(archive.varget("mag_epoch"))
    mag = archive.varget("mag_data")
    assert len(mag) == len([met for met in truth if f"{met_to_utc(met):%Y%m%d}" == days[-1]])
    for epoch, value in zip(epochs, mag):
        moment = datetime.fromisoformat(str(epoch)[:19]).replace(tzinfo=timezone.utc)
        assert value == truth[utc_to_met(moment)]["MAG_DATA"]
    assert archive.varattsget("mag_data")["DEPEND_0"] == "mag_epoch"


def test_bad_input_gets_a_clear_error(ialirt, shared_dir, tmp_path):
    server = ialirt["server"]
    out = cli(server, "ialirt-packet-query", "--time_utc_start", "2025-10-29")
    assert "HTTP Error: 400" in out and "Invalid time_utc_start '2025-10-29': use ISO 8601 YYYY-MM-DDTHH:MM:SS." in out
    out = cli(server, "ialirt-archive-query", "--version", "one")
    assert "HTTP Error: 400" in out and "Invalid version format. Must be an integer." in out
    out = cli(server, "space-weather", "--time_utc_start", "yesterday", "--downloads_dir", str(tmp_path))
    assert "HTTP Error: 400" in out and "Invalid time format" in out
    out = cli(server, "ialirt-download", "--filetype", "archive", "--filename", "imap_ialirt_l1_realtime_20000101_v001.cdf",
              "--downloads_dir", str(tmp_path))
    assert "HTTP Error: 404" in out

    packet = ialirt["live"][:183]
    assert requests.post(f"{server.url}/ialirt-packets", data=packet, timeout=30).status_code == 401
    reader = requests.post(f"{server.url}/api-key/ialirt-packets", data=packet, headers={"x-api-key": server.read_key}, timeout=30)
    assert reader.status_code == 403 and "requires write scope" in reader.json()["message"]
    swapi = generate(shared_dir, shared_dir / "testdata" / "xtce" / "swapi_packet_definition.xml", ["SWP_HK"], 2, 1, tmp_path / "swapi")
    other = requests.post(f"{server.url}/api-key/ialirt-packets", data=packet + swapi.read_bytes(),
                          headers={"x-api-key": server.write_key}, timeout=30)
    assert other.status_code == 400 and "packet 1 at byte 183 has APID" in other.json()["message"]
    cut = requests.post(f"{server.url}/api-key/ialirt-packets", data=packet[:100], headers={"x-api-key": server.write_key}, timeout=30)
    assert cut.status_code == 400 and "cut short: 100 of 183 bytes" in cut.json()["message"]


def test_live_view_refreshes_by_itself(ialirt):
    from portal_browser import chromium

    server = ialirt["server"]
    page = requests.get(f"{server.url}/portal/ialirt", timeout=30)
    assert page.status_code == 200 and "<script src" not in page.text
    browser = chromium(ialirt["work"] / "downloads")
    try:
        browser.get(f"{server.url}/portal/ialirt")
        from selenium.webdriver.common.by import By
        mag = browser.find_element(By.ID, "live-mag_data")
        assert int(mag.get_attribute("data-points")) == UPLOADED + LIVE
        swapi = browser.find_element(By.ID, "live-swapi_coin_cnt_sum")
        assert int(swapi.get_attribute("data-points")) == UPLOADED + LIVE
        first = browser.find_element(By.ID, "ialirt-updated").get_attribute("data-now")
        # The page's own script swaps in new plots every 10 s: wait for the next one.
        wait_for(lambda: browser.find_element(By.ID, "ialirt-updated").get_attribute("data-now") != first,
                 "the live view to refresh itself", timeout=30)
    finally:
        browser.quit()
