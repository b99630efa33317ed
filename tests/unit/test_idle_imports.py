"""What a running bot loads before it does anything: not what only some commands or events need
(matplotlib draws a chart, Jinja2 builds the site, aiohttp serves metrics, the tooling runs the CLI's
own commands) — each is tens of MB of idle RSS (`redheart bench --part memory`)."""

from __future__ import annotations

import json
import subprocess
import sys

LOADED_ON_DEMAND = ("matplotlib", "PIL", "jinja2", "aiohttp", "bot.site.build", "bot.sandbox", "bot.bench",
                    "bot.demo")


def test_the_bot_and_its_runner_load_none_of_what_only_some_commands_need() -> None:
    probe = ("import json, sys, bot.app, bot.runner; "
             f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {LOADED_ON_DEMAND!r} "
             f"or m.startswith({LOADED_ON_DEMAND!r}))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []
