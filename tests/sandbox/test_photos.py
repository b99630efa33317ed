"""A sent photo comes back as Telegram describes it, so the bot can cache and resend its file_id."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.sandbox import BotApiSandbox
from bot.sandbox.photos import image_dimensions, size_ladder


def png(width: int, height: int) -> bytes:
    """The header of a PNG: enough for anyone who reads dimensions, as Telegram's servers do."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x00" * 4


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    frame = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x00" * 10
    return b"\xff\xd8" + app0 + frame


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    async with Bot(sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url) as bare_bot:
        yield bare_bot


async def test_a_sent_photo_lists_each_size_up_to_the_original_with_its_own_ids(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    alice = sandbox.user("Alice", started=True)

    message = await bot.send_photo(alice.id, photo=png(1000, 500), caption="Scorecard")

    assert [(size.width, size.height) for size in message.photo] == [(90, 45), (320, 160), (800, 400), (1000, 500)]
    assert len({size.file_id for size in message.photo}) == len({size.file_unique_id for size in message.photo}) == 4
    assert alice.last_message.photo == png(1000, 500)


async def test_a_photo_resent_by_any_cached_file_id_is_the_same_photo(sandbox: BotApiSandbox, bot: Bot) -> None:
    channel = sandbox.add_channel("@ratings")
    first = await bot.send_photo(channel, photo=png(2000, 1000))

    by_largest = await bot.send_photo(channel, photo=first.photo[-1].file_id, caption="again")
    by_thumbnail = await bot.send_photo(channel, photo=first.photo[0].file_id)

    assert by_largest.photo == first.photo == by_thumbnail.photo
    assert [m.photo for m in sandbox.chat_messages(channel)] == [png(2000, 1000)] * 3
    downloaded = await (await bot.get_file(first.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == png(2000, 1000)


async def test_a_file_id_the_sandbox_never_issued_or_of_another_type_is_refused(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    bob = sandbox.user("Bob", started=True)
    document = await bot.send_document(bob.id, document=b"sku,score\n", filename="scores.csv")
    assert document.document is not None

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/HTTP URL specified"):
        await bot.send_photo(bob.id, photo="AgACAgIAAxkBAAIBZ2Nvd2hlcmU")
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_photo(bob.id, photo=document.document.file_id)


async def test_a_caption_over_1024_characters_is_too_long(sandbox: BotApiSandbox, bot: Bot) -> None:
    carol = sandbox.user("Carol", started=True)
    await bot.send_photo(carol.id, photo=png(10, 10), caption="x" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(carol.id, photo=png(10, 10), caption="x" * 1025)
    assert len(carol.messages) == 1


def test_dimensions_are_read_from_png_gif_and_jpeg_headers_and_unknown_otherwise() -> None:
    assert image_dimensions(png(640, 480)) == (640, 480)
    assert image_dimensions(b"GIF89a" + struct.pack("<HH", 32, 16)) == (32, 16)
    assert image_dimensions(jpeg(1280, 720)) == (1280, 720)
    assert image_dimensions(b"\x89PNG fake") is None


def test_the_size_ladder_stops_at_the_original_and_never_exceeds_2560() -> None:
    assert size_ladder(60, 40) == [(60, 40)]
    assert size_ladder(5000, 2500)[-1] == (2560, 1280)
