"""`redheart bench`: checks its arguments, runs the parts asked for, prints what they measured."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from dataclasses import asdict
from typing import Any

from bot.bench.campaign import run_invitation_bench
from bot.bench.pairs import MIN_PAIRS, THROUGHPUT_PAIRS
from bot.bench.report import PARTS, render, run_parts


async def bench(args: Any) -> int:
    """The `redheart bench` command; returns the exit code."""
    parts = tuple(args.part or ())
    if args.invitations is not None or parts == ("invitations",):
        return await _invitations(args)
    if "invitations" in parts:
        print("redheart: the invitation campaign runs alone: `redheart bench --invitations N`", file=sys.stderr)
        return 2
    try:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    except ValueError:
        sizes = ()
    if args.raters < 1 or args.concurrency < 1 or args.open_ballots < 1 or not sizes or min(sizes) < 1:
        print("redheart: --raters, --concurrency, --open-ballots and --sizes must be positive", file=sys.stderr)
        return 2
    if args.pairs is not None and args.pairs < MIN_PAIRS:
        print(f"redheart: --pairs must be at least {MIN_PAIRS}: fewer cannot bound the median", file=sys.stderr)
        return 2
    if args.profile and not args.profile.endswith(".pstats") and importlib.util.find_spec("pyinstrument") is None:
        print("redheart: --profile FILE needs pyinstrument (pip install 'redheart[dev]'), "
              "or name the file *.pstats for cProfile", file=sys.stderr)
        return 2
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    results = await run_parts(parts or PARTS, raters=args.raters, concurrency=args.concurrency, sizes=sizes,
                              open_ballots=args.open_ballots, pairs=args.pairs or MIN_PAIRS,
                              throughput_pairs=args.pairs or THROUGHPUT_PAIRS, profile=args.profile)
    print(json.dumps(results) if args.json else render(results))
    failed = [p for backend in results.values() for p in (backend.get("throughput"), backend.get("memory"))
              if p is not None and (p.get("errors") or p.get("ours", {}).get("errors"))]
    return 1 if failed else 0


async def _invitations(args: Any) -> int:
    """`redheart bench --invitations N`: the campaign against the sandbox's flood limits."""
    if args.invitations is None:
        print("redheart: the invitation benchmark needs --invitations N", file=sys.stderr)
        return 2
    if args.invitations < 1 or args.limit <= 0 or any(k is not None and k < 1 for k in (args.restart_at, args.kill_at)):
        print("redheart: --invitations, --limit, --restart-at and --kill-at must be positive", file=sys.stderr)
        return 2
    if args.restart_at is not None and args.kill_at is not None:
        print("redheart: --restart-at (a clean stop) and --kill-at (SIGKILL) are two different runs; "
              "choose one", file=sys.stderr)
        return 2
    if any(k is not None and k >= args.invitations for k in (args.restart_at, args.kill_at)):
        print("redheart: --restart-at and --kill-at must be fewer than --invitations", file=sys.stderr)
        return 2
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    result = await run_invitation_bench(args.invitations, args.limit, restart_at=args.restart_at,
                                        kill_at=args.kill_at)
    print(json.dumps(asdict(result) | {"in_doubt": result.in_doubt, "ok": result.ok}) if args.json
          else result.text())
    return 0 if result.ok else 1
