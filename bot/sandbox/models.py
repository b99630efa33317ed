"""Plain records of what happens in the sandbox: chats, messages, files, calls and updates.

They carry no I/O so tests and benchmarks can read them directly; `to_api` methods build the JSON
shapes the Bot API would return.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]


def _present(record: object, *names: str) -> JsonDict:
    """The named attributes of `record` that are set: the Bot API leaves out what is None."""
    return {name: value for name in names if (value := getattr(record, name)) is not None}


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as a user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Alert:
    """The bot's answer to one callback query: a toast (show_alert False) or a modal alert."""

    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class StoredFile:
    """Bytes uploaded by the bot or by a simulated user, retrievable via getFile and the file URL."""

    file_id: str
    file_unique_id: str
    file_name: str | None  # None when the uploader gave none, as Telegram leaves it out
    mime_type: str | None
    data: bytes
    file_path: str

    def to_api(self) -> JsonDict:
        """The Document / File fields Telegram reports."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data),
                **_present(self, "file_name", "mime_type")}


@dataclass
class StoredMessage:
    """A message in a sandbox chat; edits change it in place so readers see what a client shows."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool = False  # else the chat's user sent it
    text: str | None = None
    html: str | None = None
    entities: tuple[JsonDict, ...] = ()
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: tuple[JsonDict, ...] = ()
    reply_markup: JsonDict | None = None
    media: StoredFile | None = None
    media_kind: Literal["photo", "document"] | None = None
    edit_date: int | None = None
    deleted: bool = False
    extra: JsonDict = field(default_factory=dict)

    @property
    def buttons(self) -> list[list[Button]]:
        """Inline keyboard rows; empty when the message has none."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row] for row in rows]

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    @property
    def photo(self) -> bytes | None:
        return self.media.data if self.media is not None and self.media_kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        return self.media.data if self.media is not None and self.media_kind == "document" else None

    def to_api(self, chat: JsonDict, sender: JsonDict | None) -> JsonDict:
        """Bot API Message JSON; channel posts carry `sender_chat` instead of `from`."""
        message: JsonDict = {"message_id": self.message_id, "date": self.date, "chat": chat}
        if sender is not None:
            message["from"] = sender
        elif chat["type"] == "channel":
            message["sender_chat"] = chat
        if self.text is not None:
            message["text"] = self.text
            _put_entities(message, "entities", self.entities)
        if self.caption is not None:
            message["caption"] = self.caption
            _put_entities(message, "caption_entities", self.caption_entities)
        if self.media is not None and self.media_kind == "photo":
            sizes = {k: v for k, v in self.media.to_api().items() if k in _PHOTO_SIZE_FIELDS}
            # Dimensions are unknown without decoding the image; clients do not rely on them.
            message["photo"] = [{**sizes, "width": 0, "height": 0}]
        elif self.media is not None:
            message["document"] = self.media.to_api()
        # Telegram echoes inline keyboards only; reply keyboards live on the client.
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        message.update(self.extra)
        return message


_PHOTO_SIZE_FIELDS = {"file_id", "file_unique_id", "file_size"}


def _put_entities(message: JsonDict, key: str, entities: tuple[JsonDict, ...]) -> None:
    if entities:
        message[key] = list(entities)


@dataclass
class UserProfile:
    """A simulated Telegram user and what the bot is allowed to do with them."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False
    alerts: list[Alert] = field(default_factory=list)

    def to_api(self) -> JsonDict:
        """Bot API User JSON."""
        return {"id": self.id, "is_bot": False, "first_name": self.first_name,
                **_present(self, "last_name", "username", "language_code")}


@dataclass
class Chat:
    """A chat the bot can address: a user's private chat or a registered group or channel."""

    id: int
    type: ChatType
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    # Who it is: the user of a private chat, or a group's or channel's title and @username.
    user: UserProfile | None = None
    title: str | None = None
    username: str | None = None

    def to_api(self) -> JsonDict:
        """Bot API Chat JSON."""
        chat: JsonDict = {"id": self.id, "type": self.type}
        if self.user is not None:
            chat.update({k: v for k, v in self.user.to_api().items() if k in _PRIVATE_CHAT_FIELDS})
        return chat | _present(self, "title", "username")

    def visible_messages(self, *, from_bot: bool) -> list[StoredMessage]:
        """Messages still shown, oldest first."""
        return [m for m in self.messages.values() if m.from_bot == from_bot and not m.deleted]


_PRIVATE_CHAT_FIELDS = {"first_name", "last_name", "username"}


@dataclass
class ApiCall:
    """One HTTP call the bot made: what it asked, what it got, and when (time.monotonic)."""

    method: str
    params: JsonDict
    status: int
    response: JsonDict
    at: float
    duration: float
    chat_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class UpdateRecord:
    """One update pushed to the bot, with the timestamps sync waits and benchmarks read.

    Timestamps are time.monotonic(); `clock_at` is the sandbox's injected clock, used for expiry.
    """

    update_id: int
    kind: str
    payload: JsonDict
    pushed_at: float
    clock_at: float
    chat_id: int | None = None
    callback_query_id: str | None = None
    message_id: int | None = None
    delivered_at: float | None = None
    reacted_at: float | None = None
    answered_at: float | None = None
    edited_at: float | None = None


@dataclass
class WebhookDelivery:
    """The outcome of POSTing one update to the webhook (status None: connection failed)."""

    update_id: int
    status: int | None
    attempts: int


@dataclass
class SandboxStats:
    """Counters for assertions and benchmark reports."""

    methods: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def sent_429(self) -> int:
        return self.statuses[429]

    @property
    def sent_403(self) -> int:
        return self.statuses[403]
