"""The shopper-facing tests drive the real bot through the sandbox: reuse the conversation harness."""

from tests.conversations.conftest import h  # noqa: F401
