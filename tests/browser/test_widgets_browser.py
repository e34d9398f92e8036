"""The widgets in a real browser: JupyterLab + Debian's Chromium, driven by Playwright.

Opens ``demo_widgets.ipynb`` (every widget), runs all cells, checks that every widget
renders without errors, then presses SearchRunner's Run and Stop and watches the plot
and the progress bar. Screenshots of every widget are saved in the test's temporary
folder, or, with ``NASVIZ_SCREENSHOTS=1`` in the environment, in ``docs/img/widgets-*.png``
(so that an ordinary test run leaves the repository's pictures alone)::

    NASVIZ_SCREENSHOTS=1 python -m pytest tests/browser
"""

import os
import re
import time
from pathlib import Path

from jupyter_fixtures import browser, chromium, lab_server  # noqa: F401  (pytest fixtures)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# DOM class of each widget -> its screenshot, docs/img/widgets-<name>.png
WIDGETS = {"spaceexplorer": "space-explorer", "paretoexplorer": "pareto-explorer", "searchrunner": "search-runner",
           "strategyrace": "strategy-race", "proxylab": "proxy-lab"}

# JavaScript: is the notebook done running (kernel idle and every code cell numbered)?
NOTEBOOK_DONE = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    if (!nb || !nb.content || !nb.sessionContext || !nb.sessionContext.session) return false;
    const kernel = nb.sessionContext.session.kernel;
    const cells = nb.content.widgets.filter(c => c.model.type === 'code');
    return !!kernel && kernel.status === 'idle' && cells.length > 0
        && cells.every(c => c.model.executionCount !== null);
}"""

KERNEL_READY = """() => {
    const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = nb && nb.sessionContext && nb.sessionContext.session;
    return !!(session && session.kernel && session.kernel.status === 'idle');
}"""


def _progress(runner) -> float:
    """SearchRunner's progress bar filling, in percent."""
    style = runner.locator(".widget-hprogress .progress-bar").first.get_attribute("style") or ""
    m = re.search(r"width:\s*([\d.]+)%", style)
    return float(m.group(1)) if m else 0.0


def _button(box, text: str):
    """The button of ``box`` whose text is ``text`` (its icon is a CSS glyph, not text)."""
    return box.locator("button").filter(has_text=re.compile(rf"^\s*{text}\s*$")).first


def _plot_src(runner) -> str | None:
    img = runner.locator(".jp-OutputArea-output img").first
    return img.get_attribute("src") if img.count() else None


def _wait_for(predicate, timeout: float, what: str, step: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_every_widget_renders_and_search_runner_runs_and_stops(lab_server, browser, tmp_path):
    url, _ = lab_server
    errors = []
    pictures = DOCS_IMG if os.environ.get("NASVIZ_SCREENSHOTS") == "1" else tmp_path / "img"
    pictures.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    try:
        page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
        page.goto(f"{url}/lab/tree/demo_widgets.ipynb", wait_until="domcontentloaded", timeout=60_000)
        page.wait_for_function(KERNEL_READY, timeout=60_000)
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        command = page.evaluate("""() => window.jupyterapp.commands.hasCommand('runmenu:run-all')
                                    ? 'runmenu:run-all' : 'notebook:run-all-cells'""")
        page.evaluate(f"() => window.jupyterapp.commands.execute('{command}')")
        page.wait_for_function(NOTEBOOK_DONE, timeout=150_000, polling=500)

        # every widget rendered, with no error anywhere
        assert page.get_by_text("Error displaying widget").count() == 0
        assert page.locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
        for name in WIDGETS:
            box = page.locator(f".nasviz-{name}")
            assert box.count() >= 1, f"{name} did not render"
            assert box.first.is_visible()
        assert page.locator(".nasviz-spaceexplorer").count() == 2
        for name in ("spaceexplorer", "paretoexplorer", "strategyrace", "proxylab"):
            assert page.locator(f".nasviz-{name} .jp-OutputArea-output img").count() >= 1, \
                f"{name} shows no figure"

        # SearchRunner: Run, watch the plot and the progress bar move, Stop, see it stop
        runner = page.locator(".nasviz-searchrunner").first
        runner.scroll_into_view_if_needed()
        assert _progress(runner) == 0.0
        _button(runner, "Run").click()
        first = _wait_for(lambda: _plot_src(runner), 30, "the first live plot")
        _wait_for(lambda: _progress(runner) > 0, 30, "the progress bar to move")
        _wait_for(lambda: (_plot_src(runner) or first) != first, 30, "the live plot to be redrawn")
        moved = _progress(runner)
        _wait_for(lambda: _progress(runner) > moved, 30, "the progress bar to move on")
        _button(runner, "Stop").click()
        _wait_for(lambda: "stopped" in runner.inner_text(), 30, "the search to report it stopped")
        stopped_at = _progress(runner)
        assert 0 < stopped_at < 100
        time.sleep(1.5)
        assert _progress(runner) == stopped_at, "the progress bar moved after Stop"
        assert _button(runner, "Run").is_enabled()
        assert _button(runner, "Resume").is_enabled()
        assert _button(runner, "Stop").is_disabled()

        for name, picture in WIDGETS.items():
            box = page.locator(f".nasviz-{name}").first
            box.scroll_into_view_if_needed()
            box.screenshot(path=str(pictures / f"widgets-{picture}.png"))
        macro = page.locator(".nasviz-spaceexplorer").nth(1)
        macro.scroll_into_view_if_needed()
        macro.screenshot(path=str(pictures / "widgets-space-explorer-macro.png"))
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
        raise
    finally:
        page.close()
    assert errors == [], "JavaScript errors in the browser:\n" + "\n".join(errors)
