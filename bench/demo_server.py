"""The demo magazine, with pictures, served as in production on 127.0.0.1: for `make
lighthouse` and `make bench`'s image bytes per page.

A throw-away folder holds the SQLite database (always: the pages and pictures are measured here,
not the database, and DATABASE_URL may name the database `make bench` fills), the collected
static files (WhiteNoise) and the media (DJANGO_SERVE_MEDIA=true), as bench/load.py sets them
up for `make load`. The demo gets generated pictures when it has none of
its own (bench/artwork.py).
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from load import HOST, ROOT, environment, prepare, start_gunicorn, stop, wait_until_ready


@contextlib.contextmanager
def demo_server(*, port: int = 0, workers: int = 2):
    """Yields (base URL, showcase) where showcase names the latest review and its film."""
    tmp = Path(tempfile.mkdtemp(prefix="filmmag-demo-"))
    server = None
    try:
        database_url = os.environ.pop("DATABASE_URL", None)
        try:
            env = environment(tmp)
        finally:
            if database_url is not None:
                os.environ["DATABASE_URL"] = database_url
        prepare(env)  # migrate, load_demo, collectstatic
        made = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "artwork.py")],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        showcase = json.loads(made.stdout)
        added = ", ".join(f"{n} {kind}" for kind, n in showcase["added"].items() if n)
        print(
            f"Pictures: {showcase['posters']} of {showcase['films']} films have a poster"
            + (f" (generated now: {added})" if added else " (the demo's own)")
        )
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(128)
        base = f"http://{HOST}:{listener.getsockname()[1]}"
        log = tmp / "gunicorn.log"
        server = start_gunicorn(listener, env=env, workers=workers, log=log)
        listener.close()
        wait_until_ready(server, base, log)
        print(f"gunicorn: {workers} workers on {base}")
        yield base, showcase
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
