"""What the emulated Telegram knows: chats, users, messages, files and outstanding callback queries."""

from __future__ import annotations

import mimetypes
import time
from typing import Any, Literal

from bot.sandbox import errors
from bot.sandbox.errors import CHAT_NOT_FOUND, bad_request
from bot.sandbox.models import Chat, InlineAnswer, JsonDict, StoredFile, StoredMessage, UpdateRecord, UserProfile
from bot.sandbox.photos import UNKNOWN_DIMENSIONS, image_dimensions, size_ladder

FIRST_USER_ID = 10001
FIRST_CHANNEL_ID = -1001000000001
# Chats between two simulated users get ids from a range no bot can address: the bot is not in them.
FIRST_PEER_CHAT_ID = 7_000_000_000_001
GroupKind = Literal["group", "supergroup", "channel"]


class SandboxState:
    """In-memory Telegram: one bot, its chats and everything sent in them."""

    def __init__(self, bot_id: int, bot_username: str) -> None:
        self.bot_user: JsonDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Sandbox Bot",
            "username": bot_username,
        }
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: dict[int, UpdateRecord] = {}
        self.callbacks: dict[str, UpdateRecord] = {}
        self.inline_queries: dict[str, UpdateRecord] = {}
        self.inline_answers: dict[str, InlineAnswer] = {}
        self.inline_messages: dict[str, StoredMessage] = {}
        self.peer_chats: dict[frozenset[int], Chat] = {}
        self._usernames: dict[str, int] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._awaiting_edit: dict[tuple[int, int], list[UpdateRecord]] = {}
        self._next_user_id = FIRST_USER_ID
        self._next_channel_id = FIRST_CHANNEL_ID
        self._sequence = 0

    def add_user(self, profile: UserProfile) -> Chat:
        """Register a user and their private chat with the bot (chat id == user id)."""
        if profile.id in self.chats:
            raise ValueError(f"user id {profile.id} is already taken in this sandbox")
        chat = Chat(profile.id, "private", user=profile)
        self.chats[profile.id] = chat
        return chat

    def next_user_id(self) -> int:
        while self._next_user_id in self.chats:
            self._next_user_id += 1
        return self._next_user_id

    def add_group(self, ref: int | str, title: str, username: str | None, kind: GroupKind) -> Chat:
        """Register a channel or group by id, by "@username", or both."""
        if isinstance(ref, str):
            username = ref.removeprefix("@")
            chat_id = self._next_channel_id
            self._next_channel_id -= 1
        else:
            chat_id = ref
        chat = Chat(chat_id, kind, title=title, username=username)
        self.chats[chat_id] = chat
        if username:
            self._usernames[username.lower()] = chat_id
        return chat

    def find(self, ref: Any) -> Chat | None:
        """The chat an API `chat_id` names: an id, or "@username" of a registered group or channel."""
        if isinstance(ref, str) and ref.startswith("@"):
            chat_id = self._usernames.get(ref[1:].lower())
            return None if chat_id is None else self.chats[chat_id]
        try:
            return self.chats.get(int(ref))
        except (TypeError, ValueError):
            return None

    def resolve(self, ref: Any) -> Chat:
        chat = self.find(ref)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def add_message(self, chat: Chat, *, from_bot: bool, **fields: Any) -> StoredMessage:
        """Append a message with the chat's next id (ids are per chat and shared by both sides)."""
        message = StoredMessage(chat.id, chat.next_message_id, int(time.time()), from_bot=from_bot, **fields)
        chat.messages[message.message_id] = message
        chat.next_message_id += 1
        return message

    def peer_chat(self, a: UserProfile, b: UserProfile) -> Chat:
        """The private chat between two simulated users, created on first use."""
        key = frozenset((a.id, b.id))
        if key not in self.peer_chats:
            self.peer_chats[key] = Chat(FIRST_PEER_CHAT_ID + len(self.peer_chats), "private")
        return self.peer_chats[key]

    def message_json(self, message: StoredMessage) -> JsonDict:
        chat = self.chats[message.chat_id]
        if message.from_bot:
            sender = None if chat.type == "channel" else self.bot_user
        elif message.from_user is not None:
            sender = message.from_user
        else:
            sender = chat.user.to_api() if chat.user is not None else None
        json = message.to_api(chat.to_api(), sender)
        if message.via_bot is not None:
            json["via_bot"] = self.bot_user
        return json

    def store_file(
        self,
        data: bytes,
        *,
        file_name: str | None,
        mime_type: str | None,
        folder: str,
        dimensions: tuple[int, int] | None = None,
    ) -> StoredFile:
        """Keep uploaded bytes under a fresh file_id and a downloadable file_path."""
        self._sequence += 1
        suffix = mimetypes.guess_extension(mime_type or "") or ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"SBX{self._sequence:08d}{folder[:3].upper()}",
            file_unique_id=f"U{self._sequence:08d}",
            data=data,
            file_path=f"{folder}/file_{self._sequence}{suffix}",
            file_name=file_name,
            mime_type=mime_type or (mimetypes.guess_type(file_name or "")[0]),
            kind="photo" if folder == "photos" else "document",
            width=dimensions[0] if dimensions else None,
            height=dimensions[1] if dimensions else None,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def store_photo(self, data: bytes, *, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Keep a photo as Telegram does, one file per size; returns the largest."""
        width, height = image_dimensions(data) or UNKNOWN_DIMENSIONS
        sizes: list[StoredFile] = []
        for dimensions in size_ladder(width, height):
            size = self.store_file(
                data, file_name=file_name, mime_type=mime_type, folder="photos", dimensions=dimensions
            )
            size.sizes = sizes
            sizes.append(size)
        return sizes[-1]

    def known_file(self, file_id: str, kind: Literal["photo", "document"]) -> StoredFile:
        """A file sent before, by any of its file_ids; a photo is resent whole, from its largest size."""
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request(errors.WRONG_FILE_IDENTIFIER)
        if stored.kind != kind:
            raise bad_request(errors.FILE_TYPE_MISMATCH)
        return stored.largest

    def file_by_path(self, path: str) -> StoredFile | None:
        return self._files_by_path.get(path)

    def new_callback_query_id(self) -> str:
        self._sequence += 1
        return f"{self._sequence:019d}"

    def new_inline_query_id(self) -> str:
        return self.new_callback_query_id()

    def new_inline_message_id(self) -> str:
        self._sequence += 1
        return f"SBXINLINE{self._sequence:010d}"

    def track_callback(self, record: UpdateRecord) -> None:
        """Remember a callback query so its answer and the edit it causes can be timed."""
        if record.callback_query_id is not None:
            self.callbacks[record.callback_query_id] = record
        if record.chat_id is not None and record.message_id is not None:
            self._awaiting_edit.setdefault((record.chat_id, record.message_id), []).append(record)

    def track_inline_query(self, record: UpdateRecord) -> None:
        """Remember an inline query so answerInlineQuery can find it, once."""
        if record.inline_query_id is not None:
            self.inline_queries[record.inline_query_id] = record

    def mark_edited(self, message: StoredMessage, at: float) -> None:
        for record in self._awaiting_edit.pop((message.chat_id, message.message_id), []):
            record.edited_at = at
