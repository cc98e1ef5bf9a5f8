"""The batch report: one row per session with its quicklook, relative links that resolve, escaped text, and the
page rendered by headless Chromium (every image loads)."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from nwbinspector import Importance, InspectorMessage
from PIL import Image

from nwb_conversions.publishing.report import REPORT_NAME, relative_link, status_class, write_batch_report
from nwb_conversions.quicklook import write_quicklook

from ..quicklook_files import write_image_mask_file

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars",
)
#: Marks each image with what the browser loaded, then the page as checked (added to a copy of the report only).
IMAGE_PROBE = (
    '<script>window.addEventListener("load", () => { for (const img of document.images) { '
    'img.setAttribute("data-natural-width", img.naturalWidth); img.setAttribute("data-complete", img.complete); } '
    'document.body.setAttribute("data-checked", "yes"); });</script>'
)


class LinkCollector(HTMLParser):
    """Every href and src of a page, the rows of its table body, and the attributes of its images."""

    def __init__(self):
        super().__init__()
        self.links, self.images, self.rows, self.body = [], [], 0, {}
        self.in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[name] for name in ("href", "src") if name in attrs]
        if tag == "img":
            self.images.append(attrs)
        if tag == "body":
            self.body = attrs
        if tag == "tbody":
            self.in_body = True
        if tag == "tr" and self.in_body:
            self.rows += 1


def parse(page: str) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(page)
    return collector


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A batch folder: two sessions converted (one in a sub-folder whose name needs escaping), one failed."""
    output_dir = tmp_path_factory.mktemp("batch")
    nested = output_dir / "pair 2 #b"
    nested.mkdir()
    first = write_image_mask_file(output_dir / "session_a.nwb")
    second = write_image_mask_file(nested / "session b%.nwb")
    rows = []
    for name, nwb_path in (("session_a", first), ("session b", second)):
        quicklook = write_quicklook(nwb_path, inspect=False).png_path
        rows.append(dict(session=name, status="ok", reason=None, size_mb=nwb_path.stat().st_size / 1e6, seconds=1.25,
                         gate_messages=["BEST_PRACTICE_SUGGESTION check_x at /: use <units> & more"],
                         nwb_path=nwb_path, quicklook_png=quicklook))
    message = InspectorMessage(message="subject_id is missing", importance=Importance.CRITICAL,
                               check_function_name="check_subject_id_exists", location="/general/subject")
    rows.append(dict(session="c99", status="failed", reason="error: c99: no cNN_npx_raw.bin; expected one",
                     size_mb=None, seconds=0.2, gate_messages=[message], nwb_path=output_dir / "c99.nwb",
                     quicklook_png=None))
    return output_dir, rows, write_batch_report(rows, output_dir)


def test_report_rows_links_and_escaping(batch):
    output_dir, rows, report = batch
    assert report == output_dir / REPORT_NAME
    page = report.read_text(encoding="utf-8")
    collector = parse(page)
    assert collector.rows == len(rows) == 3
    assert "3 sessions: 2 converted, 1 failed" in page
    assert "use &lt;units&gt; &amp; more" in page and "<units>" not in page
    assert "CRITICAL check_subject_id_exists at /general/subject: subject_id is missing" in page
    assert "error: c99: no cNN_npx_raw.bin; expected one" in page
    assert "no NWB file" in page and "no quicklook" in page
    assert sorted(collector.links) == sorted([
        "session_a.nwb", "session_a.png", "session_a.png",
        "pair%202%20%23b/session%20b%25.nwb", "pair%202%20%23b/session%20b%25.png", "pair%202%20%23b/session%20b%25.png",
    ])
    for link in collector.links:
        assert not link.startswith(("/", "file:", "http")) and ":" not in link
        assert (output_dir / unquote(link)).is_file()
    assert [image["src"] for image in collector.images] == ["session_a.png", "pair%202%20%23b/session%20b%25.png"]
    assert f"{rows[0]['size_mb']:.1f} MB" in page and "1.2 s" in page


def test_relative_links_and_status_classes(tmp_path):
    (tmp_path / "out").mkdir()
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"png")
    assert relative_link(elsewhere, tmp_path / "out") == "../elsewhere.png"
    assert relative_link(tmp_path / "absent.png", tmp_path / "out") is None
    assert relative_link(None, tmp_path) is None
    assert [status_class(s) for s in ("ok", "Converted", "skipped", "failed", "")] == [
        "success", "success", "skipped", "failure", "failure"]


def test_report_replaces_an_earlier_one_and_leaves_nothing_else(tmp_path):
    write_batch_report([dict(session="a", status="ok")], tmp_path)
    path = write_batch_report([dict(session="b", status="failed", reason="r")], tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "1 sessions: 0 converted, 1 failed" in page and ">a<" not in page
    assert [p.name for p in tmp_path.iterdir()] == [REPORT_NAME]


def chromium() -> str | None:
    return next((path for path in map(shutil.which, CHROMIUM_CANDIDATES) if path), None)


def run_chromium(browser: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, HOME=str(profile))
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, timeout=90, env=environment, stdin=subprocess.DEVNULL,
    )


@pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")
def test_report_renders_in_headless_chromium_with_every_image_loaded(batch, tmp_path):
    output_dir, rows, report = batch
    browser = chromium()
    probe = output_dir / ".report-probe.html"  # beside the report, so relative links resolve the same way
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    try:
        dumped = run_chromium(browser, tmp_path / "profile-dom", "--virtual-time-budget=10000", "--dump-dom",
                              probe.as_uri())
    finally:
        probe.unlink()
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    collector = parse(dumped.stdout)
    assert collector.body.get("data-checked") == "yes"
    assert collector.rows == len(rows)
    assert len(collector.images) == 2
    for image in collector.images:
        width = Image.open(output_dir / unquote(image["src"])).size[0]
        assert image["data-complete"] == "true" and int(image["data-natural-width"]) == width == 1600
    screenshot = tmp_path / "report.png"
    shot = run_chromium(browser, tmp_path / "profile-shot", "--window-size=1400,1400", f"--screenshot={screenshot}",
                        report.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    pixels = np.asarray(Image.open(screenshot))[..., :3].astype(int)
    assert pixels.shape[:2] == (1400, 1400)
    assert ((255 - pixels).max(axis=-1) > 40).mean() > 0.01  # text and the quicklook images, not a blank page
    for badge in ((0xDF, 0xF3, 0xE2), (0xFB, 0xE0, 0xE0)):  # the "ok" and "failed" status badges' backgrounds
        assert (np.abs(pixels - badge).max(axis=-1) == 0).sum() > 200
