"""Adapters: the console, the in-memory test platform, Slack and Discord."""
