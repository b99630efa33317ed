"""Research rounds in the chat: the survey's buttons and its invitation (buyers), /newresearch and
/adopt (admins). Every callback query is answered, a refusal with a short alert."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from bot.callbacks import ResearchButton, ResearchInviteButton
from bot.config import Config
from bot.context import Context
from bot.domain import audit, factorsets, research, research_responses
from bot.domain.errors import BadInput, DomainError, RoundClosed, StaleButton
from bot.domain.numbers import parse_whole
from bot.domain.research import DEFAULT_TOP, MAX_TOP, MIN_TOP
from bot.domain.runtime import Runtime
from bot.domain.words import Bilingual
from bot.formats import when
from bot.handlers.admin import actor, admin_only, scheduling_command, with_usage
from bot.handlers.arguments import UsageNeeded
from bot.handlers.common import (
    answer_invitation,
    language,
    on_button,
    press_button,
    reply,
    runtime,
)
from bot.research_screens import response_screen
from bot.screens import Screen
from bot.texts import Html, t

_ALERTS: dict[type[DomainError], str] = {StaleButton: "alert.stale", RoundClosed: "alert.research_closed"}


@on_button(ResearchButton)
async def research_button(update: Update, context: Context, button: ResearchButton) -> None:
    """Applies a survey button and edits the survey message to the next screen."""
    await press_button(
        update, context, lambda user_id: research_responses.press(runtime(context), button.sheet_id, button.rev,
                                                                  button.move, user_id),
        response_screen, _ALERTS)


@on_button(ResearchInviteButton)
async def research_invitation_button(update: Update, context: Context, button: ResearchInviteButton) -> None:
    """Start (the invitation becomes the survey), not now, or stop inviting me."""
    rt = runtime(context)

    async def later(user_id: int, lang: str) -> str:
        rnd = await research.get(rt, button.round_id)
        await research_responses.begin(rt, button.round_id, user_id, shown_in=None)
        return t(lang, "research.invite.later", closes_at=when(rnd.closes_at, lang, rt.config.zone))

    async def start(user_id: int, shown_in: tuple[int, int]) -> Callable[[str], Screen]:
        await research.get(rt, button.round_id)  # an unknown id is refused as such, not as closed
        view = await research_responses.begin(rt, button.round_id, user_id, shown_in=shown_in)
        return lambda lang: response_screen(view, lang, rt.config.zone)

    await answer_invitation(update, context, button.choice, later, start,
                            alerts={RoundClosed: "alert.research_closed"})


async def research_created(rt: Runtime[Config], research_id: int, lang: str) -> Html:
    """The admin's confirmation of a new research round: its category, when it closes, its quota."""
    rnd = await research.get(rt, research_id)
    return t(lang, "admin.research_created", research_id=research_id, category=rnd.category_key,
             closes_at=when(rnd.closes_at, lang, rt.config.zone), quota=rnd.quota)


#: Schedules a research round opening now: /newresearch CATEGORY [duration] [quota] — the same words
#: as /newround, the category instead of the SKU.
new_research = scheduling_command("research", "admin.usage.newresearch", research.schedule, research_created)


@admin_only
async def adopt(update: Update, context: Context) -> None:
    """Makes a published research result's top K the category's next factor set: /adopt ID [K]."""
    rt, lang = runtime(context), await language(update, context)
    args = context.args or []
    try:
        if not 1 <= len(args) <= 2:
            raise UsageNeeded
        research_id = parse_whole(args[0], what="research id")
        top = parse_whole(args[1], what="K", minimum=MIN_TOP, maximum=MAX_TOP) if len(args) == 2 else DEFAULT_TOP
    except (UsageNeeded, BadInput) as exc:
        await reply(update, with_usage(exc, lang, t(lang, "admin.usage.adopt")))
        return
    async with audit.audited(rt, actor(update), "research.adopt", " ".join(args)) as outcome:
        version, keys = await research.adopt(rt, research_id, actor=actor(update), top=top)
        outcome.result = f"factor set v{version}: {','.join(keys)}"
    rnd = await research.get(rt, research_id)
    async with rt.db.session() as s:
        labels = {f.key: Bilingual(f.label_en, f.label_zh)(lang)
                  for f in (await factorsets.current(s, rnd.category_key)).factors}
    await reply(update, t(lang, "admin.adopted", version=version, category=rnd.category_key, research_id=research_id,
                          factors=", ".join(labels.get(k, k) for k in keys)))
