"""`python -m core.migrations upgrade|current|history|revision`: the store database's schema.

    python -m core.migrations upgrade            # apply what STORE_URL's database lacks
    python -m core.migrations current            # its revision and the newest one
    python -m core.migrations history            # every revision, newest first
    python -m core.migrations revision -m "add consent table" --autogenerate \\
        --metadata bot.store.schema:metadata --metadata routing.queue:metadata \\
        --metadata routing.accounts:metadata     # (what `make migration MSG=...` runs)

`revision --autogenerate` compares the models named by `--metadata` with a throwaway
SQLite database at head (or `--url`'s, which must be at head) and writes a draft.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from core.database import create_engine, redact
from core.errors import ConfigurationError
from core.migrations.runner import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from core.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.migrations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="database URL (default: STORE_URL from the settings)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="apply every migration the database lacks")
    commands.add_parser("current", help="print the database's revision and the newest one")
    commands.add_parser("history", help="list the revisions, newest first")
    revision = commands.add_parser("revision", help="write a new revision file")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")
    revision.add_argument(
        "--autogenerate", action="store_true", help="draft it from the models' differences"
    )
    revision.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="a MetaData of the models to compare (repeat for each); needs --autogenerate",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "history":
            for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
                print(f"{script.revision}  {script.doc}")
        elif args.command == "revision":
            print(write_revision(args.message, args.autogenerate, args.metadata, args.url))
        else:
            url = args.url or Settings.load().store_url
            engine = create_engine(url)
            try:
                if args.command == "upgrade":
                    print(f"{upgrade(engine)} ({redact(url)})")
                else:
                    current = current_revision(engine) or "none"
                    print(f"{redact(url)}: revision {current} (newest: {head_revision()})")
            finally:
                engine.dispose()
    except ConfigurationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def write_revision(message: str, autogenerate: bool, metadata: list[str], url: str | None) -> str:
    """Write `versions/<next number>_<slug>.py`; return its path."""
    if metadata and not autogenerate:
        raise ConfigurationError("--metadata is only used with --autogenerate; add it.")
    if autogenerate and not metadata:
        raise ConfigurationError(
            "--autogenerate needs the models: --metadata bot.store.schema:metadata "
            "--metadata routing.queue:metadata --metadata routing.accounts:metadata "
            "(or run `make migration MSG=...`)."
        )
    head = head_revision()
    rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    if not autogenerate:
        script = command.revision(_formatted(alembic_config()), message=message, rev_id=rev_id)
        return _path(script)
    targets = [_load_metadata(name) for name in metadata]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(url or f"sqlite:///{Path(tmp) / 'head.db'}")
        try:
            upgrade(engine)
            with engine.connect() as connection:
                config = _formatted(alembic_config(connection))
                config.attributes["target_metadata"] = targets
                script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    return _path(script)


def _formatted(config: Config) -> Config:
    """Have ruff format the new file, as `make lint` expects (when ruff is installed)."""
    if importlib.util.find_spec("ruff") is not None:
        config.set_section_option("post_write_hooks", "hooks", "ruff")
        config.set_section_option("post_write_hooks", "ruff.type", "module")
        config.set_section_option("post_write_hooks", "ruff.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME"
        )
    return config


def _load_metadata(name: str) -> sa.MetaData:
    module_name, _, attr = name.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), attr or "metadata")
    except (ImportError, AttributeError) as e:
        raise ConfigurationError(
            f"--metadata {name!r} cannot be loaded ({e}); write it as module:attribute, "
            "e.g. bot.store.schema:metadata."
        ) from e
    if not isinstance(value, sa.MetaData):
        raise ConfigurationError(f"--metadata {name!r} is a {type(value).__name__}, not MetaData.")
    return value


def _path(script: object) -> str:
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(str(getattr(s, "path", s)) for s in scripts)


if __name__ == "__main__":
    sys.exit(main())
