"""Open a generated report.html in headless Chromium: images load, no console output, not blank.

Needs the Debian package ``chromium`` (``/usr/bin/chromium``); skipped when it is absent.
The report has no scripts of its own, so the test appends a probe script to a copy that writes
the load state of every ``<img>`` into the DOM, which ``--dump-dom`` then returns. Console
messages come from ``--enable-logging=stderr``; the probe logs one known message so that the
test also proves the console capture works.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.report_inputs import data_quality_frame, parallel_inputs, scoring_summary_frame
from PIL import Image

from trialflow import figures as G
from trialflow import report as R

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless browser test needs /usr/bin/chromium (apt-get install chromium)",
)

MARKER = "trialflow-probe-console-check"
PROBE = f"""
<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images).map(
    (img) => ({{alt: img.alt, complete: img.complete, width: img.naturalWidth}}));
  const svgs = Array.from(document.querySelectorAll("body svg")).filter(
    (svg) => svg.parentElement.closest("svg") === null);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({{images, svgs: svgs.length,
    svgSizes: svgs.map((svg) => svg.getBoundingClientRect().width)}});
  document.body.appendChild(out);
  console.log("{MARKER}");
}});
</script>
"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    inp = parallel_inputs()
    G.write_study_figures(
        inp["study"],
        inp["analysis"],
        inp["outcomes"],
        inp["participants"],
        inp["results"],
        tmp / "figures",
    )
    return R.write_report(
        inp["study"],
        tmp / "report.html",
        analysis=inp["analysis"],
        outcomes=inp["outcomes"],
        participants=inp["participants"],
        results=inp["results"],
        descriptives=inp["descriptives"],
        figures_dir=tmp / "figures",
        data_quality=data_quality_frame(),
        scoring_summary=scoring_summary_frame(),
    )


def test_images_load_and_console_is_clean(report, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    run = chromium(
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        probe.as_uri(),
        profile=tmp_path / "profile",
    )
    match = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert match, f"probe did not run; chromium said:\n{run.stderr[-2000:]}"
    state = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    expected = report.read_text().count("<img ")
    assert len(state["images"]) == expected > 0
    broken = [img["alt"] for img in state["images"] if not (img["complete"] and img["width"] > 0)]
    assert broken == []
    assert state["svgs"] == 0  # every figure, the flow diagram too, is an embedded PNG
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert any(MARKER in line for line in console), "console capture did not work"
    assert [line for line in console if MARKER not in line] == []


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "report.png"
    run = chromium(
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        report.as_uri(),
        profile=tmp_path / "profile",
    )
    assert shot.exists(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tables, figure: far from one colour
    # the simulated-data banner (#b00020) is on the first screen
    assert any(rgb == (0xB0, 0x00, 0x20) for _, rgb in colours)


OVERFLOW_PROBE = """
<script>
window.addEventListener("load", () => {
  // elements whose content is wider than their own box (a table running off the page),
  // ignoring the page itself and the sidebar's own scrolling
  const wide = Array.from(document.querySelectorAll("main *, nav *")).filter(
    (el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
      && getComputedStyle(el).overflowX === "visible"
      && !(el instanceof SVGElement)
  ).map((el) => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className);
  const main = document.querySelector("main").getBoundingClientRect();
  const out = document.createElement("pre");
  out.id = "overflow";
  out.textContent = JSON.stringify({wide, pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth, sidebar: getComputedStyle(document.querySelector("nav#toc")).position,
    mainLeft: main.left});
  document.body.appendChild(out);
});
</script>
"""


def test_nothing_overflows_its_container_at_1400_px(report, tmp_path):
    probe = tmp_path / "overflow.html"
    probe.write_text(report.read_text().replace("</body>", OVERFLOW_PROBE + "</body>"))
    run = chromium("--window-size=1400,1000", "--dump-dom", probe.as_uri(), profile=tmp_path / "p")
    match = re.search(r'<pre id="overflow">(.*?)</pre>', run.stdout, re.S)
    assert match, run.stderr[-2000:]
    state = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert state["wide"] == []
    assert state["pageWidth"] <= state["viewport"]  # no horizontal scrolling of the page
    assert state["sidebar"] == "fixed" and state["mainLeft"] > 0  # the table of contents


def test_full_page_screenshot_at_1400_px(report, tmp_path):
    # the page's full height: measured by a first load, then one screenshot of all of it
    probe = tmp_path / "height.html"
    probe.write_text(
        report.read_text().replace(
            "</body>",
            '<script>window.addEventListener("load", () => { const p = document.createElement('
            '"pre"); p.id = "height"; p.textContent = document.documentElement.scrollHeight; '
            "document.body.appendChild(p); });</script></body>",
        )
    )
    run = chromium("--window-size=1400,1000", "--dump-dom", probe.as_uri(), profile=tmp_path / "p")
    height = int(re.search(r'<pre id="height">(\d+)</pre>', run.stdout).group(1))
    assert 1000 < height < 16000  # collapsed outcome sections keep the page navigable
    shot = tmp_path / "full.png"
    run = chromium(
        f"--window-size=1400,{height}",
        f"--screenshot={shot}",
        report.as_uri(),
        profile=tmp_path / "q",
    )
    assert shot.exists(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, height)
    # the bottom of the page is drawn too (not a blank tail): text in the last screen
    tail = image.crop((0, height - 1000, 1400, height)).getcolors(maxcolors=1 << 20)
    assert tail is not None and len(tail) > 5
