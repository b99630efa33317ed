"""The sizes Telegram reports for a photo: a ladder of scaled copies up to the original.

Bots cache `message.photo[-1].file_id` to send the same picture again (a scorecard in an inline
result, a chart re-posted), so the sandbox answers sendPhoto with a realistic `photo` array: one
PhotoSize per rung, each with its own file_id and file_unique_id and the dimensions read from the
image header. The sandbox does not resize: every rung serves the original bytes.
"""

from __future__ import annotations

import struct

# Telegram's classic thumbnail boxes ("s", "m", "x", "y", "w"): each rung fits the longer side in it.
SIZE_BOXES = (90, 320, 800, 1280, 2560)
# What an image counts as when its header is not PNG, GIF or JPEG (e.g. fake bytes in a test).
UNKNOWN_DIMENSIONS = (800, 600)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF or JPEG header, or None when the bytes are none of these."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(data)
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments to the start-of-frame, which holds height then width."""
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        (segment_length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + int(segment_length)
    return None


def size_ladder(width: int, height: int) -> list[tuple[int, int]]:
    """The (width, height) of each PhotoSize, smallest first, ending with the original (at most 2560)."""
    longest = max(width, height, 1)
    ladder: list[tuple[int, int]] = []
    for box in SIZE_BOXES:
        if longest <= box:
            ladder.append((width, height))
            return ladder
        ladder.append((max(1, round(width * box / longest)), max(1, round(height * box / longest))))
    return ladder
