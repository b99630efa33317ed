"""A loopback Telegram Bot API for tests, `redheart demo` and benchmarks.

    async with BotApiSandbox(per_chat_limit=1) as sandbox:
        app = (ApplicationBuilder().token(sandbox.token)
               .base_url(sandbox.base_url).base_file_url(sandbox.base_file_url).build())
        ...  # start the app polling (or with a webhook)
        alice = sandbox.user("Alice")
        await alice.send("/start")        # returns once the bot has finished reacting
        await alice.tap("4")              # presses the inline button labelled "4"
        assert "Thanks" in alice.last_message.text

`BotApiSandbox` serves the Bot API methods the project uses with Telegram's limits and error wording
(64-byte callback data, 4096-char text, HTML parsing, 403 for users who never started or blocked the
bot, 429 past configurable flood limits), records every call (`calls`, `stats`, `on_call`), injects
faults (`inject_429`, `inject_network_error`) and hosts channels (`add_channel`, `chat_messages`).
`SimUser` is a simulated person: `send`, `tap`, `tap_data`, `share_contact`, `send_document`,
`block`, `wait_for`, and the reading side `messages`, `last_message`, `alerts`.
"""

from bot.sandbox.models import Alert, ApiCall, Button, StoredMessage, UpdateRecord
from bot.sandbox.profile import MenuCommand
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser

__all__ = ["Alert", "ApiCall", "BotApiSandbox", "Button", "MenuCommand", "SimUser", "StoredMessage", "UpdateRecord"]
