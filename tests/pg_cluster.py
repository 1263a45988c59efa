"""A throw-away PostgreSQL primary and its streaming replica, for the replica tests.

``streaming_pair()`` makes a temporary folder, ``initdb``s a primary in it on a free port
(wal_level=replica, replication allowed from 127.0.0.1 in pg_hba.conf), clones it with
``pg_basebackup -R`` into a replica on another port, starts both and waits until the replica
streams. On leaving it stops both (``-m immediate``: nothing to keep) and removes the folder,
also when the test failed. The server binaries come from PG_BINDIR or the newest
/usr/lib/postgresql/<version>/bin (Debian's layout) or the PATH; PostgreSQL refuses to run as
root, so as root they run as the ``postgres`` user, which then owns the folder.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

SERVER_BINARIES = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
START_TIMEOUT = 10  # seconds


def server_bindir() -> Path | None:
    """Where initdb, pg_ctl, pg_basebackup and postgres all are, or None."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in SERVER_BINARIES):
            return folder
    return None


def missing_reason() -> str | None:
    """Why a streaming pair cannot be started here, or None if it can."""
    if server_bindir() is None:
        return (
            "PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup, postgres) were not "
            "found in PG_BINDIR, /usr/lib/postgresql/<version>/bin or the PATH: install the "
            "postgresql package (Debian: apt-get install postgresql) to run the replica tests"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root, and runuser (util-linux) is missing"
    return None


@dataclass
class Server:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def query(self, sql: str, params=()):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()


@dataclass
class StreamingPair:
    primary: Server
    replica: Server
    bindir: Path
    owner: str | None  # the user the servers run as, when we are root

    def run(self, binary: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bindir / binary), *args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"{binary} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def start(self, server: Server) -> None:
        log = server.folder.parent / f"{server.folder.name}.log"
        self.run(
            "pg_ctl", "start", "-D", str(server.folder), "-w", "-t", str(START_TIMEOUT),
            "-l", str(log),
        )  # fmt: skip

    def stop(self, server: Server) -> None:
        if (server.folder / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-D", str(server.folder), "-m", "immediate", "-w")

    def wait_for_streaming(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with suppress(psycopg.OperationalError):
                (streaming,) = self.primary.query(
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                )
                if streaming:
                    return
            time.sleep(0.05)
        raise RuntimeError("the replica did not start streaming from the primary")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streaming_pair():
    bindir = server_bindir()
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="filmmag-replica-"))
    if owner:
        account = pwd.getpwnam(owner)
        os.chown(root, account.pw_uid, account.pw_gid)
    pair = StreamingPair(
        primary=Server(root / "primary", free_port()),
        replica=Server(root / "replica", free_port()),
        bindir=bindir,
        owner=owner,
    )
    try:
        primary = pair.primary
        pair.run(
            "initdb", "-D", str(primary.folder), "-U", "postgres", "--auth=trust", "--no-sync",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        settings = [
            f"port = {primary.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{root}'",
            "wal_level = replica",
            "max_wal_senders = 4",
            "hot_standby = on",
            # A throw-away cluster: durability buys nothing and costs seconds.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
        ]
        append(primary.folder / "postgresql.conf", settings)
        append(
            primary.folder / "pg_hba.conf",
            ["host replication postgres 127.0.0.1/32 trust"],
        )
        pair.start(primary)
        pair.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(pair.replica.folder), "-R", "--wal-method=stream", "--checkpoint=fast",
            "--no-sync",
        )  # fmt: skip
        append(pair.replica.folder / "postgresql.conf", [f"port = {pair.replica.port}"])
        pair.start(pair.replica)
        pair.wait_for_streaming()
        yield pair
    finally:
        for server in (pair.replica, pair.primary):
            with suppress(RuntimeError, subprocess.SubprocessError):
                pair.stop(server)
        shutil.rmtree(root, ignore_errors=True)


def append(path: Path, lines: list[str]) -> None:
    """Add lines to a server's configuration file (the later setting wins)."""
    with path.open("a") as config:
        config.write("\n" + "\n".join(lines) + "\n")
