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
(64-byte callback data, 4096-char text, 1024-char captions, HTML parsing, 403 for users who never
started or blocked the bot, 429 past configurable flood limits, "message is not modified"), records
every call (`calls`, `stats`, `on_call`, `faulted_calls`), hosts channels and groups (`add_channel`,
`chat_messages`, `chat_history`) and keeps the bot's profile (`commands`, `menu_for`, `description`,
`short_description`). The network between bot and sandbox can fail or be slow:

    sandbox.inject_fault("429" | "500" | "disconnect" | "timeout_after_delivery", "sendMessage",
                         chat=alice, count=1, retry_after=1, hang=6.0)
    sandbox.latency = 0.05                      # or set_latency(0.2, method="sendPhoto")

`SimUser` is a simulated person: `send`, `start(payload)`, `open_link(url)`, `tap`, `tap_data`,
`share_contact`, `send_document`, `inline_query`, `choose_inline_result`, `block`, `wait_for`, and
the reading side `messages`, `last_message`, `alerts`, `chat_with(other)`:

    results = await alice.inline_query("shampoo")      # waits for answerInlineQuery
    await alice.choose_inline_result(results[0], chat=bob)
    assert bob.chat_with(alice)[-1].via_bot == sandbox.bot_username
"""

from bot.sandbox.models import Alert, ApiCall, Button, InlineAnswer, InlineResult, StoredMessage, UpdateRecord
from bot.sandbox.network import FaultKind
from bot.sandbox.profile import MenuCommand
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser

__all__ = [
    "Alert",
    "ApiCall",
    "BotApiSandbox",
    "Button",
    "FaultKind",
    "InlineAnswer",
    "InlineResult",
    "MenuCommand",
    "SimUser",
    "StoredMessage",
    "UpdateRecord",
]
