"""Measures how long a person waits for an answer on the page (figures, never asserted).

    .venv/bin/python -m tests.browser.latency [--runs 20]

Against a fresh local stack in Debian's Chromium at 1280x800:

- click-to-answer: an example image is clicked -> its digit is on the page
  (fetching the image, the upload, the whole workflow, rendering);
- stroke-to-answer: the mouse is released at the end of a stroke -> the digit
  is on the page (the page's pause after a stroke, LIVE_DELAY_MS, included).

Each time is taken inside the page (performance.now() at the event, and when
the result's digit changes), so the test driver's own latency is not in it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.browsing import CHROMIUM_ARGS, DESKTOP
from tests.browser.recognizer import SEVEN_STROKE, VERTICAL_STROKE, Point, draw
from tests.support.local_stack import running_stack

# Starts watching for the next current answer on the page; ANSWERED waits for its time.
WATCH = """() => { window.__answered = new Promise((resolve) => {
    const target = document.getElementById("result");
    const observer = new MutationObserver(() => {
        if (!target.hidden && !target.classList.contains("is-stale")) {
            observer.disconnect();
            resolve(performance.now());
        }
    });
    observer.observe(
        document.getElementById("result-card"),
        { subtree: true, childList: true, attributes: true, characterData: true },
    );
}); }"""
ANSWERED = "() => window.__answered"


def _click_to_answer(page: Page, sample: str) -> float:
    page.evaluate(WATCH)
    started = page.evaluate(
        """(name) => new Promise((resolve) => {
            const button = Array.from(document.querySelectorAll("[data-sample]"))
                .find((each) => each.textContent.includes(name));
            button.addEventListener("click", () => resolve(performance.now()), { once: true, capture: true });
            button.click();
        })""",
        sample,
    )
    return float(page.evaluate(ANSWERED)) - float(started)


def _stroke_to_answer(page: Page, stroke: list[Point]) -> float:
    clear = page.get_by_role("button", name="Clear", exact=True)
    if clear.is_enabled():
        clear.click()
    page.evaluate(WATCH)
    page.evaluate(
        """() => document.getElementById("draw-canvas").addEventListener(
            "pointerup", () => { window.__released = performance.now(); }, { once: true })"""
    )
    draw(page, stroke)
    return float(page.evaluate(ANSWERED)) - float(page.evaluate("window.__released"))


def _summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    median = statistics.median(times)
    return f"{name}: median {median:.0f} ms, p90 {p90:.0f} ms, min {ordered[0]:.0f} ms ({len(times)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data)) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=base_url, viewport=DESKTOP).new_page()
        page.goto("/")
        _click_to_answer(page, "A clean 7")  # warm-up: first model call, first image fetch
        clicks = [_click_to_answer(page, "A clean 7" if run % 2 else "A photo of a 3") for run in range(args.runs)]
        page.get_by_role("tab", name="Draw").click()
        strokes = [_stroke_to_answer(page, SEVEN_STROKE if run % 2 else VERTICAL_STROKE) for run in range(args.runs)]
        browser.close()
    print(_summary("click-to-answer (example image)", clicks))
    print(_summary("stroke-to-answer (drawing, 350 ms pause included)", strokes))


if __name__ == "__main__":
    main()
