"""Backups of the whole database, and restoring one (``liveshop db backup`` / ``restore``).

- **SQLite**: the online backup API (``sqlite3.Connection.backup``), page by page, while the
  app keeps running: the copy is one consistent snapshot. A backup is written beside its
  destination and renamed into place only when complete, so a file at ``PATH`` is always a
  whole backup. Restoring copies a backup into the database file the same way (the app's
  writers wait on the lock meanwhile); the backup is checked first (``quick_check`` and a
  migrated schema), so a wrong file is refused before anything is overwritten.
- **PostgreSQL**: ``pg_dump -Fc`` (a consistent snapshot in one transaction, compressed,
  custom format) and ``pg_restore --clean --if-exists --no-owner --single-transaction``:
  the restore replaces every object or nothing. The password goes through ``PGPASSWORD``,
  never the command line. The ledger's append-only triggers are created after the data, as
  pg_restore orders them.

``progress(done, total)`` is called as the work advances (pages for SQLite; tables for
PostgreSQL, from the tools' ``--verbose`` output, total None when not known).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

Progress = Callable[[int, int | None], None]
SQLITE_PAGES_PER_STEP = 256


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _nothing(done: int, total: int | None) -> None:
    return None


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        raise BackupError(f"not an SQLite database file: {parsed.render_as_string()}")
    if parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def _copy_sqlite(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress
) -> None:
    def step(status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=step)


def backup_sqlite(url: str, dest: Path, progress: Progress = _nothing) -> None:
    src_path = sqlite_file(url)
    if not src_path.exists():
        raise BackupError(f"{src_path} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            _copy_sqlite(source, target, progress)
        finally:
            target.close()
    finally:
        source.close()
    partial.replace(dest)


def check_sqlite_backup(path: Path) -> None:
    """Refuse a file that is not a whole, migrated liveshop SQLite database."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()
            version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a liveshop SQLite backup ({exc})") from exc
    if not ok or ok[0] != "ok":
        raise BackupError(f"{path} is damaged: {ok[0] if ok else 'no answer'}")
    if not version:
        raise BackupError(f"{path} has no schema version (alembic_version is empty)")


def restore_sqlite(url: str, src: Path, progress: Progress = _nothing) -> None:
    check_sqlite_backup(src)
    target_path = sqlite_file(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path, timeout=60)
        try:
            _copy_sqlite(source, target, progress)
        finally:
            target.close()
    finally:
        source.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq one for the PostgreSQL tools (no driver, no password:
    that goes in the environment)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise BackupError(f"not a PostgreSQL URL: {parsed.render_as_string()}")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run_verbose(
    args: list[str], env: dict[str, str], marker: str, total: int | None, progress: Progress
) -> None:
    """Run a PostgreSQL tool with --verbose; each stderr line containing ``marker`` is one
    table done. The tool's own messages end up in the error when it fails."""
    done = 0
    lines: list[str] = []
    with subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip())
            if marker in line:
                done += 1
                progress(done, total)
        code = proc.wait()
    if code != 0:
        errors = [ln for ln in lines if "error" in ln.lower()] or lines[-5:]
        raise BackupError(f"{Path(args[0]).name} failed ({code}): " + " | ".join(errors[-5:]))


def backup_postgres(
    url: str, dest: Path, progress: Progress = _nothing, *, tables: int | None = None
) -> None:
    target, env = _libpq(url)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    args = [_tool("pg_dump"), "--format=custom", "--verbose", f"--file={partial}", target]
    _run_verbose(args, env, "dumping contents of table", tables, progress)
    partial.replace(dest)


def restore_postgres(
    url: str, src: Path, progress: Progress = _nothing, *, tables: int | None = None
) -> None:
    if not src.is_file():
        raise BackupError(f"{src} does not exist")
    target, env = _libpq(url)
    listed = subprocess.run(
        [_tool("pg_restore"), "--list", str(src)], env=env, capture_output=True, text=True
    )
    if listed.returncode != 0 or "alembic_version" not in listed.stdout:
        raise BackupError(f"{src} is not a liveshop PostgreSQL backup (pg_dump -Fc)")
    args = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--verbose",
        f"--dbname={target}",
        str(src),
    ]
    _run_verbose(args, env, "processing data for table", tables, progress)


def backup(
    url: str, dest: Path, progress: Progress = _nothing, *, tables: int | None = None
) -> None:
    """Back the database at ``url`` up to ``dest`` (a file; replaced when complete)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).drivername.startswith("sqlite"):
        backup_sqlite(url, dest, progress)
    else:
        backup_postgres(url, dest, progress, tables=tables)


def restore(
    url: str, src: Path, progress: Progress = _nothing, *, tables: int | None = None
) -> None:
    """Replace the database at ``url`` with the backup ``src``."""
    if make_url(url).drivername.startswith("sqlite"):
        restore_sqlite(url, src, progress)
    else:
        restore_postgres(url, src, progress, tables=tables)
