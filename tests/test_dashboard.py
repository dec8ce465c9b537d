"""The dashboard as a user meets it: headless components, and a real browser on loopback."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

solara = pytest.importorskip("solara")
import ipyvuetify as v  # noqa: E402
from mesa.visualization.solara_viz import ModelController  # noqa: E402

from sim.app import DashboardModel, EventLog, Measures, RegionMap, Status, make_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def rendered_text(rc):
    return " ".join(w.template for w in rc.find(v.VuetifyTemplate).widgets)


def test_step_through_the_controller_updates_month_and_event_log():
    model = solara.reactive(DashboardModel("vaernesregionen", rng="2"))

    @solara.component
    def Harness():
        ModelController(
            model,
            model_parameters={"scenario": "vaernesregionen", "rng": "2"},
            use_threads=solara.use_reactive(False),
            play_interval=solara.use_reactive(100),
            render_interval=solara.use_reactive(1),
        )
        Status(model.value)
        EventLog(model.value)

    box, rc = solara.render(Harness(), handle_error=False)
    before = rendered_text(rc)
    assert "Month: <strong>2014-03</strong>" in before
    step = rc.find(v.Btn, children=["Step"])
    for _ in range(12):
        step.widget.click()
    assert model.value.steps == 12
    after = rendered_text(rc)
    assert "Month: <strong>2015-02</strong>" in after
    assert after.count("<tr>") >= before.count("<tr>")
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert model.value.steps == 0


def test_plots_and_page_render():
    model = DashboardModel("fjellregionen", rng="3")
    for _ in range(30):
        model.step()
    for component in (RegionMap, Measures):
        box, rc = solara.render(component(model), handle_error=False)
        assert rc.find(v.Html).widgets or rc.find().widgets
    box, rc = solara.render(make_page(model), handle_error=False)
    assert box is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_dashboard_in_a_real_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed (CI installs it)")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert time.time() < deadline, "dashboard did not start"
                time.sleep(0.5)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url)
            page.get_by_text("Step", exact=True).wait_for(timeout=60000)
            # choose a scenario in the sidebar's select
            page.locator(".v-select", has_text="Scenario").first.locator(".v-select__selections").click()
            page.get_by_role("option", name="vaernesregionen").click()
            page.get_by_text("Reset", exact=True).click()  # a new model with the chosen parameters
            page.get_by_text("Værnesregionen").first.wait_for(timeout=30000)
            page.get_by_text("Month: 2014-03").wait_for(timeout=30000)
            log_before = page.locator(".solara-markdown table").last.inner_text()
            for _ in range(24):
                page.get_by_text("Step", exact=True).click()
                page.wait_for_timeout(250)
            page.get_by_text("Month: 2016-02").wait_for(timeout=30000)
            page.wait_for_timeout(1000)
            log_after = page.locator(".solara-markdown table").last.inner_text()
            assert log_after != log_before
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
        assert shot.stat().st_size > 10000
        print(f"screenshot: {shot}")
    finally:
        server.terminate()
        server.wait(timeout=20)
