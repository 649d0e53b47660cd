"""Operations commands of ``campus-presence``: ``backup``, ``restore`` and
``db current|upgrade|history`` (docs/operations.md).

A backup is one ``.tar.gz`` archive, created 0600:

- ``manifest.json``: the format id and version, the program's version, when, the
  registry's backend and schema revisions, the events' backend, and each file's size
  and SHA-256;
- ``registry.sqlite3`` and ``events.sqlite3``: consistent copies made with SQLite's online
  backup API, safe while the server runs and writes;
- ``registry.pgdump``: a PostgreSQL registry, ``pg_dump --format=custom``;
- ``influxdb/``: InfluxDB 1.x events, what ``influxd backup -portable`` wrote.

``restore`` checks everything (archive readable to the end, format, version, schema
revisions known to this program, the configured backends, checksums, SQLite integrity,
the PostgreSQL dump's table of contents) in a temporary folder inside the data folder
before it changes anything, then restores InfluxDB into a staging database, PostgreSQL
in one transaction, renames the SQLite files into place (the previous ones are kept in
``<data_dir>/before-restore-<time>/``) and last copies the staging database's points
into the configured one (:mod:`server.entrypoints.backup_engines`)."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import zlib
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url

from server.config import Settings, load_settings
from server.entrypoints import backup_engines as engines
from server.entrypoints.backup_engines import OpsError
from server.private_files import FILE_MODE, FOLDER_MODE, private_folder
from server.registry import database

FORMAT = "campus-presence-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REGISTRY_FILE = "registry.sqlite3"
REGISTRY_DUMP = "registry.pgdump"
EVENTS_FILE = "events.sqlite3"
INFLUX_FOLDER = "influxdb"


BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "influxdb": "InfluxDB"}


class PartialRestore(OpsError):
    """A restore that changed something before it failed; the message says what to do."""


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    backup = subparsers.add_parser(
        "backup", help="one archive of the registry and the events (safe while the server runs)"
    )
    backup.add_argument("--output", "-o", type=Path, required=True, help="archive (.tar.gz)")
    backup.add_argument(
        "--influxd-host",
        default="",
        help="influxd's RPC address for 'influxd backup' (default: the InfluxDB URL's host:8088)",
    )
    backup.set_defaults(handler=backup_command)

    restore = subparsers.add_parser(
        "restore", help="restore an archive made by 'backup' (stop the server first)"
    )
    restore.add_argument("archive", type=Path)
    restore.add_argument(
        "--influxd-host",
        default="",
        help="influxd's RPC address for 'influxd restore' (default: the InfluxDB URL's host:8088)",
    )
    restore.set_defaults(handler=restore_command)

    db = subparsers.add_parser("db", help="the registry's schema (migrations)")
    actions = db.add_subparsers(dest="db", required=True)
    actions.add_parser("current", help="the schema revisions of the registry").set_defaults(
        handler=db_current_command
    )
    actions.add_parser("upgrade", help="apply the pending migrations").set_defaults(
        handler=db_upgrade_command
    )
    actions.add_parser("history", help="every migration, newest first").set_defaults(
        handler=db_history_command
    )


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, require_secret=False)


def _fail(message: str) -> int:
    print(f"campus-presence: {message}", file=sys.stderr)
    return 2


# -- db ----------------------------------------------------------------------------------


def db_current_command(args: argparse.Namespace) -> int:
    url = _settings(args).registry_database_url
    path = database.sqlite_file(url)
    if path is not None and not path.exists():
        return _fail(f"no registry at {path} yet: 'campus-presence db upgrade' creates it")
    current, heads = database.current_revisions(url), database.head_revisions()
    print(f"registry: {database.safe_url(url)}")
    print(f"current: {', '.join(sorted(current)) or '(empty: no migration applied)'}")
    if current == heads:
        print("up to date")
    else:
        wanted = ", ".join(sorted(heads))
        print(f"pending: the code is at {wanted}; run: campus-presence db upgrade")
    return 0


def db_upgrade_command(args: argparse.Namespace) -> int:
    url = _settings(args).registry_database_url
    database.prepare_sqlite_file(url)  # names and phone numbers: 0600
    before = database.current_revisions(url)
    database.migrate(url)
    after = database.current_revisions(url)
    print(f"registry: {database.safe_url(url)}")
    if before == after:
        print(f"already up to date: {', '.join(sorted(after))}")
    else:
        was = ", ".join(sorted(before)) or "(empty)"
        print(f"upgraded from {was} to {', '.join(sorted(after))}")
    return 0


def db_history_command(args: argparse.Namespace) -> int:
    for revision, revises, doc in database.history():
        print(f"{revision:<30} <- {revises:<30} {doc}")
    return 0


# -- backup ------------------------------------------------------------------------------


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (online backup API, one step: the
    copy is one snapshot even while other connections write), created 0600."""
    if not source.exists():
        raise OpsError(f"{source} does not exist")
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _program_version() -> str:
    try:
        return metadata.version("campus-presence")
    except metadata.PackageNotFoundError:
        return "unknown"


def _registry_backend(url: str) -> str:
    """ "sqlite" or "postgresql"; a URL that is neither raises the RegistryError that
    explains."""
    database.sqlite_file(url)  # parses the URL: RegistryError if it is none
    backend = make_url(url).get_backend_name()
    if backend not in BACKEND_NAMES:
        database.make_engine(url)  # raises the RegistryError that explains
    return backend


def make_backup(settings: Settings, output: Path, *, influxd_host: str = "") -> dict[str, Any]:
    """Write the archive ``output`` (0600); returns its manifest."""
    url = settings.registry_database_url
    backend = _registry_backend(url)
    registry_file = database.sqlite_file(url)
    if registry_file is not None and not registry_file.exists():
        raise OpsError(f"no registry at {registry_file}: nothing to back up")
    revisions = sorted(database.current_revisions(url))  # RegistryError if unusable
    output = output.resolve()
    private_folder(output.parent)
    with tempfile.TemporaryDirectory(prefix=".campus-backup-", dir=output.parent) as staging:
        stage = Path(staging)
        files: list[Path] = []
        if registry_file is not None:
            sqlite_copy(registry_file, stage / REGISTRY_FILE)
            files.append(stage / REGISTRY_FILE)
        elif backend == "postgresql":
            engines.pg_dump(url, stage / REGISTRY_DUMP)
            files.append(stage / REGISTRY_DUMP)
        events: dict[str, Any] = {"backend": settings.events.backend}
        if settings.events.backend == "sqlite":
            if settings.events_sqlite_path.exists():
                sqlite_copy(settings.events_sqlite_path, stage / EVENTS_FILE)
                files.append(stage / EVENTS_FILE)
        elif settings.influxdb.api_version == 2:
            # InfluxDB 2.x/3.x/Cloud: no 'influxd backup' over RPC; untested here.
            events["in_archive"] = False
        else:
            events["database"] = settings.influxdb.database
            (stage / INFLUX_FOLDER).mkdir(mode=FOLDER_MODE)
            events["points_at_least"] = engines.influxd_backup(
                settings.influxdb, influxd_host, stage / INFLUX_FOLDER
            )
            files += sorted(p for p in (stage / INFLUX_FOLDER).rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "program_version": _program_version(),
            "created_at": datetime.now(UTC).isoformat(),
            "registry": {
                "backend": backend,
                "in_archive": bool({REGISTRY_FILE, REGISTRY_DUMP} & {p.name for p in files}),
                "revisions": revisions,
            },
            "events": events,
            "files": {
                str(p.relative_to(stage)): {"size": p.stat().st_size, "sha256": _sha256(p)}
                for p in files
            },
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        partial = output.with_name(f".{output.name}.partial")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(stage / MANIFEST, MANIFEST)  # first: read before the data
                for path in files:
                    archive.add(path, str(path.relative_to(stage)))
            partial.replace(output)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
    return manifest


def backup_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        manifest = make_backup(settings, args.output, influxd_host=args.influxd_host)
    except (OpsError, OSError, sqlite3.Error) as error:
        return _fail(f"backup failed, no archive written: {error}")
    print(f"backup written: {args.output} ({len(manifest['files'])} files)")
    if manifest["events"].get("in_archive") is False:
        print(
            "note: the events (InfluxDB with api_version = 2: 2.x, 3.x or Cloud) are not in "
            "this archive: back them up with that server's own tools (docs/influxdb.md)"
        )
    return 0


# -- restore -----------------------------------------------------------------------------


def _read_archive(archive_path: Path, into: Path) -> dict[str, Any]:
    """Extract and check the whole archive into ``into``; returns its manifest."""
    try:
        with archive_path.open("rb") as stream:
            magic = stream.read(2)
    except FileNotFoundError:
        raise OpsError(f"{archive_path}: no such file") from None
    except OSError as error:
        raise OpsError(f"{archive_path}: {error.strerror}") from None
    if magic and magic != b"\x1f\x8b":
        raise OpsError(f"{archive_path} is not a campus-presence backup (not a .tar.gz file)")
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(into, filter="data")
    except FileNotFoundError:
        raise OpsError(f"{archive_path}: no such file") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise OpsError(
            f"{archive_path} is not a complete campus-presence backup (truncated or damaged: "
            f"{error})"
        ) from None
    try:
        manifest = json.loads((into / MANIFEST).read_text())
    except (OSError, ValueError):
        raise OpsError(f"{archive_path} has no readable {MANIFEST}: not a backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OpsError(f"{archive_path} is not a campus-presence backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise OpsError(
            f"{archive_path} is a backup of format {manifest.get('format_version')!r} "
            f"(program {manifest.get('program_version')}); this program reads format "
            f"{FORMAT_VERSION}: restore it with the version that made it"
        )
    revisions = set(manifest.get("registry", {}).get("revisions", []))
    known = {revision for revision, _, _ in database.history()}
    if not revisions <= known:
        raise OpsError(
            f"{archive_path} comes from a newer version (program "
            f"{manifest.get('program_version')}): schema revisions "
            f"{', '.join(sorted(revisions - known))} are unknown to this program"
        )
    for name, expected in manifest.get("files", {}).items():
        path = into / name
        if not path.is_file() or path.stat().st_size != expected["size"]:
            raise OpsError(f"{archive_path}: {name} is missing or has the wrong size")
        if _sha256(path) != expected["sha256"]:
            raise OpsError(f"{archive_path}: {name} does not match its checksum")
    for name in (REGISTRY_FILE, EVENTS_FILE):
        if name in manifest.get("files", {}):
            _check_sqlite(into / name)
    return manifest


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as error:
        raise OpsError(f"{path.name} is not a readable SQLite database: {error}") from None
    finally:
        connection.close()
    if verdict != "ok":
        raise OpsError(f"{path.name} fails SQLite's integrity check: {verdict}")


def _check_backends(settings: Settings, manifest: dict[str, Any], backend: str) -> None:
    """Refuse an archive made with other backends than the configured ones."""
    registry = manifest.get("registry", {})
    archived = registry.get("backend")
    if registry.get("in_archive") and archived != backend:
        raise OpsError(
            f"the archive holds a {BACKEND_NAMES.get(archived, archived)} registry but the "
            f"configured registry is {BACKEND_NAMES[backend]} "
            f"({database.safe_url(settings.registry_database_url)}): configure a "
            f"{BACKEND_NAMES.get(archived, archived)} registry to restore it"
        )
    events = manifest.get("events", {}).get("backend")
    files = manifest.get("files", {})
    holds_events = EVENTS_FILE in files or any(n.startswith(f"{INFLUX_FOLDER}/") for n in files)
    if holds_events and events != settings.events.backend:
        raise OpsError(
            f"the archive holds {BACKEND_NAMES.get(events, events)} events but the configured "
            f"events backend is {BACKEND_NAMES[settings.events.backend]} ([events] backend)"
        )


def _pg_extra_tables(url: str, dump: Path) -> set[str]:
    """Tables of the registry's database that the dump does not replace (made by a newer
    schema): pg_restore --clean would leave them next to an older alembic_version."""
    archived = engines.pg_dump_tables(dump)
    database.current_revisions(url)  # a clear RegistryError if the database is unusable
    engine = database.make_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return present - archived


def restore_backup(settings: Settings, archive_path: Path, *, influxd_host: str = "") -> list[str]:
    """Restore ``archive_path``; returns lines saying what was done. Everything is checked
    before anything changes; a failure before the InfluxDB copy changes nothing (the
    PostgreSQL restore is one transaction, the SQLite files are renamed into place last,
    InfluxDB is restored into a staging database first)."""
    url = settings.registry_database_url
    backend = _registry_backend(url)
    targets: dict[str, Path] = {}
    registry_file = database.sqlite_file(url)
    if settings.events.backend == "sqlite":
        targets[EVENTS_FILE] = settings.events_sqlite_path
    if registry_file is not None:
        targets[REGISTRY_FILE] = registry_file
    private_folder(settings.data_dir)
    said: list[str] = []
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.data_dir) as staging:
        stage = Path(staging)
        manifest = _read_archive(archive_path, stage)
        files = manifest.get("files", {})
        _check_backends(settings, manifest, backend)
        if manifest["registry"].get("in_archive") and not {REGISTRY_FILE, REGISTRY_DUMP} & set(
            files
        ):
            raise OpsError(f"{archive_path}: the manifest lists no registry file")
        if REGISTRY_DUMP in files:
            extra = _pg_extra_tables(url, stage / REGISTRY_DUMP)
            if extra:
                raise OpsError(
                    f"the registry database {database.safe_url(url)} has tables the archive "
                    f"does not have ({', '.join(sorted(extra))}: a newer schema); restore into "
                    "an empty database (createdb) and point [registry] url at it"
                )
        influx_staging = ""
        staged_points: dict[str, int] = {}
        if (stage / INFLUX_FOLDER).is_dir():
            influx = settings.influxdb
            influx_staging = f"{influx.database}_restore_{stamp}".lower()
            if influx_staging in engines.databases(influx):
                raise OpsError(f"InfluxDB already has a database {influx_staging}: drop it")
            events = manifest.get("events", {})
            staged_points = engines.influxd_restore_staged(
                influx,
                influxd_host,
                stage / INFLUX_FOLDER,
                events.get("database") or influx.database,
                influx_staging,
                events.get("points_at_least", {}),
            )
        try:
            if REGISTRY_DUMP in files:
                engines.pg_restore(url, stage / REGISTRY_DUMP)
                said.append(f"restored the registry {database.safe_url(url)}")
            said += _swap_sqlite_files(settings, stage, files, targets, stamp)
        except BaseException:
            if influx_staging:
                engines.drop_database(settings.influxdb, influx_staging)
            raise
        if influx_staging:
            try:
                written = engines.influx_copy(
                    settings.influxdb, influx_staging, sum(staged_points.values())
                )
            except OpsError as error:
                raise PartialRestore(
                    f"{error}. The registry{' and SQLite files' if said else ''} "
                    f"{'were' if said else 'was'} restored; the archive's events are complete "
                    f"in the InfluxDB database {influx_staging}: run 'restore' again, or copy "
                    f'them with SELECT * INTO "{settings.influxdb.database}"..:MEASUREMENT '
                    f'FROM "{influx_staging}"../.*/ GROUP BY *'
                ) from None
            said.append(
                f"restored {written} InfluxDB points into the database "
                f"{settings.influxdb.database} (through the staging database {influx_staging}, "
                "now dropped)"
            )
    if manifest.get("events", {}).get("in_archive") is False:
        said.append("the archive holds no events: the events were left as they are")
    revisions = manifest["registry"]["revisions"]
    if manifest["registry"].get("in_archive") and set(revisions) != database.head_revisions():
        said.append("the registry's schema is older: it is upgraded at the next start")
    return said


def _swap_sqlite_files(
    settings: Settings,
    stage: Path,
    files: dict[str, Any],
    targets: dict[str, Path],
    stamp: str,
) -> list[str]:
    """Rename the checked SQLite files into place, keeping the ones they replace."""
    said = []
    kept = settings.data_dir / f"before-restore-{stamp}"
    for name, target in targets.items():
        if name not in files:
            continue
        staged = stage / name
        staged.chmod(FILE_MODE)
        private_folder(target.parent)
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            if leftover.exists():  # an old WAL must never be applied to the new file
                private_folder(kept)
                leftover.replace(kept / leftover.name)
        if target.parent.stat().st_dev == staged.stat().st_dev:
            staged.replace(target)
        else:  # another file system: copy beside the target, then rename (atomic)
            beside = target.with_name(f".{target.name}.restoring")
            shutil.copy2(staged, beside)
            beside.replace(target)
        said.append(f"restored {target}")
    if kept.exists():
        said.append(f"previous files kept in {kept}")
    return said


def restore_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        lines = restore_backup(settings, args.archive, influxd_host=args.influxd_host)
    except PartialRestore as error:
        return _fail(f"restore incomplete: {error}")
    except (OpsError, OSError, sqlite3.Error) as error:
        return _fail(f"restore refused, nothing changed: {error}")
    for line in lines:
        print(line)
    return 0
