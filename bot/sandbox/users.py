"""`SimUser`: a simulated Telegram user who talks to the bot through the sandbox.

Actions (`send`, `start`, `open_link`, `tap`, `share_contact`, `send_document`, `inline_query`,
`choose_inline_result`) return once the bot has finished reacting, so a test reads as a
conversation: do something, then look at what the bot shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sandbox.inline import MAX_QUERY, chosen_result_update, message_fields
from bot.sandbox.links import parse_bot_link, start_command
from bot.sandbox.models import (
    Alert,
    Button,
    Chat,
    InlineAnswer,
    InlineResult,
    JsonDict,
    StoredMessage,
    UpdateRecord,
    UserProfile,
)

if TYPE_CHECKING:
    from bot.sandbox.server import BotApiSandbox

_WAIT_FOR_POLL = 0.01


class SimUser:
    """A person in a private chat with the bot: sends, taps, shares, and reads what the bot shows."""

    def __init__(self, sandbox: BotApiSandbox, chat: Chat) -> None:
        if chat.user is None:
            raise ValueError("a simulated user needs a private chat")
        self._sandbox = sandbox
        self._chat = chat
        self.profile: UserProfile = chat.user

    def __repr__(self) -> str:
        return f"SimUser({self.profile.first_name!r}, id={self.id})"

    @property
    def id(self) -> int:
        return self.profile.id

    @property
    def first_name(self) -> str:
        return self.profile.first_name

    # --- actions ------------------------------------------------------------------------------

    async def send(self, text: str, *, wait: bool = True, expect_reply: bool = True) -> UpdateRecord:
        """Send a text message; a leading "/command" carries a bot_command entity as in real clients."""
        fields: JsonDict = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._send_message(fields, wait=wait, expect_reply=expect_reply)

    async def start(self, payload: str | None = None, *, wait: bool = True) -> UpdateRecord:
        """Press START, or arrive through a deep link carrying `payload`: sends "/start PAYLOAD".

        Like a Telegram client, drops a payload that is not 1-64 characters of [A-Za-z0-9_-] and
        sends plain "/start".
        """
        return await self.send(start_command(payload), wait=wait)

    async def open_link(self, url: str, *, wait: bool = True) -> UpdateRecord | None:
        """Open a link to the bot, e.g. "https://t.me/sandbox_bot?start=p_SKU1", as a client does.

        With a `start` parameter the client sends "/start PAYLOAD" (plain "/start" if the payload is
        invalid). Without one it opens the chat: a user who never started the bot presses START,
        anyone else sends nothing (returns None).
        """
        link = parse_bot_link(url)
        bot_username = str(self._sandbox.state.bot_user["username"])
        if link.username.lower() != bot_username.lower():
            raise AssertionError(f"{url!r} opens @{link.username}, not this sandbox's bot @{bot_username}")
        if link.start is None and self.profile.started:
            return None
        return await self.start(link.start, wait=wait)

    async def share_contact(
        self,
        phone: str,
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        forwarded: bool = False,
        wait: bool = True,
    ) -> UpdateRecord:
        """Share a contact: by default one's own; another `user_id` or `forwarded` simulates someone else's."""
        contact: JsonDict = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id if user_id is None else user_id,
        }
        fields: JsonDict = {"contact": contact}
        if forwarded:
            origin = {"id": contact["user_id"], "is_bot": False, "first_name": contact["first_name"]}
            fields["forward_origin"] = {"type": "user", "sender_user": origin, "date": int(time.time())}
        return await self._send_message(fields, wait=wait)

    async def send_document(
        self,
        filename: str,
        data: bytes,
        mime_type: str = "text/csv",
        *,
        caption: str | None = None,
        wait: bool = True,
    ) -> UpdateRecord:
        """Send a file the bot can fetch with getFile and download from the file URL."""
        stored = self._sandbox.state.store_file(data, file_name=filename, mime_type=mime_type, folder="documents")
        fields: JsonDict = {"document": stored.to_api()}
        if caption is not None:
            fields["caption"] = caption
        return await self._send_message(fields, wait=wait)

    async def tap(self, text: str, *, message: StoredMessage | None = None, wait: bool = True) -> UpdateRecord:
        """Press the inline button labelled `text` (or uniquely starting with it).

        Looks at `message`, else at the newest bot message that has inline buttons.
        """
        target = message or self._last_with_buttons()
        button = _find_button(target, text)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} has no callback_data (url={button.url!r})")
        return await self.tap_data(button.callback_data, target, wait=wait)

    async def tap_data(self, data: str, message: StoredMessage | None = None, *, wait: bool = True) -> UpdateRecord:
        """Send a callback query with raw `data`, as a forged or stale client could."""
        target = message or self.last_message
        query: JsonDict = {
            "id": self._sandbox.state.new_callback_query_id(),
            "from": self.profile.to_api(),
            "chat_instance": str(abs(hash((self.id, self._sandbox.token)))),
            "data": data,
        }
        if target.inline_message_id is not None:
            # A message sent via the bot lives in a chat the bot may not be in: Telegram names it by id.
            query["inline_message_id"] = target.inline_message_id
        else:
            query["message"] = self._sandbox.state.message_json(target)
        return await self._push({"callback_query": query}, wait=wait, expect_reply=True)

    # --- inline mode --------------------------------------------------------------------------

    async def inline_query(
        self, query: str, offset: str = "", *, chat_type: str = "sender", timeout: float | None = None
    ) -> InlineAnswer:
        """Type "@bot query" (a next page: the answer's `next_offset`); returns the bot's results.

        Waits for answerInlineQuery and fails with the bot's recent calls if none comes in `timeout`.
        """
        if len(query) > MAX_QUERY:
            raise ValueError(f"clients send inline queries of at most {MAX_QUERY} characters")
        query_id = self._sandbox.state.new_inline_query_id()
        body = {"id": query_id, "from": self.profile.to_api(), "query": query, "offset": offset, "chat_type": chat_type}
        record = self._sandbox.push_update({"inline_query": body})
        await self._sandbox.wait_handled(record, expect_reply=True, timeout=timeout)
        return self._sandbox.state.inline_answers[query_id]

    async def choose_inline_result(
        self, result: InlineResult, chat: SimUser | int | str, *, wait: bool = True
    ) -> StoredMessage:
        """Pick `result` and send it into `chat`: another user's private chat, a group, or (self) the bot's.

        The message shows "via @bot" (`via_bot`). The bot gets it as a message where it is a member
        (a group, its own chat), and as chosen_inline_result only if the sandbox has
        `inline_feedback` on, as with BotFather's /setinlinefeedback.
        """
        state = self._sandbox.state
        target, bot_is_member = self._inline_target(chat)
        fields = message_fields(state, result)
        message = state.add_message(
            target, from_bot=False, from_user=self.profile.to_api(), via_bot=self._sandbox.bot_username, **fields
        )
        if "inline_keyboard" in (message.reply_markup or {}):
            message.inline_message_id = state.new_inline_message_id()
            state.inline_messages[message.inline_message_id] = message
        updates = [{"message": state.message_json(message)}] if bot_is_member else []
        if self._sandbox.inline_feedback:
            updates.append(chosen_result_update(result, self.profile, message.inline_message_id))
        records = [self._sandbox.push_update(update) for update in updates]
        if wait:
            for record in records:
                await self._sandbox.wait_handled(record, expect_reply=False)
        return message

    def chat_with(self, other: SimUser) -> list[StoredMessage]:
        """The private chat between this user and `other` (the bot is not in it), oldest first."""
        return self._sandbox.state.peer_chat(self.profile, other.profile).history()

    def _inline_target(self, chat: SimUser | int | str) -> tuple[Chat, bool]:
        """The chat a picked result goes to, and whether the bot is in it."""
        state = self._sandbox.state
        if isinstance(chat, SimUser):
            return (self._chat, True) if chat.id == self.id else (state.peer_chat(self.profile, chat.profile), False)
        found = state.find(chat)
        if found is not None and found.user is not None:
            other = found.user
            return (self._chat, True) if other.id == self.id else (state.peer_chat(self.profile, other), False)
        if found is None or found.type not in ("group", "supergroup"):
            raise ValueError(f"{chat!r} is not a user or a group of this sandbox (add_channel(..., kind='group'))")
        return found, True

    def block(self) -> None:
        """Block the bot: its sends to this user now fail with 403."""
        self.profile.blocked = True

    def unblock(self) -> None:
        self.profile.blocked = False

    async def wait_for(self, predicate: Callable[[SimUser], Any], timeout: float = 10.0) -> None:
        """Wait for something the bot does later on its own (e.g. a scheduled invitation)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self!r}: condition still false after {timeout:g}s; bot messages: {self._texts()}"
                )
            await asyncio.sleep(_WAIT_FOR_POLL)

    # --- reading ------------------------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        """Bot messages in this chat, oldest first, as currently shown (edits applied, deletions gone)."""
        return self._chat.visible_messages(from_bot=True)

    @property
    def last_message(self) -> StoredMessage:
        messages = self.messages
        if not messages:
            raise AssertionError(f"{self!r} has no messages from the bot")
        return messages[-1]

    @property
    def alerts(self) -> list[Alert]:
        """The bot's answers to this user's taps, oldest first."""
        return self.profile.alerts

    @property
    def last_alert(self) -> Alert:
        if not self.alerts:
            raise AssertionError(f"{self!r} got no callback query answers")
        return self.alerts[-1]

    # --- internals ----------------------------------------------------------------------------

    async def _send_message(self, fields: JsonDict, *, wait: bool, expect_reply: bool = True) -> UpdateRecord:
        self.profile.started = True
        message = self._sandbox.state.add_message(self._chat, from_bot=False, extra=fields)
        payload = {"message": self._sandbox.state.message_json(message)}
        return await self._push(payload, wait=wait, expect_reply=expect_reply)

    async def _push(self, payload: JsonDict, *, wait: bool, expect_reply: bool) -> UpdateRecord:
        record = self._sandbox.push_update(payload)
        if wait:
            await self._sandbox.wait_handled(record, expect_reply=expect_reply)
        return record

    def _last_with_buttons(self) -> StoredMessage:
        for message in reversed(self.messages):
            if message.buttons:
                return message
        raise AssertionError(f"{self!r} has no bot message with inline buttons; bot messages: {self._texts()}")

    def _texts(self) -> list[str | None]:
        return [m.text if m.text is not None else m.caption for m in self.messages]


def _find_button(message: StoredMessage, text: str) -> Button:
    """Exact label first, then a unique prefix, else a failure listing what is there."""
    buttons = [button for row in message.buttons for button in row]
    exact = [b for b in buttons if b.text == text]
    if exact:
        return exact[0]
    prefixed = [b for b in buttons if b.text.startswith(text)]
    if len(prefixed) == 1:
        return prefixed[0]
    problem = "is ambiguous" if prefixed else "matches no button"
    raise AssertionError(f"{text!r} {problem} on message {message.message_id}; buttons: {message.button_texts}")
