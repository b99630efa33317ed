"""A report encoded on a worker thread is stored as the same JSON the session would have written, and
reads back as the same dict; any other value of a JSON column is still encoded as before."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from storage.db import Database, EncodedJson, json_text


def test_text_already_encoded_is_written_as_is_and_anything_else_is_dumped() -> None:
    assert json_text(EncodedJson('{"a": [1, 2]}')) == '{"a": [1, 2]}'
    assert json_text("plain") == '"plain"'  # a str that is not marked encoded is a JSON string
    assert json_text({"a": None}) == '{"a": null}'


async def test_a_report_stored_encoded_reads_back_as_the_dict(tmp_path: Path) -> None:
    db = await Database.open(f"sqlite:///{tmp_path}/r.db", migrate=False)
    table = Table("reports", MetaData(), Column("id", Integer, primary_key=True), Column("report", JSON))
    report = {"overall": {"score": 4.12}, "screening": [{"ballot": "7", "weight": 0.42, "flags": ["crowded"]}]}
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(insert(table), [{"id": 1, "report": EncodedJson(json.dumps(report))},
                                               {"id": 2, "report": report}])
        async with db.engine.connect() as conn:
            stored = dict((await conn.execute(select(table.c.id, table.c.report))).all())
            raw = dict((await conn.execute(text("SELECT id, report FROM reports"))).all())
        assert stored == {1: report, 2: report}  # read back as the dict either way
        assert raw[1] == raw[2] == json.dumps(report)  # the same text as the session's own encoding
    finally:
        await db.close()


def test_a_long_report_is_encoded_in_pieces_to_exactly_the_text_of_one_dumps() -> None:
    from bot.domain.scorecards import _dumps

    report = {"overall": {"score": 4.12, "ci": [3.9, 4.3]}, "empty": [], "none": None,
              "screening": [{"ballot": str(i), "weight": i / 7, "flags": ["crowded"] * (i % 2)} for i in range(1234)],
              "method": "rh-score", "zh": "小红心"}
    assert _dumps(report) == json.dumps(report)
    assert json.loads(_dumps(report)) == report
