"""`redheart research …`: factor research rounds from the command line.

    research new CATEGORY [--duration D] [--quota N]     schedule one opening now, print its id
    research list | show ID                              what ran, and one in detail
    research report ID [--format text|json|png]          the result (png: the importance chart)
    research export ID --out F.csv                       the responses, pseudonymous, + F.method.json
    research score F.csv [--format text|json]            recompute the result from an export alone
    research adopt ID [--top K | --keys a,b,c]           the category's next factor set version
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cliargs import add_output, method_file, write_export
from bot.config import Config
from bot.domain import audit, research
from bot.domain.durations import MAX_ROUND_LENGTH, DurationError, parse_duration
from bot.domain.errors import BadInput
from bot.domain.runtime import Runtime

ACTOR = "cli"


def _category_name(report: dict[str, Any], lang: str) -> str:
    return str(report.get(f"category_{lang}") or report.get("category", ""))


async def cmd_new(rt: Runtime[Config], args: argparse.Namespace) -> None:
    try:
        duration = parse_duration(args.duration, MAX_ROUND_LENGTH) if args.duration else None
    except DurationError as exc:
        from bot.cli import UsageError, _domain_message

        raise UsageError(f"--duration: {_domain_message(exc)}") from None
    detail = " ".join(str(x) for x in (args.category, args.duration, args.quota) if x)
    async with audit.audited(rt, ACTOR, "research.new", detail) as outcome:
        research_id = await research.schedule(rt, args.category, actor=ACTOR, duration=duration, quota=args.quota)
        outcome.result = f"research {research_id}"
    print(research_id)


def _when(info: research.ResearchInfo) -> str:
    return f"opens {info.opens_at:%Y-%m-%d %H:%M} UTC, closes {info.closes_at:%Y-%m-%d %H:%M} UTC"


async def cmd_list(rt: Runtime[Config], args: argparse.Namespace) -> None:
    infos = await research.list_research(rt, limit=args.limit)
    if not infos:
        print("no research rounds yet")
    for i in infos:
        adopted = f"  adopted as v{i.adopted_version}" if i.adopted_version else ""
        print(f"{i.id:>5}  {i.category:<16} {i.status:<12} {_when(i)}  invited {i.invited}  "
              f"submitted {i.submitted}{adopted}")


async def cmd_show(rt: Runtime[Config], args: argparse.Namespace) -> None:
    i = await research.info(rt, args.id)
    print(f"research {i.id}: {i.category}")
    print(f"status:      {i.status}")
    print(f"schedule:    {_when(i)}")
    print(f"quota:       {i.quota}")
    print(f"factor set:  v{i.factor_set or '—'} in force at opening"
          + (f"; adopted as v{i.adopted_version}" if i.adopted_version else ""))
    print(f"candidates {i.candidates}, eligible {i.eligible}, invited {i.invited}, delivered {i.delivered}, "
          f"started {i.started}, submitted {i.submitted}")


def _print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    from bot.research_screens import result_lines

    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print("\n".join(result_lines(report, args.lang, _category_name(report, args.lang))))


async def cmd_report(rt: Runtime[Config], args: argparse.Namespace) -> None:
    report = await research.report(rt, args.id)
    if args.format == "png":
        from bot.research_screens import chart_png

        out = Path(args.out or f"research-{args.id}-{args.lang}.png")
        out.write_bytes(chart_png(report, args.lang, _category_name(report, args.lang)))
        print(f"wrote {out}")
        return
    _print_report(report, args)


async def cmd_export(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.domain.research_export import export_research

    out = Path(args.out)
    async with audit.audited(rt, ACTOR, "research.export", f"{args.id} -> {out}"):
        text, document = await export_research(rt, args.id)
    write_export(out, text, document, "answered sets")


def cmd_score(args: argparse.Namespace) -> None:
    """Recomputes a result from an export and its method file; needs no database or config."""
    from bot.domain.research_export import score_export

    path, method = Path(args.file), method_file(Path(args.file))
    if not path.is_file():
        raise BadInput(detail=f"{path}: no such file")
    if not method.is_file():
        raise BadInput(detail=f"{method}: no such file (research export writes it beside the CSV)")
    try:
        document = json.loads(method.read_text(encoding="utf-8"))
        report = score_export(str(path), path.read_text(encoding="utf-8"), document)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(detail=f"{path}: {exc}") from None
    _print_report(report, args)


async def cmd_adopt(rt: Runtime[Config], args: argparse.Namespace) -> None:
    keys = [k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None
    if args.top is not None and not research.MIN_TOP <= args.top <= research.MAX_TOP:
        raise BadInput(detail=f"--top must be between {research.MIN_TOP} and {research.MAX_TOP}, got {args.top}")
    detail = f"{args.id} " + (f"--keys {','.join(keys)}" if keys else f"--top {args.top or research.DEFAULT_TOP}")
    async with audit.audited(rt, ACTOR, "research.adopt", detail) as outcome:
        version, chosen = await research.adopt(rt, args.id, actor=ACTOR, top=args.top, keys=keys)
        outcome.result = f"factor set v{version}: {','.join(chosen)}"
    print(f"factor set v{version}: {', '.join(chosen)}")


def add_research(sub: Any, common: argparse.ArgumentParser) -> None:
    """Registers `redheart research …` on the main parser's subcommands."""
    top = sub.add_parser("research", help="factor research rounds: which factors buyers say matter most")
    rs = top.add_subparsers(dest="research_command", required=True, metavar="ACTION")
    new = rs.add_parser("new", parents=[common], help="schedule a research round of a category, print its id")
    new.add_argument("category", metavar="CATEGORY")
    new.add_argument("--duration", metavar="D", help="e.g. 2h, 7d (default rounds.default_duration)")
    new.add_argument("--quota", type=int, metavar="N", help="invitations at most (default rounds.invitation_quota)")
    new.set_defaults(run=cmd_new)
    lst = rs.add_parser("list", parents=[common], help="recent research rounds")
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(run=cmd_list)
    show = rs.add_parser("show", parents=[common], help="one research round in detail")
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(run=cmd_show)
    rep = rs.add_parser("report", parents=[common], help="the result: ranking, shares, intervals")
    rep.add_argument("id", type=int, metavar="ID")
    add_output(rep, ("text", "json", "png"), "with --format png: where to write")
    rep.set_defaults(run=cmd_report)
    exp = rs.add_parser("export", parents=[common], help="the responses, pseudonymous, to recompute the result")
    exp.add_argument("id", type=int, metavar="ID")
    exp.add_argument("--out", required=True, metavar="F.csv", help="also writes F.method.json beside it")
    exp.set_defaults(run=cmd_export)
    score = rs.add_parser("score", parents=[common], help="recompute a result from an export")
    score.add_argument("file", metavar="F.csv")
    add_output(score, ("text", "json"))
    score.set_defaults(offline=cmd_score)
    adopt = rs.add_parser("adopt", parents=[common], help="make the top K (5-10) the category's next factor set")
    adopt.add_argument("id", type=int, metavar="ID")
    choice = adopt.add_mutually_exclusive_group()
    choice.add_argument("--top", type=int, metavar="K", help=f"the K best-ranked (default {research.DEFAULT_TOP})")
    choice.add_argument("--keys", metavar="a,b,c", help="these candidates (5-10), by key")
    adopt.set_defaults(run=cmd_adopt)
