"""The admin tests drive the same real bot as the conversation tests: reuse its harness fixture."""

from tests.conversations.conftest import h  # noqa: F401
