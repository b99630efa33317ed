"""The admin console in the chat: /exclude, /method, /export, and store files sent as documents.

Every action here goes to the audit log; a non-admin gets the unknown-command answer (admin_only).
"""

from __future__ import annotations

import json

from telegram import Update

from bot.config import ByteSize
from bot.domain import audit, people
from bot.domain.settings import scoring_method
from bot.domain.storedata import import_document
from bot.handlers.admin import actor, admin_only, on_round
from bot.handlers.common import Context, language, reply, runtime
from bot.research_screens import factor_sets_text
from bot.texts import t
from scoring.bound import BOUND_SHARES, typical_bound

# The Bot API lets a bot download files up to 20 MB.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


@admin_only
async def exclude(update: Update, context: Context) -> None:
    """Excludes a customer: no more invitations, and their ballots are screened out."""
    rt, lang = runtime(context), await language(update, context)
    if len(context.args or []) != 1:
        await reply(update, t(lang, "admin.usage.exclude"))
        return
    customer_id = context.args[0]  # type: ignore[index]
    async with audit.audited(rt, actor(update), "customer.exclude", customer_id):
        await people.exclude(rt, customer_id)
    await reply(update, t(lang, "admin.excluded", customer_id=customer_id))


@admin_only
async def method(update: Update, context: Context) -> None:
    """Shows the scoring method's version and every parameter, and what they mean in plain words."""
    rt, lang = runtime(context), await language(update, context)
    current = scoring_method(rt.config, min_ballots=rt.config.rounds.min_ballots)
    params = "\n".join(f"{key} = {value}" for key, value in current.to_dict().items())
    bounds = {f"bound{round(p * 100)}": f"{typical_bound(current.pull_cap, p):.2f}" for p in BOUND_SHARES}
    await reply(update, t(lang, "admin.method", version=current.version, params=params,
                          confidence=round(current.confidence * 100), **bounds)
                + "\n\n" + await factor_sets_text(rt, lang))


@on_round("/export")
async def export(update: Update, context: Context, round_id: int) -> None:
    """Sends a round's pseudonymous ballots as CSV, and its method document as JSON."""
    from bot.domain.exports import export_round

    rt, lang = runtime(context), await language(update, context)
    async with audit.audited(rt, actor(update), "export", str(round_id)):
        text, document = await export_round(rt, round_id)
    assert update.effective_message is not None
    await update.effective_message.reply_document(text.encode(), filename=f"round-{round_id}.csv",
                                                  caption=t(lang, "admin.exported", round_id=round_id),
                                                  parse_mode="HTML")
    await update.effective_message.reply_document(
        json.dumps(document, ensure_ascii=False, indent=2).encode(), filename=f"round-{round_id}.method.json")


@admin_only
async def import_file(update: Update, context: Context) -> None:
    """Imports a CSV or TOML file sent as a document; replies with what changed or every bad line."""
    rt, lang = runtime(context), await language(update, context)
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    name = document.file_name or "document"
    limit = ByteSize(min(rt.config.bot.max_import_size, MAX_DOCUMENT_BYTES))
    # Refused unread: a 19 MB document took 677 MB to hold and parse. Telegram states the size; a
    # download that turns out bigger than it said is refused all the same.
    if document.file_size is None or document.file_size > limit:
        await reply(update, t(lang, "admin.import_too_big", file=name, limit=str(limit)))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    if len(data) > limit:
        await reply(update, t(lang, "admin.import_too_big", file=name, limit=str(limit)))
        return
    async with audit.audited(rt, actor(update), "import", name) as outcome:
        result = await import_document(rt.db, name, data, secret=rt.config.require_secret(),
                                       region=rt.config.identity.default_region)
        outcome.result = f"{result.kind}: +{result.added} ~{result.updated} ={result.unchanged}"
    await reply(update, t(lang, "admin.imported", file=name, kind=t(lang, f"import.kind.{result.kind}"),
                          added=result.added, updated=result.updated, unchanged=result.unchanged))
