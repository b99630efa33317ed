"""The rules of the round, Telegram-agnostic: called alike by handlers, scheduler jobs and the CLI.

Nothing in this package imports telegram or any other module of `bot` (tests/unit/test_layers.py
keeps it so): it reads its `settings`, the database (`storage`) and the scoring library.

- `settings`: the config sections it reads and their defaults, the languages, the scoring method;
- `rounds` (schedule, open, close, cancel, report), `eligibility` (who may rate), `outbox` (messages
  owed: invitations, reminders, scorecards, thanks), `scorecards` and `ballot_rows` (to and from
  scoring);
- `ballot_rule` (what a move does: pure), `ballots` (recording it: compare-and-set), `ballot_views`
  (what the screens show and the rater's lists);
- `identity` and `phones` (linking a Telegram user to a customer), `people`, `privacy` (/forgetme),
  `audit`, `exports`, `storedata` (importing the store's files);
- `runtime`, `clock`, `durations`, `memo` and `errors`: what the others need.
"""
