"""Every kind of public page, with real pictures, on a phone (375 px) and a desktop (1440 px):
nothing wider than the screen, every picture loaded, nothing moving as the page loads or
scrolls (CLS 0), axe-clean in the light and dark colour schemes, and a full-page screenshot
of each for people to look at (SCREENSHOTS_DIR, by default artifacts/screenshots/<database>/).

The checks are about what any design must do, not about today's markup: pictures are found by
the renditions key in their address, whatever element or class shows them.
"""

import importlib
import os
from pathlib import Path

import pytest
from django.db import connection
from django.urls import clear_url_caches

import filmmag.urls
from tests.browser.conftest import ROOT
from tests.picture_site import make_picture_site

pytestmark = pytest.mark.browser

WIDTHS = {375: 740, 1440: 900}  # width: height

# The pictures each kind of page must show (tests/picture_site.py names them).
EXPECTED_PICTURES = {
    "home": ["cranes lead"],
    "review": ["cranes lead"],
    "review-poster-lead": ["marienbad poster"],
    "film": ["cranes poster", "cranes still 1"],
    "film-list": ["cranes poster", "marienbad poster", "tokyo poster"],
    "film-list-filtered": ["cranes poster"],
    "film-search": ["cranes poster"],
    "person": ["samoilova portrait"],
    "service": ["criterion logo"],
}
DESCRIBE_JS = """
window.__describe = (el) => {
  if (!el || !el.tagName) return String(el);
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim())
    s += '.' + el.className.trim().split(/\\s+/).join('.');
  const text = (el.getAttribute('alt') || el.textContent || '').trim().replace(/\\s+/g, ' ');
  return text ? `${s} "${text.slice(0, 60)}"` : s;
};
"""

# Scroll down a screen at a time; at each stop wait for the pictures on screen to load and note
# any that did not. Programmatic scrolling is not user input, so shifts still count in CLS.
SCROLL_JS = """
async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const onScreen = (img) => {
    const r = img.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight
      && r.right > 0 && r.left < innerWidth;
  };
  const loaded = (img) => img.complete && img.naturalWidth > 0;
  const broken = new Map();
  const settle = async () => {
    const deadline = performance.now() + 5000;
    await frame();
    while ([...document.images].some((i) => onScreen(i) && !loaded(i))
           && performance.now() < deadline) {
      await sleep(25);
    }
    for (const img of document.images) {
      if (onScreen(img) && !loaded(img))
        broken.set(img, `${__describe(img)} ${img.currentSrc || img.src}`);
    }
  };
  const step = Math.max(200, Math.floor(innerHeight * 0.8));
  for (let y = 0; ; y += step) {
    scrollTo(0, y);
    await settle();
    if (y + innerHeight >= document.documentElement.scrollHeight) break;
  }
  return [...broken.values()];
}
"""

LAYOUT_SHIFTS_JS = """
() => new Promise((resolve) => {
  const entries = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ type: 'layout-shift', buffered: true });
  setTimeout(() => {
    entries.push(...observer.takeRecords());
    observer.disconnect();
    resolve(entries.filter((e) => !e.hadRecentInput).map((e) => ({
      value: e.value,
      sources: (e.sources || []).map((s) => __describe(s.node)),
    })));
  }, 100);
})
"""

# Elements reaching past the right edge, or wider than the screen, unless a box that scrolls
# sideways and fits on the screen holds them (a wide table in its own scroller is fine; one
# cut off by overflow: hidden is not).
OVERFLOW_JS = """
() => {
  const width = innerWidth;
  const contained = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX))
        return p.getBoundingClientRect().right <= width + 1;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 1 || r.width > width + 1) && !contained(el))
      wide.push(`${__describe(el)} (left ${Math.round(r.left)}, width ${Math.round(r.width)})`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide};
}
"""

PICTURES_JS = """
(keys) => Object.fromEntries(keys.map((key) => {
  const imgs = [...document.images].filter((img) =>
    (img.currentSrc || img.src).includes(key)
    || (img.closest('picture') || img).outerHTML.includes(key));
  return [key, {
    found: imgs.length,
    loaded: imgs.filter((img) => img.complete && img.naturalWidth > 0).length,
  }];
}))
"""


def screenshots_dir() -> Path:
    base = os.environ.get("SCREENSHOTS_DIR") or ROOT / "artifacts" / "screenshots"
    folder = Path(base) / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def site(live_server, settings):
    """The picture site, with the live server serving /media/ as DJANGO_SERVE_MEDIA does."""
    settings.FILMMAG_SERVE_MEDIA = True
    importlib.reload(filmmag.urls)  # the media route is added when the URLconf is built
    clear_url_caches()
    yield make_picture_site()
    settings.FILMMAG_SERVE_MEDIA = False
    importlib.reload(filmmag.urls)
    clear_url_caches()


@pytest.mark.parametrize("width", WIDTHS)
def test_public_pages_fit_load_their_pictures_hold_still_and_are_accessible(page, site, axe, width):
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.add_init_script(DESCRIBE_JS)
    folder = screenshots_dir()
    problems = []
    for kind, url in site.pages.items():
        found = []  # this page's problems
        page.emulate_media(color_scheme="light", reduced_motion="reduce")
        response = page.goto(url, wait_until="load")
        expected_status = 404 if kind == "not-found" else 200
        if response.status != expected_status:
            found.append(f"answered {response.status}, not {expected_status}")

        shifts = page.evaluate(LAYOUT_SHIFTS_JS)
        if shifts:
            found.append(f"layout shifts after load: {shifts}")
        broken = page.evaluate(SCROLL_JS)
        if broken:
            found.append(f"pictures on screen that did not load: {broken}")
        later = page.evaluate(LAYOUT_SHIFTS_JS)[len(shifts) :]
        if later:
            found.append(f"layout shifts while scrolling: {later}")

        overflow = page.evaluate(OVERFLOW_JS)
        if overflow["scrollWidth"] > overflow["innerWidth"]:
            found.append(
                f"the page scrolls sideways: {overflow['scrollWidth']} px wide on a "
                f"{overflow['innerWidth']} px screen"
            )
        if overflow["wide"]:
            found.append(f"wider than the screen: {overflow['wide'][:8]}")

        wanted = EXPECTED_PICTURES.get(kind, [])
        shown = page.evaluate(PICTURES_JS, [site.pictures[p] for p in wanted])
        for name in wanted:
            state = shown[site.pictures[name]]
            if not state["found"]:
                found.append(f"does not show the {name}")
            elif not state["loaded"]:
                found.append(f"the {name} did not load")

        page.screenshot(path=folder / f"{kind}-{width}.png", full_page=True)
        found += [f"light: {v}" for v in axe_problems(axe)]
        page.emulate_media(color_scheme="dark", reduced_motion="reduce")
        page.screenshot(path=folder / f"{kind}-{width}-dark.png", full_page=True)
        found += [f"dark: {v}" for v in axe_problems(axe)]

        problems += [f"{kind} ({url}) at {width} px: {p}" for p in found]
    assert not problems, "\n".join(problems)


def axe_problems(axe) -> list[str]:
    return [
        f"axe {v['impact']}: {v['id']} ({v['help']}) at {', '.join(map(str, node['target']))}"
        for v in axe()
        for node in v["nodes"]
    ]
