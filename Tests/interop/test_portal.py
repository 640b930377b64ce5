"""Issues 6 and 15 acceptance: the web portal in a real headless Chromium (quicklooks, coverage, browse tree,
dashboard plots, accessibility with axe-core, a 390-pixel-wide screen), a crawl of every page, and /metrics."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest
import requests
from cdflib.cdfwrite import CDF as CDFWriter
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import REPO, SDCServer
from portal_browser import (accessibility_violations, click_and_wait, horizontal_overflow, screenshot, sign_in,
                            sign_out)
from test_pipeline import BUILT_IN, external, jobs, science, upload, wait_for, write_pipeline

ANCILLARY = "imap_swapi_lut-notes_20250101_v001.csv"
SWAPI_L0 = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
SWAPI_SCI = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250101_v001.0001.cdf"
SWAPI_HK = "imap/swapi/l1a/2025/01/imap_swapi_l1a_hk_20250101_v001.0001.cdf"
STUCK_CLOCK = "imap_swapi_l1b_stuck_20250102_v001.0000.cdf"
STUCK_CLOCK_V2 = "imap_swapi_l1b_stuck_20250102_v001.0001.cdf"
# HIT L1B on 1, 2 (twice: reprocessed) and 4 January: 3 January is a gap.
COVERAGE = ["imap_hit_l1b_cov_20250101_v001.0000.cdf", "imap_hit_l1b_cov_20250102_v001.0000.cdf",
            "imap_hit_l1b_cov_20250102_v001.0001.cdf", "imap_hit_l1b_cov_20250104_v001.0000.cdf"]
# The CCSDS header fields as the L1A names them.
HEADER = {"version", "type", "sec_hdr_flg", "pkt_apid", "seq_flgs", "src_seq_ctr", "pkt_len", "shcoarse"}


def stuck_clock_cdf(path, shift: float = 0) -> bytes:
    """A CDF written by cdflib whose 2,000 records all have one time, as a stuck clock in an L0 file makes; `shift`
    is added to every count (another version of the product)."""
    writer = CDFWriter(str(path), cdf_spec={"Encoding": "IBMPC_ENCODING", "Majority": "row_major"})
    epoch = {"Variable": "epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": 0}
    writer.write_var(epoch, var_attrs={"VAR_TYPE": "support_data"},
                     var_data=np.full(2000, 789_048_069_184_000_000, dtype=np.int64))  # 2025-01-02T00:00:00
    counts = {"Variable": "counts", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [], "Compress": 0}
    writer.write_var(counts, var_attrs={"VAR_TYPE": "data", "DEPEND_0": "epoch", "FILLVAL": [-1e31, "CDF_REAL8"]},
                     var_data=np.arange(2000, dtype=np.float64) % 13 + shift)
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
        upload(server, work, STUCK_CLOCK_V2, stuck_clock_cdf(work / "stuck-clock-2.cdf", shift=0.5))
        for number, name in enumerate(COVERAGE):
            upload(server, work, name, stuck_clock_cdf(work / f"coverage-{number}.cdf", shift=number))
        wait_for(lambda: len(science(server, instrument="swapi", data_level="l1a")) == 2, timeout=120)
        wait_for(lambda: [j for j in jobs(server, instrument="codice") if j["status"] == "FAILED"], timeout=120)
        yield server
    finally:
        server.stop()


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
    # The dashboard links the pages other server extensions add (alerts, integrity, I-ALiRT); their own tests check them.
    others = {link for link in ("/portal/alerts", "/portal/integrity", "/portal/ialirt")}
    broken = {url: status for url, status in statuses.items() if status != 200 and not (status == 404 and urlsplit(url).path in others)}
    assert not broken, broken
    paths = {urlsplit(url).path for url in statuses}
    assert "/portal/dashboard" in paths and any(p.startswith("/portal/files/") for p in paths)
    assert "/portal/coverage" in paths and any(p.startswith("/portal/browse/imap/") for p in paths)
    assert any(p.startswith("/portal/jobs/") for p in paths) and any(p.startswith("/portal/download/") for p in paths)
    if who == "admin":
        assert "/portal/keys" in paths and any(p.startswith("/portal/quicklook/") for p in paths)


def every_science_file(server) -> list:
    return [row for row in science(server, table="science") if row]


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
    # Two L0 and two L1B uploads, two L1A products, the coverage files and the dashboard test's L0 upload.
    assert after[("sdc_catalog_files", (("class", "science"),))] == len(every_science_file(portal_server))
    assert after[("sdc_pipeline_job_duration_seconds_count", (("instrument", "swapi"), ("level", "l1a"), ("status", "succeeded")))] == 1
    wait_for_latency(portal_server)
    assert scrape(portal_server.url)[LATENCY_KEY] <= len(science(portal_server, instrument="swapi", data_level="l1a"))
    assert after[("sdc_ingest_bytes_total", (("class", "ancillary"), ("instrument", "swapi"), ("level", "none")))] >= len(b"energy,table\n1,2\n")


LATENCY_KEY = ("sdc_latency_product_seconds_count", (("instrument", "swapi"), ("level", "l1a")))


def wait_for_latency(server):
    """Waits until the L1A products' latency is exported: latencies are traced through the lineage by the alert
    evaluator's pass (every 60 s by default), and the histogram has no series before its first observation."""
    wait_for(lambda: scrape(server.url).get(LATENCY_KEY, 0) >= 1, "the L1A products' latency in /metrics")


def test_grafana_dashboard_queries_only_metrics_the_server_exports(portal_server):
    """The Grafana dashboard has the portal dashboard's panels, each on metrics /metrics really exports."""
    dashboard = json.loads((REPO / "grafana" / "sdc-dashboard.json").read_text())
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for panel in ("ingest rate", "ingest volume", "jobs by state", "duration percentiles", "queue depth", "failed jobs", "latency from l0"):
        assert panel in titles, panel
    queried = {name for panel in dashboard["panels"] for target in panel["targets"] for name in re.findall(r"\bsdc_[a-z0-9_]+", target["expr"])}
    wait_for_latency(portal_server)
    exported = {name for name, _ in scrape(portal_server.url)}
    # sdc_mission_* is exported only when missions are hosted beside IMAP: test_mission_portal.py checks it there.
    assert {name for name in queried if not name.startswith("sdc_mission_")} <= exported, queried - exported


def test_health_endpoints(portal_server):
    assert requests.get(f"{portal_server.url}/health/live", timeout=30).json() == {"status": "ok"}
    assert requests.get(f"{portal_server.url}/health/ready", timeout=30).json() == {"status": "ready"}


def figure_items(browser) -> list:
    """The quicklook's plots and constant lines in page order: (variable, tag, group id, text)."""
    return browser.execute_script("""
        return Array.from(document.querySelectorAll('#figures [data-variable]')).map(e =>
            [e.getAttribute('data-variable'), e.tagName.toLowerCase(), (e.closest('details, section') || {}).id || '', e.textContent]);""")


def test_quicklook_shows_housekeeping_before_the_ccsds_header_and_constants_as_values(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/quicklook/{SWAPI_HK}")
    items = figure_items(browser)
    plots = [item for item in items if item[1] == "svg"]
    housekeeping = [index for index, item in enumerate(items) if item[1] == "svg" and item[2] == "group-housekeeping"]
    header = [index for index, item in enumerate(items) if item[0] in HEADER]
    assert housekeeping and header, items
    assert housekeeping[0] < min(header), "a housekeeping plot comes before every CCSDS header field"
    assert all(items[index][2] == "group-header" for index in header), "header fields are in the header group"
    assert browser.find_element(By.ID, "group-header").get_attribute("open") is None, "the CCSDS header is collapsed"
    constants = {item[0]: item[3] for item in items if item[1] == "li"}
    assert re.search(r"constant: \d+", constants["pkt_apid"]), constants
    assert not any(item[0] in constants for item in plots), "no constant is plotted"
    # Readable axes: no plot repeats a tick label.
    ticks = browser.execute_script("""
        return Array.from(document.querySelectorAll('svg.plot')).map(svg =>
            [svg.id, Array.from(svg.querySelectorAll('text.ytick')).map(t => t.textContent),
             Array.from(svg.querySelectorAll('text.xtick')).map(t => t.textContent)]);""")
    for plot, ys, xs in ticks:
        assert len(ys) >= 2 and len(set(ys)) == len(ys), (plot, ys)
        assert len(set(xs)) == len(xs), (plot, xs)
    screenshot(browser, "10-quicklook-hk")


def test_quicklook_stacks_chosen_variables_on_one_time_axis(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/quicklook/{SWAPI_HK}")
    plotted = [item[0] for item in figure_items(browser) if item[1] == "svg" and item[2] == "group-housekeeping"][:2]
    assert len(plotted) == 2
    browser.find_element(By.CSS_SELECTOR, "#choose summary").click()
    for name in plotted:
        browser.find_element(By.CSS_SELECTOR, f"#pick-housekeeping input[value='{name}']").click()
    first = browser.find_element(By.ID, "from").get_attribute("placeholder")
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d", first)
    browser.find_element(By.ID, "from").send_keys(first)
    click_and_wait(browser, browser.find_element(By.ID, "plot-button"), "var=")
    stack = browser.find_element(By.CSS_SELECTOR, "svg#stack")
    assert stack.get_attribute("data-variables").split() == plotted
    labels = [t.text for t in stack.find_elements(By.CSS_SELECTOR, "text.xtick")]
    assert labels and len(set(labels)) == len(labels), "time labels once, under the lowest panel"
    screenshot(browser, "11-quicklook-stacked")


def test_compare_two_versions(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/quicklook/imap/swapi/l1b/2025/01/{STUCK_CLOCK}")
    Select(browser.find_element(By.ID, "compare-with")).select_by_visible_text(STUCK_CLOCK_V2)
    click_and_wait(browser, browser.find_element(By.ID, "compare-button"), "/portal/compare/")
    row = browser.find_element(By.CSS_SELECTOR, "#comparison tr.differs[data-variable='counts']")
    assert "2000 values differ, largest |Δ| = 0.5" in row.text
    overlay = browser.find_element(By.CSS_SELECTOR, "svg.compare")
    assert overlay.find_elements(By.CSS_SELECTOR, "polyline.first") and overlay.find_elements(By.CSS_SELECTOR, "polyline.second")
    screenshot(browser, "12-compare-versions")


def test_coverage_marks_the_gap_and_the_reprocessed_day(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/coverage?instrument=hit&from=2025-01-01&to=2025-01-05")
    row = browser.find_element(By.CSS_SELECTOR, "#coverage tr[data-level='l1b']")
    marks = {cell.get_attribute("data-day"): cell.get_attribute("class").split()[-1] for cell in row.find_elements(By.CSS_SELECTOR, "td.day")}
    assert marks == {"20250101": "present", "20250102": "reprocessed", "20250103": "gap", "20250104": "present", "20250105": "none"}
    summary = browser.find_element(By.CSS_SELECTOR, "#coverage-summary li[data-level='l1b']").text
    assert "gaps: 2025-01-03" in summary and "reprocessed: 2025-01-02" in summary
    screenshot(browser, "13-coverage")
    assert horizontal_overflow(browser, 390) == 0
    screenshot(browser, "14-coverage-390px", width=390)
    browser.set_window_size(1280, 900)
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "td[data-day='20250102'] a"), "/portal/search?")
    assert "of 2" in browser.find_element(By.ID, "result-count").text  # both versions of the reprocessed day


def test_browse_tree_follows_the_storage_layout(portal_server, browser):
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}/portal/browse")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#browse-tree a[href='/portal/browse/imap/hit/l1b']"), "/imap/hit/l1b")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "2025-01"), "/imap/hit/l1b/2025/01")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#breadcrumbs a")] == ["archive", "imap", "hit", "l1b", "2025", "01"]
    assert sorted(a.text for a in browser.find_elements(By.CLASS_NAME, "file-link")) == sorted(COVERAGE)
    screenshot(browser, "15-browse")


def chart_totals(browser) -> dict:
    return {figure.get_attribute("id"): float(figure.find_element(By.CSS_SELECTOR, "svg").get_attribute("data-total"))
            for figure in browser.find_elements(By.CSS_SELECTOR, "figure.chart")}


def quiet(server):
    """Waits until no job is queued or running (the pipeline has made everything it will)."""
    wait_for(lambda: not [j for j in jobs(server) if j["status"] in ("QUEUED", "RUNNING")], "the pipeline to be idle", timeout=120)


def test_dashboard_plots_change_after_uploads_and_a_failed_job(portal_server, browser, tmp_path):
    quiet(portal_server)
    browser.get(f"{portal_server.url}/portal/dashboard")
    before = chart_totals(browser)
    assert {"chart-ingest-files", "chart-ingest-bytes", "chart-jobs", "chart-failures", "chart-durations", "chart-queue",
            "chart-latency"} <= set(before)
    assert before["chart-failures"] >= 1 and before["chart-latency"] >= 1  # the fixture's failed CoDICE job, its SWAPI L1A
    failed_before = len([j for j in jobs(portal_server, instrument="codice") if j["status"] == "FAILED"])
    upload(portal_server, tmp_path, "imap_swapi_lut-dashboard_20250105_v001.csv", b"a,b\n1,2\n")
    upload(portal_server, tmp_path, "imap_codice_l0_raw_20250105_v001.0000.pkts", b"more codice packets")
    wait_for(lambda: len([j for j in jobs(portal_server, instrument="codice") if j["status"] == "FAILED"]) > failed_before,
             "the second CoDICE job to fail", timeout=120)
    quiet(portal_server)
    browser.get(f"{portal_server.url}/portal/dashboard")
    after = chart_totals(browser)
    # Every file was ingested within the last 24 hours: the ingest plot counts each once.
    stored = int(re.match(r"(\d+) files", browser.find_element(By.ID, "storage-used").text).group(1))
    assert after["chart-ingest-files"] == stored >= before["chart-ingest-files"] + 2
    assert after["chart-ingest-bytes"] >= before["chart-ingest-bytes"] + len(b"a,b\n1,2\n") + len(b"more codice packets")
    assert after["chart-failures"] == before["chart-failures"] + 1
    assert after["chart-jobs"] >= before["chart-jobs"] + 1
    assert browser.find_element(By.CSS_SELECTOR, "#operations-links a[href='/portal/alerts']")
    screenshot(browser, "16-dashboard-plots")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "30 days"), "window=30d")
    assert chart_totals(browser)["chart-ingest-files"] == after["chart-ingest-files"]
    assert horizontal_overflow(browser, 390) == 0
    screenshot(browser, "17-dashboard-390px", width=390)


def test_search_page_browse_links_are_separate_links(portal_server, browser):
    browser.get(f"{portal_server.url}/portal")
    links = browser.find_elements(By.CSS_SELECTOR, "#browse a.browse")
    assert [link.text for link in links] == ["science", "quicklook", "dependency", "ancillary", "release", "spice"][:len(links)]
    assert len(links) >= 5 and len({link.get_attribute("href") for link in links}) == len(links)
    for left, right in zip(links, links[1:]):
        assert right.location["x"] - (left.location["x"] + left.size["width"]) >= 8, "links are set apart"
    assert " · " in browser.find_element(By.ID, "browse").text or browser.execute_script(
        "return getComputedStyle(document.querySelectorAll('#browse li')[1], '::before').content") == '" · "'


@pytest.mark.parametrize("page", ["/portal", "/portal/search?table=science", f"/portal/files/{SWAPI_SCI}",
                                  f"/portal/quicklook/{SWAPI_HK}", "/portal/coverage?instrument=hit&from=2025-01-01&to=2025-01-05",
                                  "/portal/browse", "/portal/dashboard"])
def test_accessibility_checks_pass_and_pages_fit_a_phone(portal_server, browser, page):
    """axe-core finds no violation; the page is no wider than a 390-pixel screen; the keyboard reaches the main
    content through the skip link."""
    sign_in(browser, portal_server.url, portal_server.read_key)
    browser.get(f"{portal_server.url}{page}")
    violations = accessibility_violations(browser)
    assert not violations, "\n".join(violations)
    assert horizontal_overflow(browser, 390) == 0, page
    browser.set_window_size(1280, 900)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link" and focused.is_displayed()
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
