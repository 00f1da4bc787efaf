"""The peer-pairing matching engine: pure functions, no database, no platform.

`match_round` groups the members present this round (pairs, one trio when the count is odd)
from their hints, the history of who met whom, the do-not-pair rules and the fairness ledger;
the same inputs and seed always give the same groups.
"""

from bot.matching.engine import (
    Group,
    LeftOut,
    Reason,
    RepeatPair,
    RoundReport,
    RoundResult,
    match_round,
    seed_int,
)
from bot.matching.hours import utc_offset_minutes, working_hours_utc
from bot.matching.model import (
    Fairness,
    FairnessChange,
    History,
    Ledger,
    Member,
    MemberId,
    Outcome,
    Weights,
)

__all__ = [
    "Fairness",
    "FairnessChange",
    "Group",
    "History",
    "Ledger",
    "LeftOut",
    "Member",
    "MemberId",
    "Outcome",
    "Reason",
    "RepeatPair",
    "RoundReport",
    "RoundResult",
    "Weights",
    "match_round",
    "seed_int",
    "utc_offset_minutes",
    "working_hours_utc",
]
