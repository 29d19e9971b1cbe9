"""`python -m bot.store [--reset]`: create and seed the sample store if it is empty."""

from __future__ import annotations

import argparse

from bot.settings import Settings
from bot.store import SupportStore, load_seed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.store", description=__doc__)
    parser.add_argument("--reset", action="store_true", help="drop all data and reseed")
    args = parser.parse_args()
    settings = Settings.load()
    store = SupportStore(settings.store_url)
    if args.reset or not store.is_seeded():
        store.seed(load_seed(), reset=args.reset)
        print(f"Seeded the sample store at {settings.store_url}")
    else:
        print(f"The sample store at {settings.store_url} is ready (use --reset to reseed).")


if __name__ == "__main__":
    main()
