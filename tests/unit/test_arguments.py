"""Numbers, durations and times people type: ASCII digits, within their columns and the calendar,
refused with the project's own clear errors — checked by example and fuzzed with hypothesis."""

from __future__ import annotations

import argparse
import contextlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import build_parser
from bot.domain.clock import parse_time
from bot.domain.durations import MAX_DURATION, MAX_LEAD, MAX_ROUND_LENGTH, check_schedule, parse_duration
from bot.domain.errors import BadInput, BadNumber, DurationError, DurationTooLong, OpensTooFar
from bot.domain.numbers import INT32_MAX, SHOWN, parse_whole
from bot.handlers.arguments import UsageNeeded, new_round_args, round_id_arg
from bot.texts import error_message

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["²", "١", "١٢", "１２", "99999999999", "2147483648", "1_000", "-1", "0", "+5",
                                  "1.0", "1e3", "", " ", "0x10", "9" * 5000])
def test_a_number_that_is_not_ascii_digits_in_range_is_refused_with_a_clear_error(text: str) -> None:
    with pytest.raises(BadNumber) as refused:
        parse_whole(text, what="quota")
    for lang in ("en", "zh"):
        message = error_message(refused.value, lang, plain=True)
        assert "2147483647" in message and len(message) < 200


def test_ascii_whole_numbers_in_range_are_read() -> None:
    assert parse_whole("1", what="x") == 1
    assert parse_whole(" 2147483647 ", what="x") == INT32_MAX
    assert parse_whole("007", what="x") == 7
    assert parse_whole("0", what="page", minimum=0) == 0


@pytest.mark.parametrize(("text", "error"), [
    ("999999999d", DurationTooLong), ("99999d", DurationTooLong), ("366d", DurationTooLong),
    ("9" * 40 + "s", DurationError), ("٣d", DurationError), ("7 days", DurationError),
])
def test_durations_past_their_ceiling_or_not_in_ascii_digits_are_refused(text: str, error: type) -> None:
    """Before: `999999999d` raised OverflowError and `99999d` was accepted."""
    with pytest.raises(error):
        parse_duration(text)


def test_a_round_lasts_at_most_its_maximum_and_opens_within_a_year_of_now() -> None:
    assert parse_duration("365d") == MAX_DURATION
    with pytest.raises(DurationTooLong):
        parse_duration("91d", MAX_ROUND_LENGTH)
    check_schedule(NOW, NOW + MAX_LEAD, MAX_ROUND_LENGTH)
    for opens_at in (NOW + MAX_LEAD + timedelta(seconds=1), datetime(9999, 12, 31, tzinfo=UTC),
                     datetime(1, 1, 1, tzinfo=UTC)):
        with pytest.raises(OpensTooFar):
            check_schedule(NOW, opens_at, timedelta(days=7))
    with pytest.raises(DurationTooLong):
        check_schedule(NOW, NOW, timedelta(days=99999))


@pytest.mark.parametrize("text", ["9999-12-31T23:00-05:00", "0001-01-01T00:00+01:00", "not a time"])
def test_a_time_off_the_calendar_is_a_value_error_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize("args", [["S", "٧d"], ["S", "7d", "²"], ["S", "7d", "99999999999"], ["S", "999999999d"]])
def test_newround_arguments_out_of_range_say_what_is_wrong(args: list[str]) -> None:
    with pytest.raises(BadInput):
        new_round_args(args)


WORDS = st.lists(st.text(max_size=30) | st.from_regex(r"[0-9]{1,15}[smhd]?", fullmatch=True), max_size=5)


@given(WORDS)
def test_fuzzed_bot_command_arguments_parse_or_raise_only_our_errors(args: list[str]) -> None:
    for parse in (new_round_args, round_id_arg):
        try:
            parsed = parse(args)
        except (UsageNeeded, BadInput) as refused:
            if isinstance(refused, BadInput):  # a clear message in both languages, never a message's length
                assert all(len(error_message(refused, lang, plain=True)) < 300 for lang in ("en", "zh"))
            continue
        if isinstance(parsed, int):
            assert 1 <= parsed <= INT32_MAX
        else:
            assert parsed.quota is None or 1 <= parsed.quota <= INT32_MAX
            assert parsed.duration is None or timedelta(0) < parsed.duration <= MAX_ROUND_LENGTH


COMMANDS = [["round", "new", "SKU", "--quota"], ["round", "new", "SKU", "--duration"], ["round", "show"],
            ["round", "list", "--limit"], ["report"], ["export", "--out", "f.csv"]]


@settings(max_examples=300)
@given(st.sampled_from(COMMANDS), st.text(max_size=20))
def test_fuzzed_cli_arguments_parse_in_range_or_exit_with_one_line(command: list[str], value: str) -> None:
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args([*command, value])
    except SystemExit as stopped:
        assert stopped.code == 2
        assert stderr.getvalue().count("\n") == 1 and stderr.getvalue().startswith("redheart"), stderr.getvalue()
        return
    for name in ("quota", "id", "limit"):
        number = getattr(args, name, None)
        assert number is None or 1 <= number <= INT32_MAX


def test_a_bad_number_on_the_command_line_is_one_line_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("²", "١٢", "99999999999"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["round", "new", "SKU", "--quota", value])
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--quota" in err and "2147483647" in err, err


def test_an_error_message_never_repeats_more_than_a_short_piece_of_what_was_typed() -> None:
    with pytest.raises(BadNumber) as refused:
        parse_whole("x" * 10_000, what="quota")
    assert len(str(refused.value.params["value"])) <= SHOWN


def test_the_cli_parser_is_an_argparse_parser() -> None:  # sanity for the fuzzing above
    assert isinstance(build_parser(), argparse.ArgumentParser)


@given(st.text(max_size=30) | st.from_regex(r"\s*[0-9]{1,20}\s*[smhdx]?\s*", fullmatch=True))
def test_fuzzed_durations_parse_within_the_ceiling_or_raise_a_duration_error(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except DurationError as refused:
        assert all("\n" not in error_message(refused, lang, plain=True) for lang in ("en", "zh"))
        return
    assert timedelta(0) < parsed <= MAX_DURATION


@given(st.text(max_size=40) | st.datetimes().map(lambda d: d.isoformat()) | st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2}|Z)?)?", fullmatch=True))
def test_fuzzed_times_parse_to_an_aware_time_or_raise_a_value_error(text: str) -> None:
    try:
        parsed = parse_time(text)
    except ValueError:
        return
    assert parsed.tzinfo is not None


@given(st.datetimes(timezones=st.just(UTC)), st.timedeltas(min_value=timedelta(seconds=1)))
def test_any_schedule_is_checked_without_overflowing(opens_at: datetime, duration: timedelta) -> None:
    try:
        check_schedule(NOW, opens_at, duration)
    except (DurationTooLong, OpensTooFar):
        return
    assert opens_at + duration <= NOW + MAX_LEAD + MAX_ROUND_LENGTH
