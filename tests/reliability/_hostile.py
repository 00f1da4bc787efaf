"""Hypothesis strategies for hostile text: mass mentions, invisible characters, markup, size."""

from __future__ import annotations

import re

from hypothesis import strategies as st

# Every way a message can ping many people at once on the three platforms.
MASS_MENTIONS = (
    "@everyone",
    "@here",
    "@channel",
    "@EVERYONE",
    "@Here",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0123ABC>",
    "<!subteam^S0123ABC|@devs>",
    "<@&123456789012345678>",
    "<<!channel>>",
    "<!<!here>>",
    "x@everyone",
    "@@here",
)

# Characters that are invisible, reorder text, or end strings in C libraries and PostgreSQL.
INVISIBLE = (
    "\x00", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d", "\u2066",
    "\u2069", "\u00ad", "\r", "\t", "\x1b", "\x7f", "\u0085", "\u2028",
)  # fmt: skip

# Characters that mean something in Slack mrkdwn or Discord markdown, or in Slack's escaping.
MARKUP = (
    "*", "_", "~", "`", "```", ">", "<", "&", "&amp;", "&lt;", "|", "#", ":", "||", "[", "]",
    "(", ")", "\\", "-", "<#C012|general>", "<@U0ADA>", "<@U0ADA|ada>", "<https://x.io|x>",
    "<mailto:a@b.c|a>", "<@!123>", "<#>", "<>", "@", "!",
)  # fmt: skip

TOKENS = st.sampled_from(MASS_MENTIONS + INVISIBLE + MARKUP + (" ", "\n", "#topic", "--flag"))

# A mention that still pings: the forms above, without a zero-width space breaking them up.
_LIVE_MASS = re.compile(r"<!|<@&|@(?:everyone|here|channel)", re.IGNORECASE)


def hostile_text(max_pieces: int = 30) -> st.SearchStrategy[str]:
    """Text made of hostile tokens mixed with arbitrary unicode."""
    piece = st.one_of(TOKENS, st.text(max_size=12))
    return st.lists(piece, max_size=max_pieces).map("".join)


def huge_text() -> st.SearchStrategy[str]:
    """A very long text (tens of thousands of characters) with hostile tokens inside."""
    return st.tuples(hostile_text(8), st.integers(2_000, 60_000), hostile_text(8)).map(
        lambda parts: parts[0] + ("word " * (parts[1] // 5)) + parts[2]
    )


def live_mass_mentions(text: str) -> list[str]:
    """Return the mass mentions in `text` that would still ping people."""
    return _LIVE_MASS.findall(text)
