"""Issue 6 acceptance: the web portal in a real headless Chromium, a crawl of every page, and /metrics."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest
import requests
from cdflib.cdfwrite import CDF as CDFWriter
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import SDCServer
from portal_browser import chromium, click_and_wait, screenshot, sign_in, sign_out
from test_pipeline import BUILT_IN, external, jobs, science, upload, wait_for, write_pipeline

ANCILLARY = "imap_swapi_lut-notes_20250101_v001.csv"
SWAPI_L0 = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
SWAPI_SCI = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250101_v001.0001.cdf"
STUCK_CLOCK = "imap_swapi_l1b_stuck_20250102_v001.0000.cdf"


def stuck_clock_cdf(path) -> bytes:
    """A CDF written by cdflib whose 2,000 records all have one time, as a stuck clock in an L0 file makes."""
    writer = CDFWriter(str(path), cdf_spec={"Encoding": "IBMPC_ENCODING", "Majority": "row_major"})
    epoch = {"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": 0}
    writer.write_var(epoch, var_attrs={"VAR_TYPE": "support_data"},
                     var_data=np.full(2000, 789_048_069_184_000_000, dtype=np.int64))  # 2025-01-02T00:00:00
    counts = {"Variable": "counts", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": 0}
    writer.write_var(counts, var_attrs={"VAR_TYPE": "data", "DEPEND_0": "epoch", "FILLVAL": [-1e31, "CDF_REAL8"]},
                     var_data=np.arange(2000, dtype=np.float64) % 13)
    writer.close()
    return path.read_bytes()


@pytest.fixture(scope="module")
def portal_server(sdc_bin, shared_dir, tmp_path_factory):
    """A server whose pipeline made SWAPI L1A products from a generated L0 file and failed a CoDICE job; one
    released ancillary file; an L1B product with a stuck clock."""
    from packets_oracle import generate

    work = tmp_path_factory.mktemp("portal")
    folder = write_pipeline(work / "pipeline", "codice, l0, raw, codice, l1a, all, HARD, DOWNSTREAM\n",
                            external("codice l1a all", "fail"))
    server = SDCServer(sdc_bin, work / "root", extra_args=["--pipeline", str(folder)])
    try:
        packets = generate(shared_dir, BUILT_IN / "xtce" / "swapi_packet_definition.xml", ["SWP_HK", "SWP_SCI"], 40, 7,
                           work / "generated" / "swapi")
        upload(server, work, SWAPI_L0, packets.read_bytes())
        upload(server, work, ANCILLARY, b"energy,table\n1,2\n")
        upload(server, work, "imap_codice_l0_raw_20250101_v001.0000.pkts", b"codice packets")
        upload(server, work, STUCK_CLOCK, stuck_clock_cdf(work / "stuck-clock.cdf"))
        wait_for(lambda: len(science(server, instrument="swapi", data_level="l1a")) == 2, timeout=120)
        wait_for(lambda: [j for j in jobs(server, instrument="codice") if j["status"] == "FAILED"], timeout=120)
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "downloads")
    yield driver
    driver.quit()


def test_search_results_file_page_and_download(portal_server, browser, tmp_path):
    browser.get(f"{portal_server.url}/portal")
    Select(browser.find_element(By.ID, "table")).select_by_value("ancillary")
    Select(browser.find_element(By.ID, "instrument")).select_by_value("swapi")
    screenshot(browser, "01-search")
    click_and_wait(browser, browser.find_element(By.ID, "search-button"), "/portal/search?")
    assert "/portal/search?" in browser.current_url and "descriptor=" not in browser.current_url  # empty fields left out
    assert "of 1" in browser.find_element(By.ID, "result-count").text
    screenshot(browser, "02-results")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, ANCILLARY), "/portal/files/")
    metadata = browser.find_element(By.ID, "metadata").text
    assert "SHA-256" in metadata and "17 bytes" in metadata
    screenshot(browser, "03-file")
    browser.find_element(By.ID, "download-link").click()
    downloaded = tmp_path / "downloads" / ANCILLARY
    wait_for(lambda: downloaded.is_file() and downloaded.read_bytes() == b"energy,table\n1,2\n", timeout=30)


def test_level1a_quicklook_renders_data_points(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/files/{SWAPI_SCI}")
    assert SWAPI_L0 in browser.find_element(By.ID, "inputs").text
    assert "succeeded" in browser.find_element(By.CLASS_NAME, "jobs").text
    click_and_wait(browser, browser.find_element(By.ID, "quicklook-link"), "/portal/quicklook/")
    plots = browser.find_elements(By.CSS_SELECTOR, "svg.plot")
    assert plots, browser.page_source[:2000]
    line = browser.find_element(By.CSS_SELECTOR, "svg.plot polyline.data")
    points = line.get_attribute("points").split()
    assert len(points) >= 2
    svg = line.find_element(By.XPATH, "./..")
    assert int(svg.get_attribute("data-points")) == len(points)  # few packets: every point drawn, none decimated
    assert line.size["width"] > 100, "the browser laid the line out across the plot"
    assert re.search(r"time \(UTC, 20\d\d-\d\d-\d\d\)", svg.text) and re.search(r"\d\d:\d\d:\d\d", svg.text)
    screenshot(browser, "04-quicklook")


def test_the_server_url_opens_the_portal(portal_server, browser):
    """`sdc serve` prints the server's root URL: a person who opens it lands on the portal, and API clients still get
    JSON."""
    browser.get(f"{portal_server.url}/")
    assert urlsplit(browser.current_url).path == "/portal"
    assert browser.find_element(By.ID, "search-form") and browser.find_element(By.ID, "browse")
    response = requests.get(f"{portal_server.url}/query", params={"table": "ancillary"}, timeout=30)
    assert response.headers["content-type"] == "application/json" and ANCILLARY in response.text


def test_quicklook_of_a_stuck_clock_renders_and_the_server_stays_up(portal_server, browser):
    """A product whose 2,000 records share one time (a stuck clock), written by cdflib, once crashed the server when
    its quicklook was opened."""
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/quicklook/imap/swapi/l1b/2025/01/{STUCK_CLOCK}")
    svg = browser.find_element(By.CSS_SELECTOR, "svg.plot")
    assert svg.get_attribute("data-points") == "2000"
    assert len(svg.find_element(By.CSS_SELECTOR, "polyline.data").get_attribute("points").split()) == 2  # one column: min, max
    screenshot(browser, "09-stuck-clock-quicklook")
    assert requests.get(f"{portal_server.url}/health/live", timeout=30).status_code == 200


def test_sign_in_shows_unreleased_file_that_anonymous_visitors_do_not_see(portal_server, browser):
    search = f"{portal_server.url}/portal/search?instrument=swapi&data_level=l1a"
    browser.get(search)
    assert browser.find_element(By.ID, "no-results")
    assert "imap_swapi_l1a_sci" not in browser.page_source
    screenshot(browser, "05-anonymous")
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(search)
    assert "imap_swapi_l1a_sci_20250101_v001.0001.cdf" in browser.find_element(By.ID, "results").text
    screenshot(browser, "06-signed-in")
    sign_out(browser)
    browser.get(search)
    assert "imap_swapi_l1a_sci" not in browser.page_source


def test_dashboard_shows_failed_job_and_its_log(portal_server, browser):
    browser.get(f"{portal_server.url}/portal/dashboard")
    assert int(browser.find_element(By.ID, "jobs-failed").text) >= 1
    failure = browser.find_element(By.CSS_SELECTOR, "#failures details.failure")
    assert "codice l1a all" in failure.text and "exited with status 1" in failure.text
    assert "calibration table is inconsistent" in failure.find_element(By.CSS_SELECTOR, "pre.log").text
    assert "swapi" in browser.find_element(By.ID, "instruments").text
    screenshot(browser, "07-dashboard")
    click_and_wait(browser, failure.find_element(By.CLASS_NAME, "job-link"), "/portal/jobs/")
    assert "calibration table is inconsistent" in browser.find_element(By.ID, "job-log").text
    screenshot(browser, "08-failed-job")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def crawl(session: requests.Session, start: str, limit=2000) -> dict:
    """Every same-server link reachable from `start` (portal pages, downloads); returns url -> status."""
    origin = urlsplit(start).netloc
    seen, queue, statuses = {start}, [start], {}
    while queue and len(statuses) < limit:
        url = queue.pop()
        response = session.get(url, timeout=60)
        statuses[url] = response.status_code
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = Links()
        parser.feed(response.text)
        for link in parser.links:
            absolute = urljoin(url, link).split("#")[0]
            if urlsplit(absolute).netloc == origin and absolute not in seen:
                seen.add(absolute)
                queue.append(absolute)
    assert len(statuses) < limit, "crawl did not finish"
    return statuses


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_crawl_finds_no_broken_link_and_no_server_error(portal_server, who):
    session = requests.Session()
    if who == "admin":
        response = session.post(f"{portal_server.url}/portal/sign-in", data={"api_key": portal_server.admin_key}, allow_redirects=False)
        assert response.status_code == 303
    statuses = crawl(session, f"{portal_server.url}/portal")
    broken = {url: status for url, status in statuses.items() if status != 200}
    assert not broken, broken
    paths = {urlsplit(url).path for url in statuses}
    assert "/portal/dashboard" in paths and any(p.startswith("/portal/files/") for p in paths)
    assert any(p.startswith("/portal/jobs/") for p in paths) and any(p.startswith("/portal/download/") for p in paths)
    if who == "admin":
        assert "/portal/keys" in paths and any(p.startswith("/portal/quicklook/") for p in paths)


def scrape(url: str, instance: str | None = None) -> dict:
    """Samples of /metrics by (name, sorted labels), the `instance` label of this process's metrics left out once
    checked: with `instance`, it must be that; every request and ingest metric must carry one."""
    response = requests.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if sample.name.startswith(("sdc_http_", "sdc_ingest_")):
                assert labels.get("instance") == instance if instance else labels.get("instance"), sample
            labels.pop("instance", None)
            samples[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return samples


def test_metrics_parse_and_move_with_traffic(portal_server):
    before = scrape(portal_server.url)
    requests_key = ("sdc_http_requests_total", (("method", "GET"), ("route", "/portal/search"), ("status", "200")))
    for _ in range(3):
        assert requests.get(f"{portal_server.url}/portal/search", params={"table": "ancillary"}, timeout=30).status_code == 200
    after = scrape(portal_server.url)
    assert after[requests_key] == before.get(requests_key, 0) + 3
    duration_count = ("sdc_http_request_duration_seconds_count", (("route", "/portal/search"),))
    assert after[duration_count] == before.get(duration_count, 0) + 3
    out_key = ("sdc_http_response_bytes_total", (("route", "/portal/search"),))
    assert after[out_key] > before.get(out_key, 0)
    assert after[("sdc_ingest_files_total", (("class", "science"), ("instrument", "swapi"), ("level", "l1a")))] == 2
    assert after[("sdc_ingest_files_total", (("class", "science"), ("instrument", "swapi"), ("level", "l0")))] == 1
    assert after[("sdc_pipeline_jobs", (("state", "failed"),))] >= 1
    assert after[("sdc_pipeline_jobs", (("state", "succeeded"),))] >= 1
    assert ("sdc_pipeline_queue_depth", ()) in after
    assert after[("sdc_catalog_files", (("class", "science"),))] == 5  # two L0 and one L1B uploads, two L1A products
    assert after[("sdc_pipeline_job_duration_seconds_count", (("instrument", "swapi"), ("level", "l1a"), ("status", "succeeded")))] == 1


def test_health_endpoints(portal_server):
    assert requests.get(f"{portal_server.url}/health/live", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{portal_server.url}/health/ready", timeout=30).json() == {"status": "ready"}
