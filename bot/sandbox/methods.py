"""The Bot API methods the sandbox implements, with Telegram's validation and error wording.

Each method takes `Params` and returns the `result` value or raises `ApiError`; the HTTP layer adds
the envelope. Checks run in Telegram's order where it matters to bots: the chat (400/403) first, then
the content (400), then flood control (429), so a refused send is never counted against a limit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

from bot.sandbox import errors
from bot.sandbox.content import MAX_CAPTION, format_text, inline_keyboard, message_text
from bot.sandbox.errors import bad_request, conflict, forbidden, too_many_requests
from bot.sandbox.flood import FloodControl
from bot.sandbox.html import ParsedText
from bot.sandbox.models import Alert, Chat, JsonDict, StoredFile, StoredMessage
from bot.sandbox.params import Params
from bot.sandbox.state import SandboxState
from bot.sandbox.updates import UpdateQueue, Webhook, WebhookPusher

MAX_ALERT_TEXT = 200
MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

Handler = Callable[[Params], Awaitable[Any]]
MediaKind = Literal["photo", "document"]


@dataclass(eq=False)
class BotApiMethods:
    """Method name → implementation, over the sandbox state, update queue and flood control."""

    state: SandboxState
    queue: UpdateQueue
    pusher: WebhookPusher
    flood: FloodControl
    _: KW_ONLY
    clock: Callable[[], float]
    on_delivered: Callable[[int], None]
    callback_query_ttl: float | None
    _handlers: dict[str, Handler] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._handlers = {
            "getme": self.get_me,
            "getupdates": self.get_updates,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "answercallbackquery": self.answer_callback_query,
            "sendphoto": self.send_photo,
            "senddocument": self.send_document,
            "getfile": self.get_file,
            "sendchataction": self.send_chat_action,
            "close": self.acknowledge,
            "logout": self.acknowledge,
            "getchat": self.get_chat,
        }

    def register(self, handlers: dict[str, Handler]) -> None:
        """Add methods implemented elsewhere (profile, inline mode), keyed by lower-case name."""
        self._handlers.update(handlers)

    def lookup(self, method: str) -> Handler | None:
        """Method names are case-insensitive in the Bot API."""
        return self._handlers.get(method.lower())

    # --- bot identity and updates -------------------------------------------------------------

    async def get_me(self, p: Params) -> JsonDict:
        return {
            **self.state.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def get_updates(self, p: Params) -> list[JsonDict]:
        if self.pusher.webhook is not None:
            raise conflict(errors.WEBHOOK_ACTIVE)
        offset = p.get_int("offset")
        if offset is not None:
            self.queue.confirm(offset)
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(float(p.get_str("timeout") or 0), 0.0)
        batch = await self.queue.wait_batch(limit, timeout)
        for update in batch:
            self.on_delivered(int(update["update_id"]))
        return batch

    async def set_webhook(self, p: Params) -> bool:
        if p.get_bool("drop_pending_updates"):
            self.queue.clear()
        url = p.get_str("url") or ""
        if not url:
            await self.pusher.stop()
            return True
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        self.pusher.start(Webhook(url, secret, p.get_int("max_connections") or 40))
        return True

    async def delete_webhook(self, p: Params) -> bool:
        if p.get_bool("drop_pending_updates"):
            self.queue.clear()
        await self.pusher.stop()
        return True

    async def get_webhook_info(self, p: Params) -> JsonDict:
        webhook = self.pusher.webhook
        info: JsonDict = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.queue.pending_count,
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
        return info

    # --- sending ------------------------------------------------------------------------------

    async def send_message(self, p: Params) -> JsonDict:
        chat = self._writable_chat(p)
        raw, parsed = self._message_text(p)
        markup = self._markup(p)
        self._admit(chat, p)
        message = self.state.add_message(
            chat, from_bot=True, text=parsed.text, html=raw, entities=parsed.entities, reply_markup=markup
        )
        return self.state.message_json(message)

    async def send_photo(self, p: Params) -> JsonDict:
        return self._send_media(p, "photo")

    async def send_document(self, p: Params) -> JsonDict:
        return self._send_media(p, "document")

    def _send_media(self, p: Params, kind: MediaKind) -> JsonDict:
        chat = self._writable_chat(p)
        media = self._media_input(p, kind)
        caption = self._caption(p)
        markup = self._markup(p)
        self._admit(chat, p)
        message = self.state.add_message(
            chat,
            from_bot=True,
            caption=caption[1].text if caption else None,
            caption_html=caption[0] if caption else None,
            caption_entities=caption[1].entities if caption else (),
            media=media,
            media_kind=kind,
            reply_markup=markup,
        )
        return self.state.message_json(message)

    async def send_chat_action(self, p: Params) -> bool:
        self._writable_chat(p)
        if not p.get_str("action"):
            raise bad_request("action is empty")
        return True

    # --- editing and deleting -----------------------------------------------------------------

    async def edit_message_text(self, p: Params) -> JsonDict | bool:
        message = self._editable_message(p)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        raw, parsed = self._message_text(p)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._markup(p)
        if (parsed.text, parsed.entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        message.text, message.html, message.entities = parsed.text, raw, parsed.entities
        message.reply_markup = markup
        return self._after_edit(message)

    async def edit_message_reply_markup(self, p: Params) -> JsonDict | bool:
        message = self._editable_message(p)
        markup = self._markup(p)
        if markup == message.reply_markup:
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        message.reply_markup = markup
        return self._after_edit(message)

    async def delete_message(self, p: Params) -> bool:
        chat = self.state.resolve(p.chat_id())
        message = chat.messages.get(p.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
        message.deleted = True
        return True

    def _editable_message(self, p: Params) -> StoredMessage:
        """The message named by chat_id and message_id, or by inline_message_id (sent via the bot)."""
        inline_message_id = p.get_str("inline_message_id")
        if inline_message_id:
            inline = self.state.inline_messages.get(inline_message_id)
            if inline is None or inline.deleted:
                raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
            return inline
        chat = self._writable_chat(p)
        message = chat.messages.get(p.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _after_edit(self, message: StoredMessage) -> JsonDict | bool:
        """The edited Message, or True for an inline message, as the Bot API answers."""
        message.edit_date = int(time.time())
        self.state.mark_edited(message, time.monotonic())
        if message.inline_message_id is not None:
            return True
        return self.state.message_json(message)

    # --- callback queries ---------------------------------------------------------------------

    async def answer_callback_query(self, p: Params) -> bool:
        record = self.state.callbacks.get(p.get_str("callback_query_id") or "")
        expired = (
            record is not None
            and self.callback_query_ttl is not None
            and self.clock() - record.clock_at > self.callback_query_ttl
        )
        if record is None or record.answered_at is not None or expired:
            raise bad_request(errors.QUERY_TOO_OLD)
        text = p.get_str("text")
        if text is not None and len(text) > MAX_ALERT_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered_at = record.reacted_at = time.monotonic()
        # The tapping user, also when the tapped message is not in their chat with the bot.
        sender = (record.payload.get("callback_query") or {}).get("from") or {}
        chat = self.state.chats.get(int(sender.get("id", record.chat_id or 0)))
        if chat is not None and chat.user is not None:
            chat.user.alerts.append(Alert(text, p.get_bool("show_alert"), p.get_str("url")))
        return True

    # --- files --------------------------------------------------------------------------------

    async def get_file(self, p: Params) -> JsonDict:
        stored = self.state.files.get(p.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {**stored.to_api(), "file_path": stored.file_path}

    def _media_input(self, p: Params, kind: MediaKind) -> StoredFile:
        """An upload (direct or attach://), a known file_id of the same kind, or an URL Telegram would fetch."""
        reference = p.get_str(kind)
        upload = p.uploads.get(kind)
        if upload is None and reference and reference.startswith("attach://"):
            upload = p.uploads.get(reference.removeprefix("attach://"))
        if upload is not None:
            return self._store(kind, upload.data, upload.filename, upload.content_type)
        if reference is None:
            raise bad_request(f"there is no {kind} in the request")
        if reference in self.state.files:
            return self.state.known_file(reference, kind)
        if reference.startswith(("http://", "https://")):
            # The sandbox has no internet: keep the URL as the name and no bytes.
            return self._store(kind, b"", reference, None)
        raise bad_request(errors.WRONG_FILE_IDENTIFIER)

    def _store(self, kind: MediaKind, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        if kind == "photo":
            return self.state.store_photo(data, file_name=file_name, mime_type=mime_type)
        return self.state.store_file(data, file_name=file_name, mime_type=mime_type, folder=f"{kind}s")

    # --- chats -------------------------------------------------------------------------------

    async def get_chat(self, p: Params) -> JsonDict:
        chat = self.state.resolve(p.chat_id())
        no_gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
            False,
        )
        return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": no_gifts}

    async def acknowledge(self, p: Params) -> bool:
        """close and logOut: nothing to release in the sandbox."""
        return True

    # --- shared checks ------------------------------------------------------------------------

    def _writable_chat(self, p: Params) -> Chat:
        """The target chat, refusing users who never started the bot or blocked it."""
        if p.chat_id() is None:
            raise bad_request("chat_id is empty")
        chat = self.state.resolve(p.chat_id())
        if chat.user is not None and chat.user.blocked:
            raise forbidden(errors.BOT_BLOCKED)
        if chat.user is not None and not chat.user.started:
            raise forbidden(errors.CANT_INITIATE)
        return chat

    @staticmethod
    def _message_text(p: Params) -> tuple[str, ParsedText]:
        raw = p.get_str("text")
        return raw or "", message_text(raw, p.get_str("parse_mode"), p.get_json("entities"))

    @staticmethod
    def _caption(p: Params) -> tuple[str, ParsedText] | None:
        raw = p.get_str("caption")
        if raw is None:
            return None
        entities = p.get_json("caption_entities")
        too_long = errors.CAPTION_TOO_LONG
        return raw, format_text(raw, p.get_str("parse_mode"), entities, limit=MAX_CAPTION, too_long=too_long)

    @staticmethod
    def _markup(p: Params) -> JsonDict | None:
        return inline_keyboard(p.get_json("reply_markup"))

    def _admit(self, chat: Chat, p: Params) -> None:
        retry_after = self.flood.admit(
            chat.id, private=chat.type == "private", paid=p.get_bool("allow_paid_broadcast"), now=self.clock()
        )
        if retry_after is not None:
            raise too_many_requests(retry_after)
