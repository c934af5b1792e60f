"""The page ``GET /s/{id}`` in a real browser (Debian's headless Chromium, driven by
Selenium) against real uvicorn and a real Redis: it shows the answer, paced and rendered;
a reload resumes; two tabs agree; Stop stops the producer; nothing the model writes runs,
and nothing is fetched from anywhere but the page's own server."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from outstream.core.escapes import EscapeSanitizer
from outstream.core.pace import Smooth
from outstream.relay import RedisLog, StreamCancelled, new_id
from outstream.testing.llm_server import LLMServer, Script
from outstream.web import app

from ..conftest import Producer, free_port, needs_redis, outstream
from .conftest import needs_chromium

pytestmark = [needs_redis, needs_chromium]

ANSWERS = Path(__file__).parent.parent / "data" / "answers"
HOSTILE = Path(__file__).parent.parent / "data" / "hostile" / "payloads.json"


def paced(text: str, every: float = 0.004) -> Iterator[str]:
    """The text a word at a time, at a producer's pace."""
    pace = threading.Event()  # nobody sets it: a timed wait, a producer's pace
    for word in re.findall(r"\S*\s*", text):
        pace.wait(every)
        yield word


@pytest.fixture
def base(serve, redis_log) -> str:
    return serve(app(redis_log))


def wait_for(browser: Any, script: str, timeout: float = 30) -> Any:
    """Wait until `script` (a JavaScript expression) is truthy in the page; its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(
        lambda b: b.execute_script(f"return {script}")
    )


def requests_made(browser: Any) -> list[str]:
    """The URLs the browser asked for since the last call (its performance log)."""
    urls = []
    for line in browser.get_log("performance"):
        message = json.loads(line["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def open_page(browser: Any, url: str) -> None:
    requests_made(browser)  # (forget the requests of earlier tests)
    browser.get(url)


def shown(browser: Any) -> str:
    return browser.execute_script("return window.outstream.shown()")


def test_the_page_shows_the_answer_paced_and_rendered_as_one_render_of_the_whole(
    browser, base, redis_url
):
    answer = (ANSWERS / "17_mixed.md").read_text()
    id = new_id()
    producer = Producer(paced(answer), RedisLog(redis_url), id)
    open_page(browser, f"{base}/s/{id}")
    assert wait_for(browser, "document.body.dataset.done") == "done"
    producer.join()
    assert shown(browser) == answer
    # Rendered block by block as it came, it is what one render of the whole gives.
    same = browser.execute_script(
        """
        const whole = document.createElement("div");
        whole.innerHTML = window.outstreamParts.markdown().render(arguments[0]);
        const page = document.getElementById("answer");
        const tags = (e) => Array.from(e.querySelectorAll("*"), (x) => x.tagName)
            .filter((t) => t !== "DIV").join(" ");
        return [whole.textContent === page.textContent, tags(whole) === tags(page), tags(page)];
        """,
        answer,
    )
    assert same[:2] == [True, True], same[2]
    for tag in ("H2", "STRONG", "OL", "TABLE", "BLOCKQUOTE", "HR", "CODE"):
        assert tag in same[2]
    # Code is highlighted; the stats are shown at the end.
    assert browser.execute_script(
        "return document.querySelectorAll('pre code .hljs-built_in').length"
    )
    stats = browser.find_element("id", "stats").text
    assert re.match(r"^207 chars, \d+ words · first text \d\.\d{3} s · total \d+\.\d{3} s", stats)
    assert browser.find_element("id", "state").text == "done"


def test_the_pages_text_is_the_answers_text(browser, base, redis_url):
    paragraphs = [
        f"Paragraph {i}: plain words, nothing marked up, ünïcödé ✓ 日本語." for i in range(8)
    ]
    answer = "\n\n".join(paragraphs) + "\n"
    id = new_id()
    Producer(paced(answer), RedisLog(redis_url), id).join()
    open_page(browser, f"{base}/s/{id}")
    wait_for(browser, "document.body.dataset.done")
    assert browser.find_element("id", "answer").text == "\n".join(paragraphs)


def test_a_reload_mid_stream_shows_the_text_so_far_and_goes_on_without_a_duplicate(
    browser, base, redis_url
):
    answer = "".join(f"word{i} " + ("\n\n" if i % 25 == 24 else "") for i in range(400))
    id = new_id()
    producer = Producer(paced(answer, 0.008), RedisLog(redis_url), id)
    open_page(browser, f"{base}/s/{id}")
    wait_for(browser, "window.outstream.shown().length > 200")
    browser.refresh()
    # The text received before the reload is there at once, and the page resumes after
    # its last entry, not from the start.
    before = wait_for(browser, "window.outstream && window.outstream.shown()")
    assert answer.startswith(before) and len(before) > 200
    assert wait_for(browser, "document.body.dataset.done") == "done"
    producer.join()
    assert shown(browser) == answer
    events = [u for u in requests_made(browser) if "/events" in u]
    assert any("after=" in u for u in events), events


def test_two_tabs_end_identical(browser, base, redis_url):
    answer = (ANSWERS / "08_python.md").read_text() + (ANSWERS / "13_cjk.md").read_text()
    id = new_id()
    producer = Producer(paced(answer), RedisLog(redis_url), id)
    open_page(browser, f"{base}/s/{id}")
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(f"{base}/s/{id}")
    second = browser.current_window_handle
    pages = []
    for tab in (second, first):  # (the first tab was in the background)
        browser.switch_to.window(tab)
        assert wait_for(browser, "document.body.dataset.done") == "done"
        html = browser.find_element("id", "answer").get_attribute("innerHTML")
        # (where a tab cut the text into blocks depends on its frames: not compared)
        pages.append((shown(browser), re.sub(r"</?div[^>]*>", "", html)))
    producer.join()
    assert pages[0] == pages[1]
    assert pages[0][0] == answer
    browser.switch_to.window(second)
    browser.close()
    browser.switch_to.window(first)


def test_the_stop_button_stops_the_producer(browser, base, redis_url):
    id = new_id()
    producer = Producer(paced("an answer that goes on " * 5000, 0.01), RedisLog(redis_url), id)
    open_page(browser, f"{base}/s/{id}")
    wait_for(browser, "window.outstream.shown().length > 50")
    browser.find_element("id", "stop").click()
    assert wait_for(browser, "document.body.dataset.done") == "cancelled"
    producer.join(30)
    assert [type(e) for e in producer.errors] == [StreamCancelled]
    assert browser.find_element("id", "state").text == "cancelled"
    assert ("an answer that goes on " * 5000).startswith(shown(browser))


XSS = """\
# Hostile answer

<script>window.pwned = "script"</script>
<img src=x onerror="window.pwned = 'img'">
<svg onload="window.pwned = 'svg'"><script>window.pwned = 'svg script'</script></svg>
<a href="javascript:window.pwned='a'">raw link</a>
<iframe src="javascript:parent.pwned='iframe'"></iframe>
<div onmouseover="window.pwned='div'" style="position:fixed;inset:0">cover</div>

[markdown link](javascript:window.pwned='md')
[entity link](jav&#x09;ascript:window.pwned='entity')
[data link](data:text/html;base64,PHNjcmlwdD5wYXJlbnQucHduZWQ9MTwvc2NyaXB0Pg==)
[vbscript](vbscript:msgbox)
<javascript:window.pwned='autolink'>
![tracker](http://127.0.0.2:9/pixel.png)
![inline svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+)
[ok](https://example.com/ok) and <mailto:someone@example.com>
invoice&#x202E;fdp.exe, &#8238;abc, [a link](https://example.com "ti&#x202E;tle"), &#x1b;[31mred&#27;]0;t&#7;

```html
<script>window.pwned = "in code"</script>
```

\x1b]0;pwned title\x07\x1b[31mred?\x1b[0m \x1b]52;c;cHduZWQ=\x07\u202eevil\u202c done
"""


def test_nothing_the_model_writes_runs_or_fetches_anything(browser, base, redis_url):
    id = new_id()
    Producer(paced(XSS), RedisLog(redis_url), id).join()
    open_page(browser, f"{base}/s/{id}")
    wait_for(browser, "document.body.dataset.done")
    answer = browser.find_element("id", "answer")
    # Hover and click everything the answer shows.
    for element in answer.find_elements("css selector", "*"):
        try:
            browser.execute_script(
                "arguments[0].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))", element
            )
        except Exception:  # (an element gone stale is fine)
            pass
    assert browser.execute_script("return window.pwned") is None
    hrefs = [a.get_attribute("href") for a in answer.find_elements("css selector", "a")]
    assert hrefs and all(re.match(r"^(https?:|mailto:)", h) for h in hrefs), hrefs
    elements = browser.execute_script(
        """return Array.from(document.getElementById("answer").querySelectorAll("*"),
            (e) => [e.tagName, ...e.getAttributeNames()].join(" "))"""
    )
    for element in elements:
        tag, *attributes = element.split()
        assert tag not in ("SCRIPT", "IMG", "SVG", "IFRAME", "OBJECT", "EMBED", "STYLE"), element
        assert not any(a.startswith("on") or a in ("style", "src") for a in attributes), element
    assert "<script>window.pwned" in answer.text  # shown as text, as written
    # Character references decode to no control, no bidi override (in text or attributes).
    assert "invoicefdp.exe, abc" in answer.text
    assert "\ufffd[31mred\ufffd]0;t\ufffd" in answer.text  # (markdown-it's, for controls)
    html = answer.get_attribute("innerHTML")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", html)
    # The page's requests: its own server only (the image became a link).
    for url in requests_made(browser):
        assert url.startswith(base + "/"), url
    # Terminal escapes and bidi overrides are gone; the title is the page's own.
    text = shown(browser)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert text.endswith("red? evil done\n")
    assert browser.title == "outstream"


def test_the_pages_sanitizer_removes_what_outstreams_does_for_every_hostile_payload(browser, base):
    payloads = [p["payload"] for p in json.loads(HOSTILE.read_text())]
    rng = random.Random(15)
    chunked = []  # each payload in pieces cut at random places: split sequences too
    for payload in payloads:
        cuts = sorted(rng.sample(range(len(payload) + 1), min(3, len(payload) + 1)))
        chunked.append(
            [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
        )
    browser.get(f"{base}/s/{new_id()}")
    got = browser.execute_script(
        """
        const {Sanitizer} = window.outstreamParts;
        return arguments[0].map((pieces) => {
            const s = new Sanitizer();
            return pieces.map((p) => s.feed(p)).join("");
        });
        """,
        chunked,
    )
    expected = []
    for pieces in chunked:
        sanitizer = EscapeSanitizer()
        expected.append("".join(sanitizer.feed(p) for p in pieces))  # (held at the end: dropped)
    mismatches = [(p, g, e) for p, g, e in zip(payloads, got, expected, strict=True) if g != e]
    assert mismatches == [], mismatches[:3]


def test_the_pages_pacer_is_smooth_unit_for_unit(browser, base):
    """The page's Smooth and core/pace.py's, given the same arrivals and frames, show the
    same units at the same frames."""
    rng = random.Random(7)
    schedules = []
    for _ in range(20):
        t, events = 0.0, []
        for _ in range(rng.randrange(20, 200)):
            t += rng.choice([0.0005, 0.002, 0.016, 0.05, 0.2, rng.uniform(0, 1.5)])
            events.append(["push", round(t, 6), rng.randrange(1, 40)])
        frames = [round(i / 60, 6) for i in range(int((t + 2) * 60))]
        merged = sorted(
            events + [["due", f, 0] for f in frames], key=lambda e: (e[1], e[0] == "due")
        )
        schedules.append(merged)

    def python(schedule: list[list[Any]]) -> list[list[Any]]:
        pacer, out, k = Smooth(), [], 0
        for op, t, n in schedule:
            if op == "push":
                pacer.push([f"u{k + i}" for i in range(n)], t)
                k += n
            else:
                out.append([t, len(pacer.due(t)), pacer.next_deadline()])
        return out

    browser.get(f"{base}/s/{new_id()}")
    got = browser.execute_script(
        """
        return arguments[0].map((schedule) => {
            const pacer = new window.outstreamParts.Smooth();
            const out = [];
            let k = 0;
            for (const [op, t, n] of schedule) {
                if (op === "push") {
                    pacer.push(Array.from({length: n}, (_, i) => "u" + (k + i)), t);
                    k += n;
                } else {
                    out.push([t, pacer.due(t).length, pacer.nextDeadline()]);
                }
            }
            return out;
        });
        """,
        schedules,
    )
    for schedule, page in zip(schedules, got, strict=True):
        ours = python(schedule)
        assert [(t, n) for t, n, _ in page] == [(t, n) for t, n, _ in ours]
        for (_, _, a), (_, _, b) in zip(page, ours, strict=True):
            assert (a is None and b is None) or a == pytest.approx(b, abs=1e-9)


def test_the_page_and_its_files_come_with_a_strict_content_security_policy(base):
    page = httpx.get(f"{base}/s/{new_id()}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'") and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for name in re.findall(r'(?:src|href)="\.\./static/([^"]+)"', page.text):
        file = httpx.get(f"{base}/static/{name}")
        assert file.status_code == 200, name
        assert file.headers["content-security-policy"] == csp
        again = httpx.get(f"{base}/static/{name}", headers={"If-None-Match": file.headers["etag"]})
        assert again.status_code == 304
    assert httpx.get(f"{base}/static/page.html").status_code == 404  # only the files named
    assert httpx.get(f"{base}/static/..%2F__init__.py").status_code == 404
    assert httpx.get(f"{base}/s/not%20an%20id").status_code == 404


def test_an_unknown_stream_says_so(browser, base):
    id = new_id()
    open_page(browser, f"{base}/s/{id}")
    assert wait_for(browser, "document.body.dataset.done") == "failed"
    assert (
        browser.find_element("id", "state").text == f"no stream {id}: never published, or expired"
    )


def test_light_and_dark(browser, base, redis_url, tmp_path):
    """The page follows the reader's colour scheme; the README's screenshot is this one."""
    answer = (ANSWERS / "17_mixed.md").read_text()
    id = new_id()
    Producer(paced(answer), RedisLog(redis_url), id).join()
    backgrounds = {}
    try:
        for scheme in ("light", "dark"):
            browser.execute_cdp_cmd(
                "Emulation.setEmulatedMedia",
                {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            )
            browser.get(f"{base}/s/{id}")
            wait_for(browser, "document.body.dataset.done")
            backgrounds[scheme] = browser.execute_script(
                "return getComputedStyle(document.documentElement).backgroundColor"
            )
            browser.save_screenshot(str(tmp_path / f"page-{scheme}.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}
    if where := os.environ.get("OUTSTREAM_SCREENSHOTS"):  # (how docs/ got its pictures)
        for scheme in ("light", "dark"):
            shutil.copy(tmp_path / f"page-{scheme}.png", Path(where) / f"page-{scheme}.png")


def start_serve(redis_url: str, port: int) -> subprocess.Popen[str]:
    server = outstream("serve", "--redis", redis_url, "--port", str(port))
    assert server.stderr is not None
    assert "serving the stream log at" in server.stderr.readline()  # listening
    return server


@pytest.mark.timeout(120)
def test_ask_publish_in_one_process_shown_by_serve_in_another_across_a_restart_of_serve(
    browser, redis_url
):
    """The issue's 'done': `outstream serve` and a browser show an answer published by
    `outstream ask --publish` elsewhere; `serve` dies and comes back mid-answer, and the
    page goes on where it was (the browser's EventSource, with Last-Event-ID)."""
    chunks = re.findall(r"\S*\s*", (ANSWERS / "17_mixed.md").read_text())
    chunks = [c for c in chunks if c] * 3
    port = free_port()
    server = start_serve(redis_url, port)
    script = Script(chunks, reasoning=["Let me think ", "about it."], interval=0.03, usage=(7, 90))
    try:
        with LLMServer(script) as llm:
            env = {"OUTSTREAM_REDIS_URL": redis_url, "OPENAI_API_KEY": "sk-test"}
            argv = ["ask", "--base-url", llm.openai_base_url, "--model", "m", "--instant"]
            asking = outstream(*argv, "--publish", (id := new_id()), "why?", env=env)
            assert asking.stderr is not None
            assert "publishing as stream" in asking.stderr.readline()  # it is in the log
            open_page(browser, f"http://127.0.0.1:{port}/s/{id}")
            wait_for(browser, "window.outstream.shown().length > 100")
            server.kill()
            server.communicate(timeout=30)
            server = start_serve(redis_url, port)
            assert wait_for(browser, "document.body.dataset.done", timeout=60) == "done"
            out, err = asking.communicate(timeout=60)
    finally:
        server.kill()
        server.communicate(timeout=30)
    assert asking.returncode == 0, err
    assert shown(browser) == "".join(chunks) == out
    assert browser.find_element("id", "model").text == "m"
    assert browser.find_element("id", "reasoning").is_displayed()  # (folded: a click opens it)
    reasoning = browser.find_element("id", "reasoning-text").get_attribute("textContent")
    assert reasoning == "Let me think about it."
    assert "tokens: prompt 7, completion 90" in browser.find_element("id", "stats").text
    events = [u for u in requests_made(browser) if "/events" in u]
    assert len(events) >= 2  # it reconnected


def test_an_answer_started_with_post_is_shown_on_its_page_with_the_token_from_the_fragment(
    browser, serve, redis_log
):
    """Reading needs the token: the page takes it from the URL's fragment (never sent to
    the server), keeps it for the tab, and takes it out of the address bar."""
    from outstream.web import Upstream

    chunks = re.findall(r"\S*\s*", (ANSWERS / "12_links.md").read_text())
    with LLMServer(Script([c for c in chunks if c], interval=0.01)) as llm:
        upstream = Upstream(base_url=llm.openai_base_url, model="m", api_key="sk-test")
        base = serve(app(redis_log, token="s3cret", token_for_reading=True, upstream=upstream))
        started = httpx.post(
            f"{base}/v1/streams",
            json={"prompt": "links, please"},
            headers={"Authorization": "Bearer s3cret"},
        )
        assert started.status_code == 201, started.text
        page = started.json()["urls"]["page"]
        assert page == f"{base}/s/{started.json()['id']}"  # (no token in it)
        open_page(browser, page)  # without the token: the page says what it needs
        assert wait_for(browser, "document.body.dataset.done") == "failed"
        assert "needs a token" in browser.find_element("id", "state").text
        browser.get(f"{page}#token=s3cret")
        assert wait_for(browser, "document.body.dataset.done") == "done"
    assert shown(browser) == "".join(chunks)
    assert browser.current_url == page
    assert all("s3cret" not in url or "token=s3cret" in url for url in requests_made(browser))


def test_bursts_are_shown_as_an_even_flow_not_in_lumps(browser, base, redis_url):
    """A real-clock shape test: an answer that comes in bursts (80 words at a time, every
    0.4 s, as a proxy that batches) grows on the page a little every frame."""
    words = [f"w{i:03d} " for i in range(480)]

    def bursts() -> Iterator[str]:
        pace = threading.Event()  # nobody sets it: the bursts' pace
        for i in range(0, len(words), 80):
            pace.wait(0.4)
            yield "".join(words[i : i + 80])

    id = new_id()
    producer = Producer(bursts(), RedisLog(redis_url), id)
    open_page(browser, f"{base}/s/{id}")
    browser.execute_script(
        """window.growth = [];
        let before = window.outstream.shown().length;
        const sample = () => {
            const now = window.outstream.shown().length;
            if (now !== before) window.growth.push(now - before);
            before = now;
            if (!document.body.dataset.done) requestAnimationFrame(sample);
        };
        requestAnimationFrame(sample);"""
    )
    assert wait_for(browser, "document.body.dataset.done") == "done"
    producer.join()
    growth = browser.execute_script("return window.growth")
    burst = len("".join(words[:80]))  # 400 characters
    assert sum(growth) <= len("".join(words))
    # Never a burst at once, nor half of one (at 1000 characters a second, half a burst
    # is a frame 0.2 s late: room for a loaded machine, none for a lump).
    assert max(growth) < burst / 2, growth
    assert len(growth) > 50  # in many frames
