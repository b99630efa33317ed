"""The ballot screens render their texts and labels once per language and state (bot.screens' caches):
every screen must still be exactly what rendering it from the catalog gives, whatever was drawn before
it — another language, another ballot, another answer, another round's texts."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import BallotButton
from bot.domain.ballot_rule import NOT_SURE, SCORES, Action, Move
from bot.domain.ballot_views import BallotScreen, BallotView, FactorText
from bot.domain.words import Bilingual
from bot.formats import when
from bot.screens import Screen, answer_text, ballot_screen
from bot.texts import html_lines, t

ZONE = ZoneInfo("Asia/Shanghai")
FACTORS = tuple(FactorText(f"k{i}", Bilingual(f"Label {i}", f"标签{i}"), Bilingual(f"Question {i}?", f"问题{i}？"))
                for i in range(3))


def expected(view: BallotView, lang: str, zone: ZoneInfo) -> Screen:
    """The screen built from the catalog directly, nothing cached: what `ballot_screen` must give."""
    def button(text: str, move: Move) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=BallotButton(view.ballot_id, view.rev, move).encode())

    if view.screen is BallotScreen.FACTOR:
        factor = view.factors[view.step]
        current = view.answers.get(factor.key)
        extra = [button(t(lang, "rate.not_sure") + (" ✓" if current == NOT_SURE else ""), Move(Action.NOT_SURE))]
        if view.step > 0:
            extra.insert(0, button(t(lang, "rate.back"), Move(Action.BACK)))
        text = t(lang, "rate.factor", product=view.product, position=view.step + 1, total=len(view.factors),
                 label=factor.label(lang), question=factor.question(lang))
        return Screen(text, InlineKeyboardMarkup([[button(f"{v} ✓" if current == v else str(v), Move.score(v))
                                                   for v in SCORES], extra]))
    if view.screen is BallotScreen.SUMMARY:
        lines = html_lines([t(lang, "rate.summary_line", label=f.label(lang),
                              value=answer_text(view.answers.get(f.key), lang)) for f in view.factors])
        rows = [[button(f"✏️ {f.label(lang)}", Move.edit(i))] for i, f in enumerate(view.factors)]
        rows.append([button(t(lang, "rate.submit"), Move(Action.SUBMIT))])
        return Screen(t(lang, "rate.summary", product=view.product, lines=lines), InlineKeyboardMarkup(rows))
    key = "rate.resubmitted" if view.revisions else "rate.submitted"
    return Screen(t(lang, key, product=view.product, closes_at=when(view.closes_at, lang, zone)),
                  InlineKeyboardMarkup([[button(t(lang, "rate.change"), Move(Action.REVISE))]]))


def assert_same(got: Screen, want: Screen) -> None:
    assert got.text == want.text
    assert got.markup is not None and want.markup is not None
    assert got.markup.to_dict() == want.markup.to_dict()


def views() -> list[BallotView]:
    base = BallotView(ballot_id=7, rev=0, round_id=1, product="Tom & <Jerry>", factors=FACTORS, answers={}, step=0,
                      submitted=False, revisions=0, closes_at=datetime(2026, 5, 1, 12, tzinfo=UTC))
    out = []
    for step, answer in itertools.product(range(len(FACTORS) + 2), (None, NOT_SURE, 1, 5)):
        answers = {f.key: answer for f in FACTORS} if answer is not None else {}
        out.append(replace(base, rev=step * 3 + (answer or 0), step=step, answers=answers,
                           submitted=step > len(FACTORS), revisions=answer or 0))
    # Same step and answers, another ballot, another product, another round's factors, another close.
    out.append(replace(out[0], ballot_id=8, product="Shampoo"))
    out.append(replace(out[0], factors=tuple(replace(f, label=Bilingual("Other", "其他")) for f in FACTORS)))
    out.append(replace(out[-3], closes_at=datetime(2026, 6, 2, 8, tzinfo=UTC)))
    return out


def test_every_ballot_screen_is_what_the_catalog_renders_whatever_was_drawn_before() -> None:
    drawn = [(view, lang) for view in views() for lang in ("en", "zh", "fr")]
    for view, lang in drawn + drawn[::-1]:  # the second time round, every part comes from the caches
        assert_same(ballot_screen(view, lang, ZONE), expected(view, lang, ZONE))
    view = views()[-1]
    assert_same(ballot_screen(view, "en", ZoneInfo("UTC")), expected(view, "en", ZoneInfo("UTC")))


def test_a_screen_drawn_again_at_a_new_rev_sends_the_new_rev() -> None:
    view = views()[1]
    first = ballot_screen(view, "en", ZONE)
    again = ballot_screen(replace(view, rev=view.rev + 1), "en", ZONE)
    assert first.markup is not None and again.markup is not None
    datas = [[b.callback_data for b in row] for row in first.markup.inline_keyboard]
    assert [[b.callback_data for b in row] for row in again.markup.inline_keyboard] == [
        [str(d).replace(f":{view.rev}:", f":{view.rev + 1}:") for d in row] for row in datas]
