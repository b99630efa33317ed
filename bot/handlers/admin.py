"""Admin commands in the chat: /newround, /rounds, /round, /closeround, /cancelround.

A non-admin gets exactly the unknown-command answer, so the commands are not advertised to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import Update

from bot.callbacks import ListKind
from bot.config import Config
from bot.domain import audit, rounds
from bot.domain.errors import BadInput, DomainError
from bot.domain.runtime import Runtime
from bot.formats import percent, when
from bot.handlers.arguments import UsageNeeded, new_round_args, round_id_arg
from bot.handlers.common import (
    Context,
    Handler,
    error_text,
    is_admin,
    language,
    refusing,
    reply,
    runtime,
    sender_id,
)
from bot.handlers.lists import send_list
from bot.handlers.start import unknown_command
from bot.roundview import status_label
from bot.texts import Html, html_lines, t, t_plain

RoundHandler = Callable[[Update, Context, int], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Runs the handler for admins; everyone else sees the unknown-command reply. Domain errors
    become a reply in the admin's language."""
    refusing_all = refusing(DomainError)(handler)

    @wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        if not is_admin(update, context):
            await unknown_command(update, context)
            return
        await refusing_all(update, context)

    return wrapper


def on_round(command: str) -> Callable[[RoundHandler], Handler]:
    """An admin command taking one ROUND_ID; without one (or not a number) the admin is told the usage."""

    def decorate(handler: RoundHandler) -> Handler:
        @admin_only
        @wraps(handler)
        async def wrapper(update: Update, context: Context) -> None:
            lang = await language(update, context)
            usage = t(lang, "admin.usage.round_id", command=command)
            try:
                round_id = round_id_arg(context.args or [])
            except (UsageNeeded, BadInput) as exc:
                await reply(update, with_usage(exc, lang, usage))
                return
            await handler(update, context, round_id)

        return wrapper

    return decorate


def with_usage(error: UsageNeeded | BadInput, lang: str, usage: Html) -> Html:
    """Wrong arguments answered with what is wrong with one (if one is), then how to write the command."""
    if isinstance(error, UsageNeeded):
        return usage
    return html_lines([Html(error_text(error, lang)), usage])


def actor(update: Update) -> str:
    """Who the audit log names for an admin's action in the chat."""
    return f"tg:{sender_id(update)}"


Confirm = Callable[[Runtime[Config], int, str], Awaitable[Html]]


def scheduling_command(kind: str, usage_key: str, schedule: Callable[..., Awaitable[int]],
                       confirm: Confirm) -> Handler:
    """/newround and /newresearch: parses `WHAT [duration] [quota]`, schedules it (`schedule(rt, what,
    actor=, duration=, quota=)`) under the audit log as `{kind}.new`, answers with `confirm(rt, new_id,
    lang)` and wakes the scheduler; wrong arguments are answered with what is wrong and the usage."""

    @admin_only
    async def command(update: Update, context: Context) -> None:
        rt, lang, args = runtime(context), await language(update, context), context.args or []
        try:
            wanted = new_round_args(args)
        except (UsageNeeded, BadInput) as exc:
            await reply(update, with_usage(exc, lang, t(lang, usage_key)))
            return
        async with audit.audited(rt, actor(update), f"{kind}.new", " ".join(args)) as outcome:
            new_id: int = await schedule(rt, wanted.sku, actor=actor(update), duration=wanted.duration,
                                         quota=wanted.quota)
            outcome.result = f"{kind} {new_id}"
        await reply(update, await confirm(rt, new_id, lang))
        context.bot_data.wake()

    return command


async def round_created(rt: Runtime[Config], round_id: int, lang: str) -> Html:
    """The admin's confirmation of a new round: its product, when it opens and closes, its quota."""
    info = await rounds.round_info(rt, round_id)
    return t(lang, "admin.round_created", round_id=round_id, sku=info.sku,
             opens_at=when(info.opens_at, lang, rt.config.zone),
             closes_at=when(info.closes_at, lang, rt.config.zone), quota=info.quota)


#: Schedules a round opening now: /newround SKU [duration] [quota].
new_round = scheduling_command("round", "admin.usage.newround", rounds.schedule_round, round_created)


@admin_only
async def list_rounds(update: Update, context: Context) -> None:
    """Lists the most recent rounds, a page at a time."""
    await send_list(update, context, ListKind.ROUNDS)


@on_round("/round")
async def show_round(update: Update, context: Context, round_id: int) -> None:
    """One round in detail: schedule, quota and response counts."""
    rt, lang = runtime(context), await language(update, context)
    i = await rounds.round_info(rt, round_id)
    await reply(update, t(lang, "admin.round_detail", round_id=i.id, product=i.product, sku=i.sku,
                          status=status_label(rt.config, i, lang), opens_at=when(i.opens_at, lang, rt.config.zone),
                          closes_at=when(i.closes_at, lang, rt.config.zone), quota=i.quota, eligible=i.stats.eligible,
                          invited=i.stats.invited, delivered=i.stats.delivered, unreachable=i.stats.unreachable,
                          started=i.stats.started, submitted=i.stats.submitted,
                          accepted="—" if i.stats.accepted is None else i.stats.accepted,
                          response_rate="—" if i.stats.response_rate is None else percent(i.stats.response_rate, lang),
                          left_out=_left_out(i.excluded_by_rule, lang)))


def _left_out(by_rule: dict[str, int], lang: str) -> Html:
    """Eligibility rules and how many buyers each left out, e.g. "opted out 3, inactive 2"."""
    return html_lines([t(lang, "rule.count", rule=t(lang, f"rule.{rule}"), n=n) for rule, n in by_rule.items() if n],
                      sep=t_plain(lang, "scorecard.list_sep")) or t(lang, "rule.none")


@on_round("/closeround")
async def close_round(update: Update, context: Context, round_id: int) -> None:
    """Closes a round now; the scheduler publishes its scorecard right after."""
    await _change_round(update, context, round_id, "round.close", rounds.admin_close, "admin.closed")
    context.bot_data.wake()


@on_round("/cancelround")
async def cancel_round(update: Update, context: Context, round_id: int) -> None:
    """Cancels a scheduled or open round; nothing is published for it."""
    await _change_round(update, context, round_id, "round.cancel", rounds.cancel_round, "admin.cancelled")


async def _change_round(update: Update, context: Context, round_id: int, action: str,
                        change: Callable[[Runtime[Config], int], Awaitable[None]], done: str) -> None:
    rt = runtime(context)
    async with audit.audited(rt, actor(update), action, str(round_id)):
        await change(rt, round_id)
    await reply(update, t(await language(update, context), done, round_id=round_id))
