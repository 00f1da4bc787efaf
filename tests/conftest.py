pytest_plugins = ["bot.testing"]
