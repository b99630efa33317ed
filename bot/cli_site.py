"""`redheart site --out DIR`: writes the public scorecard site (see bot/site)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.domain.runtime import Runtime


async def cmd_site(rt: Runtime[Config], args: argparse.Namespace) -> None:
    from bot.site import build_site  # Jinja2 loads only for this command

    out = Path(args.out or rt.config.site.out or "site")
    summary = await build_site(rt, out, args.base_url or rt.config.site.base_url)
    print(f"wrote {summary.files} files to {summary.out}: {summary.products} products in {summary.categories} "
          f"categories; open {summary.out / 'index.html'}")


def add_site_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Registers `site` on the CLI's subcommands."""
    site = sub.add_parser("site", parents=[common],
                          help="write the public scorecard site: HTML in both languages, feed.json, badges")
    site.add_argument("--out", metavar="DIR", help="where to write it (default: site.out, else ./site)")
    site.add_argument("--base-url", metavar="URL", help="where the site is served: the badge snippet links there "
                      "(default: site.base_url)")
    site.set_defaults(run=cmd_site)
