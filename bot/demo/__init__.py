"""`redheart demo` and the sample store data it runs on (`bot.demo.sampledata`, also used by the
bench and the tests): tooling beside the bot, imported by the CLI only when asked for."""
