"""A throwaway PostgreSQL server for the tests.

One cluster per test session (per xdist worker), made with Debian's ``initdb`` and
``pg_ctl`` in a temporary folder, listening on 127.0.0.1 on a free port only, and removed
at the end. When the tests run as root, the server runs as the ``postgres`` system user
(PostgreSQL refuses to run as root) and the folder is given to it.

The server is tuned for speed, not safety: ``fsync=off``, ``synchronous_commit=off`` and
``full_page_writes=off`` are acceptable for a cluster that is thrown away after the tests,
never for a real ledger.

Each test gets a database of its own, copied from a template that already holds the
schema (``CREATE DATABASE … TEMPLATE``): much quicker than running the migrations again.
The next copy is made in a background thread while a test runs, and used databases are
dropped there too, so that a test waits for neither.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

SYSTEM_USER = "postgres"  # who runs the server when the tests run as root
SUPERUSER = "comptoir_test"
TEMPLATE = "comptoir_template"
START_TIMEOUT_S = 60
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",  # TCP only: no socket file in a system folder
    "fsync": "off",  # tests only: the cluster is thrown away
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "120",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class ServerUnavailable(RuntimeError):
    """The test server could not be set up; the message says why and what to do."""


def find_bindir() -> Path:
    """The newest Debian PostgreSQL binaries (``/usr/lib/postgresql/<version>/bin``)."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise ServerUnavailable(
            "PostgreSQL's initdb was not found in /usr/lib/postgresql/*/bin: install the "
            "Debian package `postgresql` (`make test` does it)."
        )
    return found[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """A running throwaway cluster; ``url(name)`` gives a SQLAlchemy URL to a database."""

    def __init__(self, root: Path, bindir: Path, port: int, password: str) -> None:
        self.root = root
        self.bindir = bindir
        self.port = port
        self.password = password
        self.data = root / "data"
        self.log = root / "server.log"
        self._admins: list = []  # type: ignore[type-arg]  # every thread's admin connection
        self._local = threading.local()
        self._names = threading.Lock()
        self._counter = 0
        self._stopped = False
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-admin")
        self._spare: Future[str] | None = None

    # -- running the binaries -----------------------------------------------------------
    def _as_owner(self, argv: Sequence[str]) -> list[str]:
        if os.geteuid() != 0:
            return list(argv)
        return ["runuser", "-u", SYSTEM_USER, "--", *argv]

    def _run(self, *argv: str, timeout: float = START_TIMEOUT_S) -> None:
        done = subprocess.run(
            self._as_owner(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            env=_real_clock_env(),
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ServerUnavailable(
                f"`{' '.join(argv)}` failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}\n{tail}"
            )

    def initdb(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        self._give_to_owner(pwfile)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        pwfile.unlink()
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# comptoir tests\n")
            conf.write(f"port = {self.port}\n")
            for key, value in _SETTINGS.items():
                conf.write(f"{key} = {value}\n")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )

    def stop(self) -> None:
        """Stop the server and remove its folder; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._background.shutdown(wait=True, cancel_futures=True)
        for conn in self._admins:
            with contextlib.suppress(Exception):
                conn.close()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "stop", timeout=30)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def _give_to_owner(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, SYSTEM_USER, SYSTEM_USER)

    # -- databases ----------------------------------------------------------------------
    def url(self, database: str, *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql+psycopg://{SUPERUSER}{secret}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={SUPERUSER} "
            f"password={self.password} connect_timeout=10"
        )

    def admin(self):  # type: ignore[no-untyped-def]
        """This thread's autocommit connection to the maintenance database."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            import psycopg

            conn = self._local.conn = psycopg.connect(self.dsn("postgres"), autocommit=True)
            self._admins.append(conn)
        return conn

    def _new_name(self) -> str:
        with self._names:
            self._counter += 1
            return f"t{os.getpid()}_{self._counter}"

    def _create(self, template: str | None) -> str:
        name = self._new_name()
        source = f" TEMPLATE {template}" if template else ""
        self.admin().execute(f"CREATE DATABASE {name}{source}")
        return name

    def create_database(self, *, template: str | None = None) -> str:
        """A new database: empty, or a copy of ``template``; copies of ``TEMPLATE`` are
        made one ahead, in the background."""
        if template != TEMPLATE:
            return self._create(template)
        spare, self._spare = self._spare, None
        name = spare.result() if spare is not None else self._create(TEMPLATE)
        self._spare = self._background.submit(self._create, TEMPLATE)
        return name

    def drop_database(self, name: str) -> None:
        """Drop it in the background (connections left open are closed by the server)."""
        self._background.submit(self._drop, name)

    def _drop(self, name: str) -> None:
        self.admin().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def prepare_template(self) -> None:
        """A database at the newest schema, copied for each test."""
        from app.ledger import migrate
        from app.ledger.db import make_engine

        self.admin().execute(f"CREATE DATABASE {TEMPLATE}")
        engine = make_engine(self.url(TEMPLATE))
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()


def start_cluster() -> PgCluster:
    """Make, start and return a cluster; raises ServerUnavailable saying why not."""
    bindir = find_bindir()
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise ServerUnavailable("running as root, and `runuser` is missing to drop to postgres")
    # As root, the server runs as postgres, who must reach the folder: /tmp, not a TMPDIR
    # that may be private to root.
    parent = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="comptoir-pg-", dir=parent))
    os.chmod(root, 0o700)
    if os.geteuid() == 0:
        try:
            shutil.chown(root, SYSTEM_USER, SYSTEM_USER)
        except (LookupError, OSError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise ServerUnavailable(f"no usable `{SYSTEM_USER}` system user: {exc}") from exc
    last: Exception | None = None
    password = secrets.token_urlsafe(12)
    for _attempt in range(3):  # a free port may be taken between choosing and binding it
        cluster = PgCluster(root, bindir, free_port(), password)
        try:
            if not cluster.data.exists():
                cluster.initdb()
            else:
                _set_port(cluster)
            cluster.start()
            _wait_ready(cluster)
            cluster.prepare_template()
        except ServerUnavailable as exc:
            last = exc
            for conn in cluster._admins:
                with contextlib.suppress(Exception):
                    conn.close()
            continue
        except Exception as exc:
            cluster.stop()
            raise ServerUnavailable(f"the test server did not come up: {exc!r}") from exc
        atexit.register(cluster.stop)
        return cluster
    shutil.rmtree(root, ignore_errors=True)
    raise ServerUnavailable(str(last))


def _set_port(cluster: PgCluster) -> None:
    conf = cluster.data / "postgresql.conf"
    lines = [line for line in conf.read_text().splitlines() if not line.startswith(("port =", "#"))]
    conf.write_text("\n".join([*lines, f"port = {cluster.port}", ""]))


def _wait_ready(cluster: PgCluster) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            cluster.admin().execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"the server does not answer: {exc}") from exc
            time.sleep(0.1)


# -- raw access behind the app's back (tampering tests) -----------------------------------
TRIGGERS_PER_TABLE = {"sqlite": 2, "postgresql": 3}  # UPDATE, DELETE (+ TRUNCATE)


class _Row(dict):  # type: ignore[type-arg]
    """A row read by key like ``sqlite3.Row`` and by position like a tuple."""

    def __init__(self, names: list[str], values: Sequence[object]) -> None:
        super().__init__(zip(names, values, strict=True))
        self._values = tuple(values)

    def __getitem__(self, key: object) -> object:
        if isinstance(key, int):
            return self._values[key]
        return super().__getitem__(key)


def _row_maker(cursor):  # type: ignore[no-untyped-def]
    names = [column.name for column in cursor.description or ()]
    return lambda values: _Row(names, values)


class RawDb:
    """A plain DB-API connection to a ledger (a SQLite file or a PostgreSQL URL) with
    sqlite3's manners: ``?`` marks, rows read by key or position. ``Error`` is the
    driver's error class."""

    def __init__(self, target: Path | str) -> None:
        if isinstance(target, str) and target.startswith("postgresql"):
            import psycopg

            from app.ledger.db import libpq_url

            self.dialect = "postgresql"
            self.Error: type[Exception] = psycopg.Error
            self._conn = psycopg.connect(libpq_url(target), row_factory=_row_maker)
        else:
            import sqlite3

            self.dialect = "sqlite"
            self.Error = sqlite3.Error
            self._conn = sqlite3.connect(target)
            self._conn.row_factory = sqlite3.Row

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[object] = ()):  # type: ignore[no-untyped-def]
        return self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self._conn.cursor().executemany(self._sql(sql), [tuple(row) for row in rows])

    def triggers(self) -> list[tuple[str, str]]:
        """(trigger, table) of the append-only guards."""
        if self.dialect == "sqlite":
            sql = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
        else:
            sql = (
                "SELECT t.tgname, c.relname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        return [(row[0], row[1]) for row in self.execute(sql)]

    def disable_guards(self) -> None:
        """What a forger with the database's keys does first: SQLite, drop the triggers;
        PostgreSQL, a superuser session in replica mode, where neither the triggers nor the
        foreign keys fire (as with sqlite3, which leaves foreign keys off)."""
        if self.dialect == "sqlite":
            for name, _table in self.triggers():
                self.execute(f"DROP TRIGGER {name}")
        else:
            self.execute("SET session_replication_role = replica")

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


@contextlib.contextmanager
def tampering(target: Path | str) -> Iterator[RawDb]:
    """A raw connection with the append-only guards off, committed at the end."""
    conn = RawDb(target)
    try:
        conn.disable_guards()
        yield conn
        conn.commit()
    finally:
        conn.close()


def _real_clock_env() -> dict[str, str]:
    """The server on the real clock even when the suite runs under libfaketime
    (tools/faketime_suite.sh): its ``lock_timeout`` never fires there, and nothing the
    ledger records comes from the server's clock."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
