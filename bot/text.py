"""Text helpers shared by every command: mass-mention safety, topics, vagueness."""

from __future__ import annotations

import re
import unicodedata

from bot.limits import TOPIC_MAX_CHARS

# A zero-width space after "@" (or inside "<!") keeps the text readable while no platform
# recognises it as a mention any more.
_ZWSP = "\u200b"

# Neutralise by position, not by token: anything that *starts* a Slack special mention (`<!`),
# a Discord role mention (`<@&`) or a typed mass mention (`@everyone`, `@here`, `@channel`,
# which Discord matches even when glued to a word) gets a zero-width space after its first
# character. Nested or malformed tokens cannot slip through, because nothing depends on where a
# token ends.
_SPECIAL_OPEN = re.compile(r"<(?=!|@&)")
_TYPED_MASS = re.compile(r"@(?=everyone|here|channel)", re.IGNORECASE)


def defuse_mass_mentions(text: str) -> str:
    """Return `text` with every mass mention made inert (it still reads the same)."""
    return _TYPED_MASS.sub("@" + _ZWSP, _SPECIAL_OPEN.sub("<" + _ZWSP, text))


# `#topic` in free text. Not after a word character (C#, F#) nor after "<" (a Slack channel
# reference such as <#C123|general>).
_TOPIC_TAG = re.compile(r"(?<![\w<&#])#([^\W_][\w+.\-]*)", re.UNICODE)


def normalise_topic(raw: str) -> str:
    """Return the canonical spelling of a topic: lower case, single hyphens, no edge punctuation."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    text = re.sub(r"[\s_]+", "-", text)
    text = re.sub(r"[^\w+.#\-]", "", text)
    text = re.sub(r"-{2,}", "-", text)
    return text[:TOPIC_MAX_CHARS].strip("-.")


def extract_topics(text: str) -> tuple[str, list[str]]:
    """Split `#topic` words out of `text`; return the text (tags kept as words) and the topics."""
    topics: list[str] = []

    def _take(match: re.Match[str]) -> str:
        topic = normalise_topic(match.group(1))
        if topic and topic not in topics:
            topics.append(topic)
        return match.group(1)

    # Tags at the very end are labels, not words of the sentence: drop them from the text.
    trailing = re.search(r"(?:\s+#[^\W_][\w+.\-]*)+\s*$", text)
    body, tail = (text[: trailing.start()], trailing.group(0)) if trailing else (text, "")
    if not body.strip():
        body, tail = text, ""
    cleaned = _TOPIC_TAG.sub(_take, body)
    _TOPIC_TAG.sub(_take, tail)
    return cleaned.strip(), topics


def split_topic_list(raw: str) -> list[str]:
    """Parse a topic list typed in a form field: comma separated, or space separated if no comma."""
    topics: list[str] = []
    separator = r"[,;\n]+" if re.search(r"[,;\n]", raw) else r"\s+"
    for piece in re.split(separator, raw):
        topic = normalise_topic(piece.lstrip("#"))
        if topic and topic not in topics:
            topics.append(topic)
    return topics


_QUESTION_WORDS = frozenset(
    """how what why when where which who whom whose should could would can is are do does did
    any anyone has have will""".split()
)

# Phrases that ask for a person rather than for an answer ("don't ask to ask").
_ASK_TO_ASK = re.compile(
    r"""\b(
        (can|could|would|will)\s+(you|someone|somebody|anyone)\s+(please\s+)?be\s+my\s+mentor
      | (looking\s+for|need|want)\s+a\s+mentor
      | (can|may)\s+i\s+ask\s+(you\s+)?(a\s+)?(question|something)
      | (anyone|anybody|someone|somebody)\s+(here|around|online|available)\b
      | (i\s+)?need\s+help\s*[?!.]*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def vagueness_hint(question: str) -> str | None:
    """Return a short, kind coaching hint when a question is hard to answer, else None."""
    words = re.findall(r"[\w'+#.-]+", question)
    if _ASK_TO_ASK.search(question):
        return (
            "People answer specific questions much more readily than requests for a mentor or "
            "for permission to ask. Try saying what you want to learn and where you are now, "
            "e.g. “How did you prepare for senior interviews? I have two weeks.”"
        )
    if len(words) <= 2:
        return (
            "A few more words would help people answer: what are you trying to do, and what "
            "have you tried so far?"
        )
    has_question = "?" in question or (words and words[0].lower() in _QUESTION_WORDS)
    if not has_question and len(words) < 6:
        return (
            "It isn't quite clear what you'd like to know. Ending with the actual question "
            "(“…how would you approach this?”) makes it easier to answer."
        )
    return None
