"""`make lighthouse`: Lighthouse's four scores for the home page, the film list, a film and a
review, with the mobile and the desktop presets, on the demo magazine with its pictures.

    make lighthouse
    CHROME_PATH=/usr/bin/chromium .venv/bin/python bench/lighthouse.py --port 8151

The site runs as in production (debug off, gunicorn, WhiteNoise, media served by Django) on
127.0.0.1 (bench/demo_server.py). Lighthouse comes from npm, pinned in
bench/lighthouse/package.json (`make lighthouse` installs it), and drives Debian's Chromium
(CHROME_PATH). The mobile preset is Lighthouse's default: a phone-sized screen, a slow 4G
network and a 4x slower CPU, simulated. Reports (HTML and JSON) go to artifacts/lighthouse/.
Exits 1 when a run fails; the scores themselves are reported, not judged.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_server import demo_server  # noqa: E402
from load import ROOT  # noqa: E402

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = {
    "performance": "Perf",
    "accessibility": "A11y",
    "best-practices": "Best",
    "seo": "SEO",
}
METRICS = {
    "largest-contentful-paint": "LCP",
    "cumulative-layout-shift": "CLS",
    "total-blocking-time": "TBT",
    "total-byte-weight": "bytes",
}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (a free one)")
    parser.add_argument("--output", type=Path, default=ROOT / "artifacts" / "lighthouse")
    parser.add_argument("--presets", nargs="+", default=["mobile", "desktop"])
    args = parser.parse_args()

    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: `make lighthouse` installs it.", file=sys.stderr)
        return 2
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not chrome:
        print("Chromium not found: apt-get install chromium, or set CHROME_PATH.", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    version = subprocess.run(
        [str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"Lighthouse {version}, Chromium {chrome}")

    rows, failed = [], 0
    with demo_server(port=args.port) as (base, showcase):
        pages = {
            "home": "/",
            "film-list": "/films/",
            "film": showcase["film"],
            "review": showcase["review"],
        }
        for name, path in pages.items():
            for preset in args.presets:
                result = run(base + path, args.output / f"{name}-{preset}", preset, chrome)
                failed += result is None
                rows.append((name, preset, result))

    print(f"\nLighthouse {version} on {base} (reports in {args.output}/)")
    header = "".join(f"{label:>6}" for label in CATEGORIES.values())
    metrics = "".join(f"{label:>10}" for label in METRICS.values())
    print(f"  {'page':<10} {'preset':<8}{header}   {metrics}")
    for name, preset, result in rows:
        if result is None:
            print(f"  {name:<10} {preset:<8}  failed: see the output above")
            continue
        scores = "".join(f"{result['scores'][c]:>6}" for c in CATEGORIES)
        values = "".join(f"{result['metrics'][m]:>10}" for m in METRICS)
        print(f"  {name:<10} {preset:<8}{scores}   {values}")
    return 1 if failed else 0


def run(url: str, output: Path, preset: str, chrome: str) -> dict | None:
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        "--output=html",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--quiet",
    ]
    if preset != "mobile":  # mobile is Lighthouse's default
        command.append(f"--preset={preset}")
    print(f"lighthouse {preset:<7} {url}", flush=True)
    done = subprocess.run(command, env={**os.environ, "CHROME_PATH": chrome}, timeout=300)
    report = output.with_name(f"{output.name}.report.json")
    if done.returncode != 0 or not report.exists():
        print(f"  lighthouse exited {done.returncode}", file=sys.stderr)
        return None
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        print(f"  {data['runtimeError'].get('message')}", file=sys.stderr)
        return None
    scores = {
        key: "-" if cat.get("score") is None else round(cat["score"] * 100)
        for key, cat in data["categories"].items()
    }
    audits = data["audits"]
    metrics = {
        key: audits.get(key, {}).get("displayValue", "-").replace("\xa0", " ") for key in METRICS
    }
    metrics["total-byte-weight"] = f"{audits['total-byte-weight']['numericValue'] / 1024:.0f} KiB"

    return {"scores": scores, "metrics": metrics}


if __name__ == "__main__":
    sys.exit(main())
