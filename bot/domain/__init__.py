"""The rules of the round, Telegram-agnostic: called alike by handlers, scheduler jobs and the CLI.

Nothing in this package imports telegram.
"""
