"""Services failing in the ways they fail in production, for the outage tests.

``database_down(monkeypatch)``: every new query fails as when PostgreSQL has gone away.
``closed_port()``: an address where nothing listens (connection refused).
``FakeRedisServer``: a local socket server that accepts connections and, while ``silent``,
never answers (a hung Redis); ``answer()`` switches it to speak enough of the Redis protocol
(RESP3, as redis-py speaks it) for Django's cache client, so a test can watch caching resume.
"""

import socket
import threading
from contextlib import contextmanager

from django.db import OperationalError, connections

HANG_UP_AFTER = 10  # seconds


@contextmanager
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 port 5432 failed: refused")

    with monkeypatch.context() as patch:
        # Every connection: with DATABASE_REPLICA_URLS set, the replicas are the same server.
        for alias in connections:
            patch.setattr(connections[alias], "ensure_connection", refuse)
        yield


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeRedisServer:
    def __init__(self):
        self.silent = True
        self.store: dict[bytes, bytes] = {}
        self.connections = 0
        self.commands: list[list[bytes]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._clients: list[socket.socket] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def answer(self) -> None:
        self.silent = False

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for client in self._clients:
            client.close()

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        # A client without a read timeout would wait for ever; hang up on it after a while,
        # so that a regression fails the test instead of hanging the suite.
        client.settimeout(HANG_UP_AFTER)
        reader = client.makefile("rb")
        queued = None
        try:
            while True:
                command = _read_command(reader)
                if command is None:
                    return
                if self.silent:
                    # A hung Redis: read everything, answer nothing. The connection stays
                    # open until the client gives up (its socket timeout) or the test ends.
                    continue
                self.commands.append(command)
                name = command[0].upper()
                if name == b"MULTI":
                    queued = []
                    client.sendall(b"+OK\r\n")
                elif name == b"EXEC":
                    replies = [self._execute(c) for c in queued or []]
                    queued = None
                    client.sendall(b"*%d\r\n" % len(replies) + b"".join(replies))
                elif queued is not None:
                    queued.append(command)
                    client.sendall(b"+QUEUED\r\n")
                else:
                    client.sendall(self._execute(command))
        except OSError:
            return
        finally:
            client.close()

    def _execute(self, command) -> bytes:
        name, args = command[0].upper(), command[1:]
        store = self.store
        if name == b"HELLO":  # redis-py speaks RESP3: a map that says so
            return b"%1\r\n$5\r\nproto\r\n:3\r\n"
        if name in {b"CLIENT", b"SELECT", b"FLUSHDB", b"PING"}:
            if name == b"FLUSHDB":
                store.clear()
            return b"+OK\r\n"
        if name == b"GET":
            return _bulk(store.get(args[0]))
        if name == b"MGET":
            return b"*%d\r\n" % len(args) + b"".join(_bulk(store.get(k)) for k in args)
        if name == b"SET":
            if b"NX" in (a.upper() for a in args[2:]) and args[0] in store:
                return b"_\r\n"
            store[args[0]] = args[1]
            return b"+OK\r\n"
        if name == b"MSET":
            store.update(zip(args[::2], args[1::2], strict=True))
            return b"+OK\r\n"
        if name == b"DEL":
            return b":%d\r\n" % sum(store.pop(k, None) is not None for k in args)
        if name == b"EXISTS":
            return b":%d\r\n" % sum(k in store for k in args)
        if name in {b"EXPIRE", b"PERSIST"}:
            return b":%d\r\n" % (args[0] in store)
        if name == b"INCRBY":
            store[args[0]] = b"%d" % (int(store.get(args[0], b"0")) + int(args[1]))
            return b":%s\r\n" % store[args[0]]
        return b"-ERR unknown command '%s'\r\n" % name


def _read_command(reader) -> list[bytes] | None:
    header = reader.readline()
    if not header:
        return None
    if not header.startswith(b"*"):
        return header.split()
    parts = []
    for _ in range(int(header[1:])):
        length = int(reader.readline()[1:])
        parts.append(reader.read(length + 2)[:-2])
    return parts


def _bulk(value: bytes | None) -> bytes:
    return b"_\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)
