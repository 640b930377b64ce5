"""Issue 14, per-mission views: the portal of a server hosting IMAP and HERMES in a real headless Chromium (the mission
switcher, HERMES search with the L0 and its L1, the L1's quicklook, the HERMES dashboard, axe-core on each page), and
the Grafana dashboard's mission variable and panel against the metrics this server exports."""

import json
import re
import sys

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import REPO, SDCServer, wait_for
from portal_browser import accessibility_violations, click_and_wait, horizontal_overflow, screenshot, sign_in
from test_missions import PACKAGE, l0_bytes
from test_portal import scrape

L0 = "hermes_EEA_l0_2024042-000000_v0.bin"
L1 = "hermes_eea_l1_20240211T000000_v0.1.0.cdf"
L1_KEY = f"hermes/eea/l1/unknown/2024/02/11/{L1}"


@pytest.fixture(scope="module")
def mission_server(sdc_bin, tmp_path_factory):
    """IMAP and HERMES in one server; a HERMES L0 uploaded and processed to L1 by the test package (the L1 then fails:
    the package processes L0 only); one HERMES upload kept aside."""
    work = tmp_path_factory.mktemp("mission-portal")
    server = SDCServer(sdc_bin, work / "root", extra_args=[
        "--missions", "imap,hermes", "--mission-python", sys.executable, "--mission-pythonpath", str(PACKAGE)])
    try:
        write = {"x-api-key": server.write_key}
        answer = requests.put(f"{server.url}/missions/hermes/upload/{L0}", data=l0_bytes(), headers=write, timeout=30)
        assert answer.status_code == 200, answer.text
        kept = requests.put(f"{server.url}/missions/hermes/upload/hermes_XYZ_l0_2024042-000000_v0.bin", data=b"x", headers=write, timeout=30)
        assert kept.status_code == 400, kept.text

        def l1_settled():
            rows = requests.get(f"{server.url}/missions/hermes/query", params={"level": "l1"}, timeout=30).json()
            return rows and rows[0]["status"] == "failed"

        wait_for(l1_settled, "the L1 made from the uploaded L0, and its status", timeout=120)
        yield server
    finally:
        server.stop()


def test_switch_to_hermes_see_its_files_and_open_the_l1_quicklook(mission_server, browser):
    url = mission_server.url
    browser.get(f"{url}/portal")
    switcher = Select(browser.find_element(By.ID, "mission-select"))
    assert [option.text for option in switcher.options] == ["IMAP", "HERMES"]
    assert switcher.first_selected_option.get_attribute("value") == "imap"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=mission-select]").text == "Mission"
    switcher.select_by_value("hermes")
    click_and_wait(browser, browser.find_element(By.ID, "mission-button"), "mission=hermes")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Search HERMES data"
    rows = {row.get_attribute("data-level"): row.text for row in browser.find_elements(By.CSS_SELECTOR, "tr.mission-file")}
    assert set(rows) == {"l0", "l1"}, rows
    assert L0 in rows["l0"] and "success" in rows["l0"]
    assert L1 in rows["l1"] and L0 in rows["l1"] and "failed" in rows["l1"]  # made from the L0
    screenshot(browser, "21-hermes-search")
    # The download link is the API's, and gives the L1's bytes.
    download = browser.find_element(By.CSS_SELECTOR, "tr.mission-file[data-level=l1] a.download-link").get_attribute("href")
    assert download == f"{url}/missions/hermes/download/{L1_KEY}"
    body = requests.get(download, timeout=30)
    assert body.status_code == 200 and body.content[:4] == bytes.fromhex("cdf30001")

    # The choice carries to the dashboard and back.
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Dashboard"), "/portal/dashboard?mission=hermes")
    assert browser.find_element(By.ID, "counts-eea-l0").text.split()[-5:] == ["1", "0", "0", "1", "0"]
    assert browser.find_element(By.ID, "counts-eea-l1").text.split()[-5:] == ["0", "1", "0", "0", "1"]
    assert browser.find_element(By.ID, "mission-rejected").text == "1"
    assert Select(browser.find_element(By.ID, "mission-select")).first_selected_option.get_attribute("value") == "hermes"
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Search"), "/portal?mission=hermes")

    # The L1 CDF written by the test package (Epoch TT2000 + counts) plots with the CDF quicklook.
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "tr.mission-file[data-level=l1] a.quicklook-link"), "/portal/quicklook/hermes/")
    plot = browser.find_element(By.CSS_SELECTOR, "#figures svg.plot")
    assert int(plot.get_attribute("data-points")) == 50
    assert "counts" in browser.find_element(By.ID, "figures").text
    screenshot(browser, "22-hermes-quicklook")


def test_mission_switcher_works_without_scripts_and_from_the_keyboard(mission_server, browser):
    """The switcher is a plain GET form: the keyboard reaches the select and the button, and the server answers it."""
    plain = requests.get(f"{mission_server.url}/portal", params={"mission": "hermes"}, timeout=30)
    assert plain.status_code == 200 and L1 in plain.text and "<script" not in plain.text.split("<main")[0]
    browser.get(f"{mission_server.url}/portal")
    browser.execute_script("document.getElementById('mission-select').focus()")
    focused = browser.switch_to.active_element
    assert focused.get_attribute("id") == "mission-select"
    focused.send_keys(Keys.ARROW_DOWN)
    focused.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "mission-button"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: "mission=hermes" in browser.current_url, "the switcher's form to be sent", timeout=30)


@pytest.mark.parametrize("page", ["/portal?mission=hermes", "/portal/dashboard?mission=hermes", f"/portal/quicklook/{L1_KEY}",
                                  "/portal/dashboard"])
def test_mission_pages_have_no_accessibility_violations(mission_server, browser, page):
    sign_in(browser, mission_server.url, mission_server.write_key)  # a write key also sees the files kept aside
    browser.get(f"{mission_server.url}{page}")
    assert browser.find_element(By.ID, "mission-switcher")
    violations = accessibility_violations(browser)
    assert not violations, "\n".join(violations)
    assert horizontal_overflow(browser, 390) == 0, page  # wide tables scroll in their own box


def test_grafana_mission_variable_and_panel_query_the_exported_metric(mission_server):
    dashboard = json.loads((REPO / "grafana" / "sdc-dashboard.json").read_text())
    [variable] = [v for v in dashboard["templating"]["list"] if v["name"] == "mission"]
    assert variable["query"]["query"] == "label_values(sdc_mission_files_total, mission)"
    [panel] = [p for p in dashboard["panels"] if "$mission" in p["title"]]
    [target] = panel["targets"]
    assert 'sdc_mission_files_total{mission="$mission"}' in target["expr"]
    assert re.search(r"sum by \(instrument, level, outcome\)", target["expr"])
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    exported = scrape(mission_server.url)
    outcomes = {dict(labels)["outcome"] for name, labels in exported if name == "sdc_mission_files_total" and dict(labels)["mission"] == "hermes"}
    assert {"received", "rejected", "processed", "produced", "failed"} <= outcomes, outcomes
