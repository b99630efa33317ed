"""What the emulated Telegram knows: chats, users, messages, files and outstanding callback queries."""

from __future__ import annotations

import mimetypes
import time
from typing import Any, Literal

from bot.sandbox.errors import CHAT_NOT_FOUND, bad_request
from bot.sandbox.models import Chat, JsonDict, StoredFile, StoredMessage, UpdateRecord, UserProfile

FIRST_USER_ID = 10001
FIRST_CHANNEL_ID = -1001000000001
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
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
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

    def message_json(self, message: StoredMessage) -> JsonDict:
        chat = self.chats[message.chat_id]
        if message.from_bot:
            sender = None if chat.type == "channel" else self.bot_user
        else:
            sender = chat.user.to_api() if chat.user is not None else None
        return message.to_api(chat.to_api(), sender)

    def store_file(self, data: bytes, *, file_name: str | None, mime_type: str | None, folder: str) -> StoredFile:
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
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return self._files_by_path.get(path)

    def new_callback_query_id(self) -> str:
        self._sequence += 1
        return f"{self._sequence:019d}"

    def track_callback(self, record: UpdateRecord) -> None:
        """Remember a callback query so its answer and the edit it causes can be timed."""
        if record.callback_query_id is not None:
            self.callbacks[record.callback_query_id] = record
        if record.chat_id is not None and record.message_id is not None:
            self._awaiting_edit.setdefault((record.chat_id, record.message_id), []).append(record)

    def mark_edited(self, message: StoredMessage, at: float) -> None:
        for record in self._awaiting_edit.pop((message.chat_id, message.message_id), []):
            record.edited_at = at
