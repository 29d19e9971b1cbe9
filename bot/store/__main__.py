"""`python -m bot.store [--reset]`: create and seed the sample store if it is empty."""

from __future__ import annotations

import argparse

from bot.store import SupportStore, load_seed
from core.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.store", description=__doc__)
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the sample data and reseed (the handoff queue and accounts are kept)",
    )
    args = parser.parse_args()
    settings = Settings.load()
    store = SupportStore(settings.store_url)
    upgraded = store.create_schema()
    if upgraded.changed:
        print(upgraded)
    if args.reset or not store.is_seeded():
        store.seed(load_seed(), reset=args.reset)
        print(f"Seeded the sample store at {settings.store_url}")
    else:
        print(f"The sample store at {settings.store_url} is ready (use --reset to reseed).")


if __name__ == "__main__":
    main()
