"""`make load`: gunicorn with the demo magazine on 127.0.0.1, under load from wrk.

    make load                                   # 32 connections for 60 s, 3 workers
    make load DURATION=5s CONNECTIONS=8         # a quick check
    .venv/bin/python bench/load.py --duration 10s --workers 2

Builds a throw-away SQLite database in a temp folder (migrate + load_demo), or, when
DATABASE_URL is set, migrates that database and adds the demo magazine to it. Static files are
collected into the temp folder and the site runs as in production (DJANGO_DEBUG=false,
WhiteNoise, gunicorn sync workers) on a free port of 127.0.0.1, nowhere else. The page mix
(home, film list with and without filters, film, review, person, genre, service and tag pages,
feed, sitemap) is read from the database; every page is requested once before the load, and
any that does not answer 200 is listed. wrk (bench/load.lua) then keeps CONNECTIONS
connections busy for DURATION. Prints requests/s, p50/p90/p99 latency, non-2xx answers, socket
errors and each worker's resident memory (RSS) at start, before and after the load. Exits 1
when any answer was not 2xx or any request failed. gunicorn stops at the end, on Ctrl-C too.
"""

import argparse
import contextlib
import ctypes
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script serves on or sends load to
SEED = 1957

# Share of requests per kind of page: readers land on the home page and the film list, and
# spend most of their visit on film and review pages.
MIX = {
    "home": 12,
    "film list": 10,
    "film list, filtered": 14,
    "film": 22,
    "review": 10,
    "review list": 4,
    "person": 10,
    "genre": 5,
    "service": 4,
    "tag": 5,
    "feed": 2,
    "sitemap": 2,
}


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk not found: `apt-get install wrk` (make load installs it).", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="filmmag-load-"))
    server = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    try:
        env = environment(tmp)
        pages = prepare(env)
        sequence = tmp / "paths.txt"
        sequence.write_text("\n".join(page_sequence(pages, 5000)) + "\n")

        listener = socket.socket()
        listener.bind((HOST, 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        base = f"http://{HOST}:{port}"
        log = tmp / "gunicorn.log"
        server = start_gunicorn(listener, env=env, workers=args.workers, log=log)
        listener.close()  # gunicorn has its own copy
        wait_until_ready(server, base, log)

        workers = worker_pids(server.pid, args.workers)
        at_start = rss(workers)
        print(f"gunicorn: {args.workers} sync workers on {base} (pids {', '.join(workers)})")
        failures = warm_up(base, sorted({p for paths in pages.values() for p in paths}))
        if failures:
            print(errors_logged(log))
        before = rss(workers)

        print(f"load average before the load: {load_average()}")
        print(
            f"wrk: {args.connections} connections, {args.threads} threads, {args.duration}, "
            f"{sequence_summary(pages)}"
        )
        command = [
            wrk,
            f"--threads={args.threads}",
            f"--connections={args.connections}",
            f"--duration={args.duration}",
            f"--timeout={args.timeout}",
            f"--script={ROOT / 'bench' / 'load.lua'}",
            f"{base}/",
            "--",
            str(sequence),
        ]
        peak, timeline = dict(before), [sum(before.values())]
        load = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent
        )
        try:
            while load.poll() is None:
                time.sleep(1)
                now = rss(workers)
                timeline.append(sum(now.values()))
                for pid, value in now.items():
                    peak[pid] = max(peak.get(pid, 0), value)
            output = load.stdout.read()
        finally:
            stop(load)  # at once on Ctrl-C or SIGTERM, not after DURATION
        after = rss(workers)
        if load.returncode != 0:
            print(output, f"wrk failed (exit code {load.returncode})", file=sys.stderr)
            return 2
        result = parse_result(output)
        alive = set(worker_pids(server.pid, args.workers, wait=0))
        report(result, workers, at_start, before, peak, after, alive, failures, timeline)
        print(f"load average after the load:  {load_average()}")
        errors = result["non2xx"] + sum(result[k] for k in ("connect", "read", "write", "timeout"))
        return 1 if errors or failures or alive != set(workers) else 0
    except subprocess.CalledProcessError as exc:
        print(f"{exc.cmd[0]} failed: exit code {exc.returncode}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="60s", help="wrk duration, e.g. 60s, 2m (60s)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--timeout", default="10s", help="a request slower than this is an error (10s)"
    )
    args = parser.parse_args()
    if not re.fullmatch(r"\d+[smh]?", args.duration):
        parser.error("--duration takes a number of seconds, or e.g. 30s, 2m")
    args.threads = max(1, min(args.threads, args.connections))
    return args


def environment(tmp: Path) -> dict[str, str]:
    """Production settings (debug off) in a throw-away folder; DATABASE_URL if given."""
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        print(f"Database: DATABASE_URL ({env['DATABASE_URL'].split('@')[-1]}), demo data added")
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'load.sqlite3'}"
        print(f"Database: a throw-away SQLite file in {tmp}")
    env.update(
        DJANGO_SETTINGS_MODULE="filmmag.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="load-only-" + secrets.token_urlsafe(32),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        DJANGO_SERVE_MEDIA="true",
        DJANGO_LOG_LEVEL=env.get("DJANGO_LOG_LEVEL", "WARNING"),
        PYTHONPATH=str(ROOT),
    )
    if env.get("REDIS_URL"):
        print("Cache: REDIS_URL")
    return env


def prepare(env: dict[str, str]) -> dict[str, list[str]]:
    """migrate, load_demo and collectstatic; then the public pages, by kind."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_demo"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run(manage + command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    # The page list comes from the database, through the site's own URL names.
    lister = ROOT / "bench" / "load_pages.py"
    found = subprocess.run(
        [sys.executable, str(lister)], env=env, check=True, cwd=ROOT, capture_output=True
    )
    return json.loads(found.stdout)


def page_sequence(pages: dict[str, list[str]], length: int) -> list[str]:
    """``length`` requests drawn by MIX: a kind by its share, then a page of that kind."""
    rng = random.Random(SEED)
    kinds = [kind for kind in MIX if pages.get(kind)]
    weights = [MIX[kind] for kind in kinds]
    return [rng.choice(pages[kind]) for kind in rng.choices(kinds, weights, k=length)]


def sequence_summary(pages: dict[str, list[str]]) -> str:
    unique = {p for paths in pages.values() for p in paths}
    return f"{len(unique)} different pages in {len(pages)} kinds"


def start_gunicorn(listener: socket.socket, *, env, workers: int, log: Path, timeout: int = 60):
    """gunicorn serving the site on ``listener`` (sync workers, no control socket), its output
    in ``log``; bench/scale.py starts its servers with it too."""
    fd = listener.fileno()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "filmmag.wsgi",
        f"--bind=fd://{fd}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--no-control-socket",
        f"--timeout={timeout}",
        f"--error-logfile={log}",
        "--log-level=warning",
    ]
    # Django logs errors (with tracebacks) to the workers' stderr: into the log as well.
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            pass_fds=[fd],
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def die_with_parent() -> None:
    """gunicorn gets SIGTERM if this script is killed outright (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_until_ready(server, base: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited (code {server.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{base}/robots.txt", timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{tail(log)}")


def errors_logged(log: Path) -> str:
    """The distinct exceptions in the server log: the last line of each traceback."""
    exception = re.compile(r"^[\w.]+(Error|Exception|NoReverseMatch|DoesNotExist)\b.*")
    seen = dict.fromkeys(m[0] for m in map(exception.match, tail(log, 100_000).split("\n")) if m)
    return "\n".join(f"    log: {line[:300]}" for line in seen) or "    (nothing in the log)"


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def warm_up(base: str, paths: list[str]) -> dict[str, int | str]:
    """Every page once, so each worker has imported and compiled what it needs, and pages
    that do not answer 200 are named (wrk can only count them)."""

    def fetch(path):
        try:
            with urllib.request.urlopen(base + path, timeout=30) as answer:
                answer.read()
                return path, answer.status
        except urllib.error.HTTPError as exc:
            return path, exc.code
        except OSError as exc:
            return path, str(exc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(pool.map(fetch, paths))
    failures = {path: status for path, status in answers.items() if status != 200}
    print(f"warm-up: {len(paths)} pages, {len(failures)} not 200")
    for path, status in sorted(failures.items()):
        print(f"    {status}  {path}")
    return failures


def worker_pids(master: int, expected: int, wait: float = 30) -> list[str]:
    deadline = time.monotonic() + wait
    while True:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == master:
                    children.append(stat.parent.name)
        if len(children) >= expected or time.monotonic() >= deadline:
            return sorted(children, key=int)
        time.sleep(0.2)


def rss(pids) -> dict[str, int]:
    """Resident memory of each process, in KiB."""
    sizes = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1])
    return sizes


def parse_result(output: str) -> dict:
    print(output.rstrip())
    line = next((x for x in output.splitlines() if x.startswith("LOAD ")), None)
    if line is None:
        raise SystemExit("wrk printed no summary line (is bench/load.lua in use?)")
    result = dict(field.split("=", 1) for field in line.split()[1:])
    for key, value in result.items():
        if key != "statuses":
            result[key] = float(value) if "." in value else int(value)
    return result


def report(result, workers, at_start, before, peak, after, alive, failures, timeline) -> None:
    mib = lambda kib: f"{kib / 1024:6.1f}"  # noqa: E731
    rps = result["requests"] / result["seconds"] if result["seconds"] else 0
    sockets = ", ".join(f"{k} {result[k]}" for k in ("connect", "read", "write", "timeout"))
    print()
    print("== make load ==================================================")
    print(f"requests      {result['requests']:,} in {result['seconds']:.1f} s = {rps:,.1f} req/s")
    print(
        f"latency       p50 {result['p50_ms']:.1f} ms   p90 {result['p90_ms']:.1f} ms   "
        f"p99 {result['p99_ms']:.1f} ms   max {result['max_ms']:.1f} ms"
    )
    print(f"non-2xx       {result['non2xx']}   (by status: {result['statuses'] or 'none'})")
    print(f"socket errors {sockets}")
    print("worker RSS    MiB at start / before load / peak / after load")
    for pid in workers:
        state = "" if pid in alive else "   (exited during the run!)"
        print(
            f"  pid {pid:>7}  {mib(at_start.get(pid, 0))} / {mib(before.get(pid, 0))} / "
            f"{mib(peak.get(pid, 0))} / {mib(after.get(pid, 0))}{state}"
        )
    total = sum(after.values()) - sum(before.values())
    print(f"  change during the load: {total / 1024:+.1f} MiB over {len(workers)} workers")
    print(f"  all workers, every tenth of the load: {memory_trend(timeline)} MiB")
    if failures:
        print(f"pages not answering 200 before the load: {len(failures)} (listed above)")


def memory_trend(samples: list[int]) -> str:
    """Total worker RSS (MiB) at eleven evenly spaced moments: steady, or still climbing?"""
    picks = [samples[round(i * (len(samples) - 1) / 10)] for i in range(11)]
    return " ".join(f"{kib / 1024:.1f}" for kib in picks)


def load_average() -> str:
    """The machine's, for context: the figures are only as good as the idle CPUs."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def stop(process) -> None:
    if process.poll() is None:
        process.terminate()  # gunicorn: graceful, workers finish their request
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
