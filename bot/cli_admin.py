"""The command line's safety and mailing pieces, registered by `bot.cli.build_parser` with one call:

- `redheart --version`;
- `redheart link CUSTOMER_ID` and `redheart link --all --out links.csv` (a store's own mailing), with a
  link that names the real bot or a one-line failure, never a placeholder;
- which database a command may open: only `import`, `run` and `demo` create a SQLite file, and an
  import into a database that does not exist yet is staged beside it and kept only when it imported
  something, so a failed first import leaves no empty database behind;
- the invitation preview `round show` prints for a scheduled round.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.domain.roundchecks import invitation_preview
from bot.domain.rounds import RoundInfo
from bot.domain.runtime import Runtime
from bot.domain.storedata import ImportFailed
from bot.startup import open_database
from bot.texts import t_plain
from storage.db import Database, async_url
from storage.statuses import RoundStatus

#: Commands that may create a SQLite database that does not exist yet.
CREATORS = frozenset({"import", "run", "demo"})
#: `link --all` reports its progress on stderr every this many links once a run is this long.
PROGRESS_EVERY = 1000


class CommandError(Exception):
    """The command cannot do what was asked; the message says why in one line."""


def installed_version() -> str:
    try:
        return version("redheart")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def register(parser: argparse.ArgumentParser, sub: argparse._SubParsersAction[Any],
             common: argparse.ArgumentParser) -> None:
    """Adds --version and the `link` command."""
    parser.add_argument("--version", action="version", version=f"redheart {installed_version()}")
    link = sub.add_parser("link", parents=[common],
                          help="print a customer's deep link, or write every linkable customer's (--all)")
    link.add_argument("customer_id", nargs="?", metavar="CUSTOMER_ID")
    link.add_argument("--all", action="store_true",
                      help="every customer who can still link (not linked, not forgotten)")
    link.add_argument("--out", metavar="FILE.csv",
                      help="with --all: the CSV to write (customer_id,link,payload,expires_at)")
    link.set_defaults(run=cmd_link)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    full = async_url(url)
    if not full.startswith("sqlite"):
        return None
    path = full.split(":///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


@asynccontextmanager
async def command_database(config: Config, command: str) -> AsyncIterator[Database]:
    """The database a command works on. A missing SQLite file is an error for commands that only read
    or change existing data; for `import` it is created only if the import loads something."""
    path = sqlite_file(config.database_url)
    if path is None or path.exists():
        db = await open_database(config.database_url)
        try:
            yield db
        finally:
            await db.close()
        return
    if command not in CREATORS:
        raise CommandError(f"database {path}: cannot open it: no such file (only import, run and demo create "
                           "one); import the store's data first, or point database.url at the right file")
    folder_existed = path.parent.exists()
    staged = path.with_name(f"{path.name}.importing-{os.getpid()}")
    db = await open_database(f"{config.database_url.partition(':///')[0]}:///{staged}")
    keep = False
    try:
        yield db
        keep = True
    except ImportFailed as exc:
        keep = bool(exc.results)  # some files of the call did import: their rows must not be lost
        raise
    finally:
        await db.close()
        try:
            if keep:
                # A hard link never replaces a database another process created meanwhile.
                os.link(staged, path)
        except FileExistsError:
            raise CommandError(f"a database appeared at {path} during the import (another import or the bot?); "
                               "nothing was written to it: import again") from None
        finally:
            for leftover in (staged, staged.with_name(staged.name + "-wal"), staged.with_name(staged.name + "-shm")):
                leftover.unlink(missing_ok=True)
            if not keep and not folder_existed:
                path.parent.rmdir()  # the folder the staged database needed, and only that


async def bot_username(config: Config) -> str:
    """The bot's @username for deep links: `telegram.username`, else asked of the Bot API."""
    if config.telegram.username:
        return config.telegram.username.lstrip("@")
    if not config.telegram.token:
        raise CommandError("cannot print a link without the bot's username: set telegram.username "
                           "(or telegram.token, to ask the Bot API)")
    from telegram import Bot
    from telegram.error import TelegramError

    bot = Bot(config.telegram.token, base_url=config.telegram.base_url or "https://api.telegram.org/bot")
    try:
        async with bot:
            return str(bot.username)
    except (TelegramError, OSError) as exc:
        raise CommandError(f"cannot reach the Bot API to learn the bot's username ({exc}); "
                           "check telegram.token and the network, or set telegram.username") from None


def deep_link(username: str, payload: str) -> str:
    return f"https://t.me/{username}?start={payload}"


async def cmd_link(rt: Runtime[Config], args: argparse.Namespace) -> None:
    if args.all == bool(args.customer_id):
        raise CommandError("link: give one CUSTOMER_ID, or --all --out FILE.csv")
    if args.all and not args.out:
        raise CommandError("link --all: --out FILE.csv is required (a store's links do not belong on a terminal)")
    username = await bot_username(rt.config)  # before issuing anything: no token is spent on a failure
    if args.customer_id:
        from bot.domain import identity

        payload = await identity.issue_link_token(rt, args.customer_id)
        print(deep_link(username, payload))
        print(f"payload: {payload}")
        return
    await _write_links(rt, username, Path(args.out))


async def _write_links(rt: Runtime[Config], username: str, out: Path) -> None:
    from bot.domain import audit
    from bot.domain.linkmail import audience, issue_links

    who = await audience(rt)
    total, done = len(who.customer_ids), 0
    partial = out.with_name(out.name + ".partial")
    async with audit.audited(rt, "cli", "link.all", str(out)) as outcome:
        partial.unlink(missing_ok=True)
        partial.touch(mode=0o600)  # each link opens a buyer's account to whoever holds it: the operator's eyes only
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_id", "link", "payload", "expires_at"])
            async for batch in issue_links(rt, who.customer_ids):
                writer.writerows([link.customer_id, deep_link(username, link.payload), link.payload,
                                  link.expires_at.isoformat(timespec="seconds")] for link in batch)
                done += len(batch)
                if total >= PROGRESS_EVERY and (done % PROGRESS_EVERY < len(batch) or done == total):
                    print(f"links: {done}/{total}", file=sys.stderr, flush=True)
        partial.replace(out)
        outcome.result = f"{total} links"
    print(f"wrote {out}: {total} links (skipped {who.already_linked} already linked, {who.forgotten} forgotten)")


async def print_preview(rt: Runtime[Config], info: RoundInfo) -> None:
    """For a scheduled round: who opening it would invite, by eligibility rule, from today's data."""
    if info.status != RoundStatus.SCHEDULED:
        return
    p = await invitation_preview(rt, info.id)
    print("preview:     " + t_plain("en", "round.preview", buyers=p.buyers, eligible=p.eligible,
                                    would_invite=p.would_invite))
    if p.excluded:
        print("would leave out: " + ", ".join(f"{t_plain('en', f'rule.{rule}')} {n}" for rule, n in p.excluded.items()))
