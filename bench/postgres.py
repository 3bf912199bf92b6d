"""PostgreSQL for the benchmark: Debian's cluster, installed (as root) and started
when it is not, stopped again only if we started it; and a throwaway database,
dropped at the end."""

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from bench import debian

DEFAULT_URL = "postgres://clinic:clinic@127.0.0.1:5432/clinic_bench"


class PostgresUnavailable(RuntimeError):
    pass


def _as_root(*command: str) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _cluster() -> tuple[str, str, str]:
    """(version, name, status) of the first cluster pg_lsclusters lists."""
    lines = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True).stdout
    if not lines.strip():
        raise PostgresUnavailable("pg_lsclusters lists no PostgreSQL cluster: pg_createcluster 15 main")
    version, name, _port, status, *_ = lines.split()
    return version, name, status


def _wait_ready(url: str, seconds: int = 30) -> None:
    for _ in range(seconds * 2):
        if subprocess.run(["pg_isready", "-q", "-h", urlsplit(url).hostname or "127.0.0.1"]).returncode == 0:
            return
        time.sleep(0.5)
    raise PostgresUnavailable("PostgreSQL did not become ready in 30 seconds.")


def _role_ensure(url: str) -> None:
    """The benchmark's user, as .ci/run makes it, when we may (root) and it is missing."""
    parts = urlsplit(url)
    try:
        psycopg2.connect(_maintenance_dsn(url)).close()
        return
    except psycopg2.OperationalError:
        if os.geteuid() != 0:
            raise
    statement = f"CREATE USER {parts.username} WITH PASSWORD '{parts.password}' CREATEDB;"
    _as_root("runuser", "-u", "postgres", "--", "psql", "-q", "-c", statement)


@contextmanager
def server(url: str) -> Iterator[None]:
    """PostgreSQL running for the duration of the block."""
    debian.ensure("postgresql", command="pg_lsclusters")
    version, name, status = _cluster()
    started = status != "online"
    if started:
        print(f"Starting PostgreSQL {version}/{name}", flush=True)
        _as_root("pg_ctlcluster", version, name, "start")
    try:
        _wait_ready(url)
        _role_ensure(url)
        yield
    finally:
        if started:
            print(f"Stopping PostgreSQL {version}/{name}", flush=True)
            subprocess.run(["pg_ctlcluster", version, name, "stop"], check=False)


def _maintenance_dsn(url: str) -> str:
    parts = urlsplit(url)
    return f"host={parts.hostname} port={parts.port or 5432} user={parts.username} password={parts.password} dbname=postgres"


def _admin(url: str, statement: sql.Composed) -> None:
    connection = psycopg2.connect(_maintenance_dsn(url))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def database(url: str) -> Iterator[str]:
    """A fresh, empty database named by the URL (one left by an interrupted run is
    replaced), dropped when the block ends."""
    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    _admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    _admin(url, sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield url
    finally:
        _admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
