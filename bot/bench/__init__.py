"""`redheart bench`: the performance benchmark, tooling beside the bot (the CLI imports it lazily).

- `command`: the command itself (`bot.bench.command.bench`); `report`: the parts on every backend and their targets;
- `throughput` (ours against PTB's floor, `floor`), `scoring` (at scale, as closing does), `memory`,
  and `campaign` (`--invitations N`: the outbox against the sandbox's flood limits);
- `fixtures` (the database, config and buyers every part starts from), `driver` (simulated raters and
  the event-loop monitor) and `child` (each measured bot in a process of its own).
"""
