"""``fibsims report DIR`` end to end: the command on a real twin run, its refusals, and the page
opened in a real headless browser (Chromium) that must load every figure.

The browser tests need Chromium (Debian: ``apt-get install -y chromium``); without it they skip
and say so.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from tests.data.test_report import image_sources, make_run
from typer.testing import CliRunner

from fibsims.cli import report_commands

CHROMIUM = "/usr/bin/chromium"
INSTALL = "Chromium is not installed: `apt-get install -y chromium` (Debian) to run this test"
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
runner = CliRunner()


def cli() -> typer.Typer:
    """An app with only the report command, registered the way app.py registers it."""
    app = typer.Typer(pretty_exceptions_enable=False)
    report_commands.register(app)

    @app.callback()
    def main() -> None:
        """Keeps ``report`` a subcommand, as in the real app."""

    return app


def chromium() -> str:
    """The browser; CI (``FIBSIMS_REQUIRE_BROWSER=1``, set by .ci/run, which installs it) fails
    rather than skips without it, so the browser tests cannot pass by not running."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        if os.environ.get("FIBSIMS_REQUIRE_BROWSER") == "1":
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)
    return found


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_run(tmp_path_factory.mktemp("report-cli"))
    result = runner.invoke(cli(), ["report", str(folder), "--no-progress"])
    assert result.exit_code == 0, result.output
    return folder


def browse(*args: str, profile: Path, timeout: float = 120.0) -> str:
    """Run headless Chromium once; its stdout (the DOM with --dump-dom)."""
    done = subprocess.run(
        [chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@contextlib.contextmanager
def served(root: Path) -> Iterator[str]:
    """``root`` over http://127.0.0.1 on a free port, for as long as the block runs."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


PROBE = """<!doctype html><html><body><pre id="result">pending</pre>
<iframe id="report" src="report/index.html" style="width:1200px;height:900px"></iframe>
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.getElementById("report").contentDocument.images);
  const loaded = images.filter((img) => img.complete && img.naturalWidth > 0);
  document.getElementById("result").textContent =
    `loaded=${loaded.length} total=${images.length}`;
});
</script></body></html>
"""


# -- the command -------------------------------------------------------------------------------
def test_the_command_writes_the_report_and_says_where(tmp_path):
    folder = make_run(tmp_path)
    result = runner.invoke(cli(), ["report", str(folder), "--no-progress"])
    assert result.exit_code == 0, result.output
    index = folder / "report" / "index.html"
    assert str(index) in result.output and index.is_file()
    assert "figures in" in result.output


def _absent(tmp: Path) -> Path:
    return tmp / "absent"


def _a_file(tmp: Path) -> Path:
    (tmp / "run.h5").write_bytes(b"x")
    return tmp / "run.h5"


def _not_a_run(tmp: Path) -> Path:
    return tmp


def _not_finalized(tmp: Path) -> Path:
    (tmp / "journal.jsonl").write_text("")
    return tmp


def _garbage_run_file(tmp: Path) -> Path:
    (tmp / "run.h5").write_bytes(b"not hdf5" * 64)
    return tmp


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_absent, "does not exist"),
        (_a_file, "is not a folder"),
        (_not_a_run, "is not a run folder"),
        (_not_finalized, "no run.h5 yet"),
        (_garbage_run_file, "cannot make the report"),
    ],
    ids=["absent", "a-file", "not-a-run", "not-finalized", "garbage-run-file"],
)
def test_bad_input_is_a_message_and_exit_2_never_a_traceback(tmp_path, make, says):
    target = make(tmp_path)
    result = runner.invoke(cli(), ["report", str(target), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and says in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "report").exists(), "nothing was written"
    assert not list(tmp_path.glob(".report*")), "no build left over"


def test_the_real_app_has_the_report_command():
    from fibsims.cli.app import app

    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0 and "DIR/report/index.html" in result.output


# -- in a browser ------------------------------------------------------------------------------
def test_every_image_of_the_page_loads_in_a_browser(reported, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(reported / "report", site / "report")  # the folder alone: self-contained
    (site / "probe.html").write_text(PROBE, encoding="utf-8")
    expected = len(image_sources(site / "report" / "index.html"))
    assert expected >= 9
    with served(site) as base:
        dom = browse(
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{base}/probe.html",
            profile=tmp_path / "profile",
        )
    found = re.search(r"loaded=(\d+) total=(\d+)", dom)
    assert found, dom[-2000:]
    assert (int(found[1]), int(found[2])) == (expected, expected)


def test_a_screenshot_of_the_page_is_not_blank(reported, tmp_path):
    shot = tmp_path / "page.png"
    browse(
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        (reported / "report" / "index.html").as_uri(),
        profile=tmp_path / "profile",
    )
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (2400, 1280)
    assert pixels.std() > 20, "the page shows more than one colour"
    assert (pixels < 200).mean() > 0.05, "a good part of it is not white"
