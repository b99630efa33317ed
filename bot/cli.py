"""`redheart`: the command line. Each command parses, calls one service, prints, and exits.

Exit 0 on success; otherwise non-zero with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli_admin import CommandError, command_database, print_preview
from bot.cli_admin import register as register_admin_commands
from bot.cliargs import Parser, add_output, method_file, whole, write_export
from bot.config import Config, ConfigError, load_config
from bot.domain import audit, rounds
from bot.domain.clock import parse_time
from bot.domain.durations import MAX_ROUND_LENGTH, DurationError, parse_duration
from bot.domain.errors import DomainError
from bot.domain.numbers import shown
from bot.domain.runtime import Runtime
from bot.redaction import redact_logs
from bot.roundview import status_label
from bot.startup import StartupError, describe_unexpected
from bot.texts import error_message, products_why
from bot.texts import t_plain as t

Command = Callable[[Runtime[Config], argparse.Namespace], Awaitable[None]]


class UsageError(Exception):
    """A bad argument; the message says which and what is expected."""


def _domain_message(error: DomainError) -> str:
    """The English text of a domain error, unescaped: a terminal is not HTML."""
    return error_message(error, "en", plain=True)


async def cmd_import(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.domain.storedata import import_files

    async with audit.audited(rt, "cli", "import", " ".join(args.files)) as outcome:
        results = await import_files(rt.db, args.files, secret=rt.config.require_secret(),
                                     region=rt.config.identity.default_region)
        outcome.result = "; ".join(f"{r.file}: +{r.added} ~{r.updated}" for r in results)
    for r in results:
        print(f"{r.file}: {r.kind}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged")


def _when(value: datetime, zone: ZoneInfo) -> str:
    """A time in the store's zone with its offset, e.g. "2026-11-08 20:00+08:00"."""
    return value.astimezone(zone).isoformat(sep=" ", timespec="minutes")


async def cmd_round_new(rt: Runtime[Config], args: argparse.Namespace) -> None:
    try:
        duration = parse_duration(args.duration, MAX_ROUND_LENGTH) if args.duration else None
        opens_at = parse_time(args.opens_at, rt.config.zone) if args.opens_at else None
    except DurationError as exc:
        raise UsageError(f"--duration: {_domain_message(exc)}") from None
    except ValueError:
        raise UsageError(f"--opens-at: {shown(args.opens_at)!r} is not an ISO-8601 time") from None
    detail = " ".join(str(x) for x in (args.sku, args.duration, args.quota, args.opens_at, args.force) if x)
    async with audit.audited(rt, "cli", "round.new", detail) as outcome:
        round_id = await rounds.schedule_round(rt, args.sku, actor="cli", duration=duration, quota=args.quota,
                                               opens_at=opens_at, force=args.force)
        outcome.result = f"round {round_id}"
    print(round_id)
    if opens_at is not None:  # stderr: stdout stays the id alone, for scripts
        print(f"round {round_id} opens {_when(opens_at, rt.config.zone)} (--opens-at without a zone is read in "
              f"bot.timezone = {rt.config.bot.timezone})", file=sys.stderr)


async def cmd_round_list(rt: Runtime[Config], args: argparse.Namespace) -> None:
    infos = await rounds.list_rounds(rt, limit=args.limit)
    if not infos:
        print("no rounds yet")
    zone = rt.config.zone
    for i in infos:
        status = status_label(rt.config, i, "en")
        print(f"{i.id:>5}  {i.sku:<16} {status:<12} opens {_when(i.opens_at, zone)}"
              f"  closes {_when(i.closes_at, zone)}"
              f"  invited {i.stats.invited}  submitted {i.stats.submitted}")


async def cmd_round_show(rt: Runtime[Config], args: argparse.Namespace) -> None:
    i = await rounds.round_info(rt, args.id)
    s = i.stats
    print(f"round {i.id}: {i.product} ({i.sku}){' [forced]' if i.forced else ''}")
    print(f"status:      {status_label(rt.config, i, 'en')}")
    print(f"opens:       {_when(i.opens_at, rt.config.zone)}")
    print(f"closes:      {_when(i.closes_at, rt.config.zone)}")
    print(f"quota:       {i.quota}")
    print(f"eligible {s.eligible}, sampled {s.sampled}, invited {s.invited}, delivered {s.delivered}, "
          f"unreachable {s.unreachable}, started {s.started}, submitted {s.submitted}")
    rate = f"{s.response_rate:.1%}" if s.response_rate is not None else "—"
    accepted = s.accepted if s.accepted is not None else "— (counted at close)"
    print(f"response:    {rate} (submitted/delivered), accepted {accepted}"
          + (f", in doubt {s.in_doubt}" if s.in_doubt else ""))
    if i.excluded_by_rule:
        print("left out:    " + ", ".join(f"{rule} {n}" for rule, n in i.excluded_by_rule.items()))
    await print_preview(rt, i)


async def cmd_round_close(rt: Runtime[Config], args: argparse.Namespace) -> None:
    async with audit.audited(rt, "cli", "round.close", str(args.id)):
        await rounds.admin_close(rt, args.id)
    print(f"round {args.id} closed; the running bot publishes its scorecard at its next tick")


async def cmd_round_cancel(rt: Runtime[Config], args: argparse.Namespace) -> None:
    async with audit.audited(rt, "cli", "round.cancel", str(args.id)):
        await rounds.cancel_round(rt, args.id)
    print(f"round {args.id} cancelled")


async def cmd_report(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.publishing import chart
    from bot.scorecard_text import render_text

    report = await rounds.report(rt, args.id)
    info = await rounds.round_info(rt, args.id)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    elif args.format == "png":
        out = Path(args.out or f"round-{args.id}.png")
        closed = (await rounds.get_round(rt, args.id)).closed_at
        out.write_bytes(await chart(report, info.product, args.lang, closed, rt.config.zone))
        print(f"wrote {out}")
    else:
        print(render_text(report, args.lang, title=info.product))


async def cmd_audit(rt: Runtime[Config], args: argparse.Namespace) -> None:
    since = None
    if args.since:
        try:
            since = parse_time(args.since, rt.config.zone)
        except ValueError:
            raise UsageError(f"--since: not an ISO-8601 time: {args.since!r}") from None
    for e in await audit.entries(rt, since):
        print(f"{e.at.isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t{e.detail}\t{e.result}")


async def cmd_export(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.domain.exports import export_round

    out = Path(args.out)
    async with audit.audited(rt, "cli", "export", f"{args.id} -> {out}"):
        text, document = await export_round(rt, args.id)
    write_export(out, text, document, "ballots")


def cmd_score(args: argparse.Namespace) -> None:
    """Scores a CSV with the published method; needs no database or config."""
    from bot.domain.exports import score_export
    from bot.scorecard_text import render_text

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    method = method_file(path)
    document = json.loads(method.read_text(encoding="utf-8")) if method.is_file() else None
    try:
        report = score_export(str(path), path.read_text(encoding="utf-8"), document)
    except ValueError as exc:
        raise UsageError(f"{method}: {exc}") from None
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(render_text(report, args.lang, title=str(report.get("sku") or path.name)))
        print("\n" + t(args.lang, "scorecard.explain"))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="redheart",
        description="Little Red Heart rating rounds on Telegram: verified buyers, one vote each, honest scorecards.",
    )
    common = Parser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: $REDHEART_CONFIG, else defaults)")
    common.add_argument("--debug", action="store_true", help="on failure, show the traceback too")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="run the bot (polling or webhook, per config) with its scheduler")
    demo = sub.add_parser("demo", parents=[common], help="offline demo: a whole round with simulated buyers")
    demo.add_argument("--out", default="demo-out", help="folder for the chart and the database (default demo-out)")
    demo.add_argument("--quiet", action="store_true", help="print only the scorecard")
    demo.add_argument("--seed", type=int, default=1, help="the simulated people's choices (default 1)")
    demo.add_argument("--research", action="store_true", help="first a research round that picks the factors")

    imp = sub.add_parser("import", parents=[common], help="load products/customers/purchases CSV and categories TOML")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.set_defaults(run=cmd_import)

    register_admin_commands(parser, sub, common)  # --version, link [--all] (bot/cli_admin.py)

    rnd = sub.add_parser("round", help="manage rounds")
    rsub = rnd.add_subparsers(dest="round_command", required=True, metavar="ACTION")
    new = rsub.add_parser("new", parents=[common], help="schedule a round, print its id")
    new.add_argument("sku", metavar="SKU")
    new.add_argument("--duration", metavar="D", help="e.g. 45s, 15m, 2h, 7d (default rounds.default_duration)")
    new.add_argument("--quota", type=whole("--quota"), metavar="N",
                     help="invitations at most (default rounds.invitation_quota)")
    new.add_argument("--opens-at", metavar="ISO", help="when it opens (default now); a time without a zone, "
                     "e.g. 2026-11-08T20:00, is read in bot.timezone (default Asia/Shanghai)")
    new.add_argument("--force", action="store_true", help="open even if the product misses the eligibility thresholds")
    new.set_defaults(run=cmd_round_new)
    lst = rsub.add_parser("list", parents=[common], help="recent rounds")
    lst.add_argument("--limit", type=whole("--limit"), default=50)
    lst.set_defaults(run=cmd_round_list)
    for name, func, text in (("show", cmd_round_show, "one round in detail"),
                             ("close", cmd_round_close, "close a round now"),
                             ("cancel", cmd_round_cancel, "cancel a round")):
        p = rsub.add_parser(name, parents=[common], help=text)
        p.add_argument("id", type=whole("ID"), metavar="ID")
        p.set_defaults(run=func)

    rep = sub.add_parser("report", parents=[common], help="a round's scorecard")
    rep.add_argument("id", type=whole("ID"), metavar="ID")
    add_output(rep, ("text", "json", "png"), "with --format png: where to write (default round-ID.png)")
    rep.set_defaults(run=cmd_report)

    exp = sub.add_parser("export", parents=[common], help="a round's ballots, anonymised, to recompute its score")
    exp.add_argument("id", type=whole("ID"), metavar="ID")
    exp.add_argument("--out", required=True, metavar="FILE.csv", help="also writes FILE.method.json beside it")
    exp.set_defaults(run=cmd_export)

    score = sub.add_parser("score", parents=[common], help="score exported (or any) ballots with the published method")
    score.add_argument("file", metavar="FILE.csv")
    add_output(score, ("text", "json"))

    from bot.cli_research import add_research

    add_research(sub, common)

    aud = sub.add_parser("audit", parents=[common], help="the audit log of admin actions (tab-separated)")
    aud.add_argument("--since", metavar="ISO", help="only entries at or after this time"
                     " (without a zone: in bot.timezone)")
    aud.set_defaults(run=cmd_audit)

    prod = sub.add_parser("products", parents=[common], help="products ranked by popularity and sales, vs thresholds")
    prod.add_argument("--eligible", action="store_true", help="only products that meet both thresholds")
    prod.set_defaults(run=cmd_products)

    from bot.cli_site import add_site_command

    add_site_command(sub, common)

    bench = sub.add_parser("bench", parents=[common],
                           help="performance benchmark: rating throughput against PTB's floor, scoring, memory")
    bench.add_argument("--part", action="append", choices=("throughput", "scoring", "memory", "invitations"),
                       help="run only this part (repeatable); default: throughput, scoring and memory")
    bench.add_argument("--raters", type=int, default=700, metavar="R",
                       help="throughput: raters' worth of taps measured a side, R/P a window (default 700)")
    bench.add_argument("--pairs", type=int, metavar="P",
                       help="pairs of ours and the floor: throughput's windows with both bots at once on one "
                            "CPU (default 28), scoring's alternating runs (default 5); at least 5")
    bench.add_argument("--concurrency", type=int, default=50, metavar="C",
                       help="throughput: raters tapping at a time (default 50)")
    bench.add_argument("--sizes", default="1000,10000,100000", metavar="N,N",
                       help="scoring: round sizes in ballots (default 1000,10000,100000)")
    bench.add_argument("--open-ballots", type=int, default=10_000, metavar="N",
                       help="memory: ballots in progress (default 10000)")
    bench.add_argument("--profile", metavar="FILE",
                       help="throughput: profile our side (FILE.pstats: cProfile; else pyinstrument text)")
    bench.add_argument("--invitations", type=int, metavar="N", help="run a campaign of N invitations")
    bench.add_argument("--limit", type=float, default=30.0, metavar="R", help="sandbox flood limit, msg/s (default 30)")
    bench.add_argument("--restart-at", type=int, metavar="K", help="restart the bot after K invitations")
    bench.add_argument("--kill-at", type=int, metavar="K",
                       help="SIGKILL the bot process after K invitations, then start another")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


async def cmd_products(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.domain.eligibility import rank_products

    rules = rt.config.eligibility
    ranked = await rank_products(rt.db, rules, eligible_only=args.eligible)
    print(t("en", "products.header", min_popularity=rules.product_min_popularity, min_sales=rules.product_min_sales))
    for p in ranked:
        print(t("en", "products.line", mark="✓" if p.eligible else "✗", sku=p.sku, name=p.name,
                popularity=p.popularity, sales=p.sales_volume, why=products_why(p.problems, "en")))
    if not ranked:
        print(t("en", "products.none"))


async def _with_runtime(config: Config, command: Command, args: argparse.Namespace) -> None:
    async with command_database(config, args.command) as db:
        await command(Runtime(db, config), args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A tick skipped because the previous one is still sending is normal, not worth a warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    config: Config | None = None
    redact_logs()  # bot tokens in the libraries' URLs; the configured secrets too, once known
    try:
        config = load_config(getattr(args, "config", None))
        redact_logs(config.secrets())
        if args.command == "run":
            from bot.runner import run

            run(config)
        elif args.command == "score":
            cmd_score(args)
        elif offline := getattr(args, "offline", None):  # e.g. `research score`: no database
            offline(args)
        elif args.command == "bench":
            from bot.bench.command import bench

            return asyncio.run(bench(args))
        elif args.command == "demo":
            from bot.demo.story import run_demo

            return asyncio.run(run_demo(config, out=args.out, quiet=args.quiet, seed=args.seed,
                                        research=args.research))
        else:
            asyncio.run(_with_runtime(config, args.run, args))
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except DomainError as exc:
        return _fail(_domain_message(exc))
    except StartupError as exc:
        if getattr(args, "debug", False):
            raise
        return _fail(str(exc))
    except (UsageError, CommandError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the SPEC's one line for anything else too; --debug for the traceback
        if getattr(args, "debug", False):
            raise
        return _fail(describe_unexpected(exc, config.secrets() if config else ()))
    return 0


def _fail(message: str) -> int:
    print(f"redheart: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())


