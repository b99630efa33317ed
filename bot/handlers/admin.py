"""Admin commands in the chat: /newround, /rounds, /round, /closeround, /cancelround.

A non-admin gets exactly the unknown-command answer, so the commands are not advertised to them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import Update

from bot.domain import audit, rounds
from bot.domain.durations import DurationError, parse_duration
from bot.domain.errors import DomainError
from bot.handlers.common import Context, error_text, is_admin, language, reply, runtime
from bot.handlers.start import unknown_command
from bot.screens import when
from bot.texts import t

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Runs the handler for admins; everyone else sees the unknown-command reply. Domain errors
    become a reply in the admin's language."""

    @wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        if not is_admin(update, context):
            await unknown_command(update, context)
            return
        try:
            await handler(update, context)
        except DomainError as error:
            await reply(update, error_text(error, await language(update, context)))

    return wrapper


def _actor(update: Update) -> str:
    assert update.effective_user is not None
    return f"tg:{update.effective_user.id}"


async def round_id_arg(update: Update, context: Context, command: str, lang: str) -> int | None:
    """The one ROUND_ID argument of `command`, or None after telling the admin how to use it."""
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await reply(update, t(lang, "admin.usage.round_id", command=command))
        return None
    return int(args[0])


@admin_only
async def new_round(update: Update, context: Context) -> None:
    """Schedules a round opening now: /newround SKU [duration] [quota]."""
    rt, lang = runtime(context), await language(update, context)
    args = context.args or []
    if not 1 <= len(args) <= 3 or (len(args) == 3 and not args[2].isdigit()):
        await reply(update, t(lang, "admin.usage.newround"))
        return
    try:
        duration = parse_duration(args[1]) if len(args) > 1 else None
    except DurationError as exc:
        await reply(update, f"{exc}\n{t(lang, 'admin.usage.newround')}")
        return
    quota = int(args[2]) if len(args) == 3 else None
    async with audit.audited(rt, _actor(update), "round.new", " ".join(args)) as outcome:
        round_id = await rounds.schedule_round(rt, args[0], actor=_actor(update), duration=duration, quota=quota)
        outcome.result = f"round {round_id}"
    info = await rounds.round_info(rt, round_id)
    await reply(update, t(lang, "admin.round_created", round_id=round_id, sku=info.sku,
                          opens_at=when(info.opens_at, lang), closes_at=when(info.closes_at, lang), quota=info.quota))
    context.bot_data.wake()


@admin_only
async def list_rounds(update: Update, context: Context) -> None:
    """Lists the most recent rounds."""
    rt, lang = runtime(context), await language(update, context)
    infos = await rounds.list_rounds(rt)
    if not infos:
        await reply(update, t(lang, "admin.rounds_none"))
        return
    lines = [t(lang, "admin.rounds_header")] + [
        t(lang, "admin.round_line", round_id=i.id, sku=i.sku, status=t(lang, f"status.{i.status}"),
          closes_at=when(i.closes_at, lang))
        for i in infos
    ]
    await reply(update, "\n".join(lines))


@admin_only
async def show_round(update: Update, context: Context) -> None:
    """One round in detail: schedule, quota and response counts."""
    rt, lang = runtime(context), await language(update, context)
    round_id = await round_id_arg(update, context, "/round", lang)
    if round_id is None:
        return
    i = await rounds.round_info(rt, round_id)
    await reply(update, t(lang, "admin.round_detail", round_id=i.id, product=i.product, sku=i.sku,
                          status=t(lang, f"status.{i.status}"), opens_at=when(i.opens_at, lang),
                          closes_at=when(i.closes_at, lang), quota=i.quota, eligible=i.stats.eligible,
                          invited=i.stats.invited, delivered=i.stats.delivered, unreachable=i.stats.unreachable,
                          started=i.stats.started, submitted=i.stats.submitted,
                          accepted="—" if i.stats.accepted is None else i.stats.accepted,
                          response_rate="—" if i.stats.response_rate is None else f"{i.stats.response_rate:.0%}",
                          left_out=", ".join(f"{t(lang, f'rule.{rule}')} {n}" for rule, n in i.excluded_by_rule.items()
                                             if n) or t(lang, "rule.none")))


@admin_only
async def close_round(update: Update, context: Context) -> None:
    """Closes a round now; the scheduler publishes its scorecard right after."""
    rt, lang = runtime(context), await language(update, context)
    round_id = await round_id_arg(update, context, "/closeround", lang)
    if round_id is None:
        return
    async with audit.audited(rt, _actor(update), "round.close", str(round_id)):
        await rounds.admin_close(rt, round_id)
    await reply(update, t(lang, "admin.closed", round_id=round_id))
    context.bot_data.wake()


@admin_only
async def cancel_round(update: Update, context: Context) -> None:
    """Cancels a scheduled or open round; nothing is published for it."""
    rt, lang = runtime(context), await language(update, context)
    round_id = await round_id_arg(update, context, "/cancelround", lang)
    if round_id is None:
        return
    async with audit.audited(rt, _actor(update), "round.cancel", str(round_id)):
        await rounds.cancel_round(rt, round_id)
    await reply(update, t(lang, "admin.cancelled", round_id=round_id))
