"""Plain records of what happens in the sandbox: chats, messages, files, calls and updates.

They carry no I/O so tests and benchmarks can read them directly; `to_api` methods build the JSON
shapes the Bot API would return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]


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
    """Bytes uploaded by the bot or by a simulated user, retrievable via getFile and the file URL.

    A photo is stored once per size: `sizes` (shared by all of them, smallest first) is what a
    message's `photo` array lists, and any size's file_id sends the whole photo again.
    """

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    kind: Literal["photo", "document"] = "document"
    width: int | None = None
    height: int | None = None
    sizes: list[StoredFile] = field(default_factory=list, repr=False)

    @property
    def largest(self) -> StoredFile:
        """The photo's original size (itself for a document)."""
        return self.sizes[-1] if self.sizes else self

    def photo_size(self) -> JsonDict:
        """Bot API PhotoSize JSON."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def to_api(self) -> JsonDict:
        """The Document / File fields Telegram reports."""
        fields: JsonDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name is not None:
            fields["file_name"] = self.file_name
        if self.mime_type is not None:
            fields["mime_type"] = self.mime_type
        return fields


@dataclass
class StoredMessage:
    """A message in a sandbox chat; edits change it in place so readers see what a client shows."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
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
    # A user's message in a chat other than their own with the bot (a group, another user).
    from_user: JsonDict | None = None
    # The bot's username when a user sent this message through the bot's inline mode.
    via_bot: str | None = None
    # Set when sent via the bot with an inline keyboard: the bot edits it by this id.
    inline_message_id: str | None = None

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
            message["photo"] = [size.photo_size() for size in self.media.sizes or [self.media]]
        elif self.media is not None:
            message["document"] = self.media.to_api()
        # Telegram echoes inline keyboards only; reply keyboards live on the client.
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        message.update(self.extra)
        return message


def _put_entities(message: JsonDict, key: str, entities: tuple[JsonDict, ...]) -> None:
    if entities:
        message[key] = list(entities)


@dataclass(frozen=True)
class InlineResult:
    """One result of an answered inline query, as the user's client lists it.

    `caption` and `message_text` are the plain text after parse_mode; `delivered_as` holds what the
    message looks like once a user picks the result (StoredMessage fields).
    """

    type: str
    id: str
    query_id: str
    query: str
    title: str | None = None
    description: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    photo_file_id: str | None = None
    photo_url: str | None = None
    thumbnail_url: str | None = None
    message_text: str | None = None
    input_message_content: JsonDict | None = None
    reply_markup: JsonDict | None = None
    raw: JsonDict = field(default_factory=dict, repr=False, compare=False)
    delivered_as: JsonDict = field(default_factory=dict, repr=False, compare=False)

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for row in (self.reply_markup or {}).get("inline_keyboard", []) for b in row]


@dataclass(frozen=True)
class InlineAnswer:
    """The bot's answerInlineQuery for one query: its results in order, and paging and caching hints."""

    query_id: str
    query: str
    offset: str
    results: tuple[InlineResult, ...]
    next_offset: str = ""
    cache_time: int = 300
    is_personal: bool = False
    button: JsonDict | None = None

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[InlineResult]:
        return iter(self.results)

    def __getitem__(self, index: int) -> InlineResult:
        return self.results[index]

    @property
    def titles(self) -> list[str | None]:
        """Each result's title (articles) or caption (media), as a client's list shows them."""
        return [result.title if result.title is not None else result.caption for result in self.results]

    def result(self, result_id: str) -> InlineResult:
        for result in self.results:
            if result.id == result_id:
                return result
        raise AssertionError(f"no result {result_id!r}; ids: {[r.id for r in self.results]}")


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
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                user[key] = value
        return user


@dataclass
class Chat:
    """A chat the bot can address: a user's private chat or a registered group or channel."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: UserProfile | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1

    def to_api(self) -> JsonDict:
        """Bot API Chat JSON."""
        chat: JsonDict = {"id": self.id, "type": self.type}
        if self.user is not None:
            chat.update({k: v for k, v in self.user.to_api().items() if k in _PRIVATE_CHAT_FIELDS})
        if self.title is not None:
            chat["title"] = self.title
        if self.username is not None:
            chat["username"] = self.username
        return chat

    def visible_messages(self, *, from_bot: bool) -> list[StoredMessage]:
        """Messages still shown, oldest first."""
        return [m for m in self.messages.values() if m.from_bot == from_bot and not m.deleted]

    def history(self) -> list[StoredMessage]:
        """Every message still shown, whoever sent it, oldest first."""
        return [m for m in self.messages.values() if not m.deleted]


_PRIVATE_CHAT_FIELDS = {"first_name", "last_name", "username"}


@dataclass
class ApiCall:
    """One HTTP call the bot made: what it asked, what the sandbox did, and when (time.monotonic).

    `status` and `response` are the method's outcome (status 0: the connection was dropped before
    the method ran). `fault` names the injected fault that hit the call, if any, and `answered` says
    whether that outcome reached the bot: a "timeout_after_delivery" call is `ok` (performed, its
    message visible) yet not `answered`.
    """

    method: str
    params: JsonDict
    status: int
    response: JsonDict
    at: float
    duration: float
    chat_id: int | None = None
    fault: str | None = None
    answered: bool = True

    @property
    def ok(self) -> bool:
        """The method was performed successfully, whether or not the bot heard so."""
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
    inline_query_id: str | None = None
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
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def sent_429(self) -> int:
        return self.statuses[429]

    @property
    def sent_403(self) -> int:
        return self.statuses[403]
