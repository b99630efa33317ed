"""Process wiring: the Application, its handlers in order, and the scheduler job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeAlias

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callbacks import (
    BallotButton,
    ForgetButton,
    InviteButton,
    LanguageButton,
    PageButton,
    PostButton,
    ResearchButton,
    ResearchInviteButton,
    ShowcaseButton,
    decode,
)
from bot.config import Config
from bot.context import BotData, Context
from bot.domain.runtime import Runtime
from bot.flood import FloodGuard
from bot.handlers import admin, campaign, console, lists, posts, privacy, rating, research, showcase, start
from bot.handlers.errors import on_error
from bot.handlers.flood import guard
from bot.jobs import campaign_for, reconcile
from bot.ops.metrics import Metrics
from bot.retry import RetryingRequest
from bot.updates import PerUserOrder

log = logging.getLogger(__name__)

# PTB's Application is generic in its bot, context, user/chat/bot data and job queue types; its builder
# does not carry `context_types` over to the job queue's type, hence Any there.
App: TypeAlias = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]

def build_application(rt: Runtime[Config]) -> App:
    """The real bot: handlers registered in order (the catch-alls last), the reconcile job scheduled."""
    config = rt.config
    builder = (ApplicationBuilder().token(config.require_token()).context_types(ContextTypes(bot_data=BotData))
               .concurrent_updates(PerUserOrder())
               # PTB's own request and pool size (256), with safe retries (bot/retry.py).
               .request(RetryingRequest(connection_pool_size=256)))
    if base_url := config.telegram.base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot", 1))
    metrics = Metrics() if config.metrics.port else None  # no counting cost unless someone scrapes
    if metrics is not None:  # the same requests, each HTTP answer counted
        builder = builder.request(metrics.request(get_updates=False)).get_updates_request(
            metrics.request(get_updates=True))
    app = builder.build()
    shared = app.bot_data
    shared.metrics = metrics
    shared.runtime = rt
    shared.campaign = campaign_for(config)
    shared.flood = FloodGuard(config.bot.flood_limit, config.bot.flood_window.total_seconds(),
                              config.bot.flood_pause.total_seconds())
    shared.wake = _waker(app)

    private = filters.ChatType.PRIVATE
    if metrics is not None:  # counts every update, flooding ones included, and stops none
        app.add_handler(TypeHandler(object, metrics.count_update), group=-2)
    # Before everything: a flooding user's updates stop here (see bot/flood.py).
    app.add_handler(TypeHandler(Update, guard), group=-1)
    app.add_handler(CommandHandler("start", start.start, filters=private))
    app.add_handler(CommandHandler("help", start.help_command, filters=private))
    app.add_handler(CommandHandler("language", start.language_command, filters=private))
    app.add_handler(CommandHandler("stop", start.stop, filters=private))
    app.add_handler(CommandHandler("rate", rating.rate, filters=private))
    app.add_handler(CommandHandler("myratings", rating.my_ratings, filters=private))
    app.add_handler(CommandHandler("newround", admin.new_round, filters=private))
    app.add_handler(CommandHandler("rounds", admin.list_rounds, filters=private))
    app.add_handler(CommandHandler("round", admin.show_round, filters=private))
    app.add_handler(CommandHandler("closeround", admin.close_round, filters=private))
    app.add_handler(CommandHandler("cancelround", admin.cancel_round, filters=private))
    app.add_handler(CommandHandler("eligible", campaign.eligible, filters=private))
    app.add_handler(CommandHandler("exclude", console.exclude, filters=private))
    app.add_handler(CommandHandler("method", console.method, filters=private))
    app.add_handler(CommandHandler("export", console.export, filters=private))
    app.add_handler(CommandHandler("newresearch", research.new_research, filters=private))
    app.add_handler(CommandHandler("adopt", research.adopt, filters=private))
    app.add_handler(MessageHandler(filters.Document.ALL & private, console.import_file))
    app.add_handler(CommandHandler("forgetme", privacy.forget_me, filters=private))
    # For anyone, linked or not (shoppers): browsing, rankings, comparisons, inline mode.
    app.add_handler(CommandHandler("scores", showcase.scores, filters=private))
    app.add_handler(CommandHandler("top", showcase.top, filters=private))
    app.add_handler(CommandHandler("compare", showcase.compare, filters=private))
    app.add_handler(InlineQueryHandler(showcase.inline_query))
    app.add_handler(MessageHandler(filters.CONTACT & private, start.contact))
    # Routing by the codec itself: a handler only ever sees data that decodes to its button type.
    app.add_handler(CallbackQueryHandler(rating.ballot_button, pattern=_decodes_to(BallotButton)))
    app.add_handler(CallbackQueryHandler(rating.invitation_button, pattern=_decodes_to(InviteButton)))
    app.add_handler(CallbackQueryHandler(start.language_chosen, pattern=_decodes_to(LanguageButton)))
    app.add_handler(CallbackQueryHandler(privacy.forget_button, pattern=_decodes_to(ForgetButton)))
    app.add_handler(CallbackQueryHandler(showcase.browse, pattern=_decodes_to(ShowcaseButton)))
    app.add_handler(CallbackQueryHandler(lists.page_button, pattern=_decodes_to(PageButton)))
    app.add_handler(CallbackQueryHandler(posts.post_button, pattern=_decodes_to(PostButton)))
    app.add_handler(CallbackQueryHandler(research.research_button, pattern=_decodes_to(ResearchButton)))
    app.add_handler(CallbackQueryHandler(research.research_invitation_button,
                                         pattern=_decodes_to(ResearchInviteButton)))
    # Order matters from here: anything not matched above is malformed, unknown, or stray text.
    app.add_handler(CallbackQueryHandler(rating.malformed_button))
    app.add_handler(MessageHandler(filters.COMMAND & private, start.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & private, rating.stray_text))
    app.add_error_handler(on_error)

    assert app.job_queue is not None
    app.job_queue.run_repeating(reconcile, interval=rt.config.rounds.tick, first=0.0, name="reconcile",
                                job_kwargs={"max_instances": 1, "coalesce": True})
    return app


def _decodes_to(kind: type) -> Callable[[object], bool]:
    return lambda data: isinstance(data, str) and isinstance(decode(data), kind)


def _waker(app: App) -> Callable[[], None]:
    """Runs the reconcile job now (after an admin command), besides its regular ticks."""

    def wake() -> None:
        # A stopping bot starts no new pass: the job queue waits for the running one, but a pass it
        # started meanwhile ran as a task nobody awaited, cancelled mid-write when the loop ended (the
        # next start reconciles anyway).
        if not app.running:
            return
        assert app.job_queue is not None
        app.job_queue.run_once(reconcile, 0.0, name="reconcile-now")

    return wake

