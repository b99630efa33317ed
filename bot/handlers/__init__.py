"""Telegram handlers, one module per feature; `bot.app.build_application` registers them."""
