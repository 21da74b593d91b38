"""`evalhouse report`: one self-contained HTML file, checked by rendering it in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from evalhouse.cli import main

pytestmark = pytest.mark.slow

SECTIONS = [
    "Overview",
    "Accuracy by model and arm",
    "Accuracy by kind and arm",
    "Figures",
    "Code versus NL",
    "Lab effects on model metrics",
    "Run health",
    "Validation",
]
LAB_BLUE, LAB_RED = (31, 119, 180), (214, 39, 40)  # the figures' colours of the two labs


@pytest.fixture(scope="module")
def report(ops_project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = ops_project.invoke("report", "--out", str(out), "--experiments", str(ops_project.experiments))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"report: {out} (") and "8 sections" in result.output
    return out


def _chromium(*args: str) -> subprocess.CompletedProcess:
    """Headless Chromium as root, offline, with a profile of its own."""
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)"
    with tempfile.TemporaryDirectory(prefix="evalhouse-chromium-") as profile:
        return subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


def test_report_is_one_file_that_refers_to_nothing_outside_it(report):
    """Every src and href is embedded data or an in-page anchor; no stylesheet, script or URL is fetched."""
    html = report.read_text()
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert not re.search(r"<link|<script|@import|url\(|https?://", html, re.IGNORECASE)
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(pngs) >= 5 and all(base64.b64decode(p).startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in html
    assert "value ~ is_flagship + (1 | lab)" in html and "LAB EFFECTS: hubris" in html
    assert "Paired code − nl per model" in html
    assert "<th>odds ratio [95% CI]</th>" in html and "Primary effect: binomial GLMM" in html


def test_report_renders_in_headless_chromium(report, tmp_path):
    """Chromium lays the report out offline: its DOM holds the tables and its screenshot shows the figures."""
    dom = _chromium("--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in text
    assert text.count('<table class="data">') == 6  # overview, model × arm, kind × arm, GLMM, run health, validation
    assert "synthetic/atlas-large" in text and "synthetic/boreal-lite" in text
    assert text.count('<td class="pass">PASS</td>') == 5

    shot = tmp_path / "report.png"
    rendered = _chromium("--hide-scrollbars", "--window-size=1200,3000", f"--screenshot={shot}", report.as_uri())
    assert rendered.returncode == 0 and shot.exists(), rendered.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    for colour in (LAB_BLUE, LAB_RED):  # colours nothing but the embedded figures use
        near = int((np.abs(pixels - colour).sum(axis=2) < 40).sum())
        assert near > 100, f"the figure's {colour} lines are not on the page ({near} pixels)"


def test_report_without_a_warehouse_is_one_error_line(workdir):
    """No warehouse yet: one `Error:` line, exit 1, no file written."""
    result = CliRunner().invoke(main, ["report", "--out", str(workdir.data / "r.html")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no warehouse at")
    assert not (workdir.data / "r.html").exists()
