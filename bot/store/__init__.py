"""Storage: SQLModel tables, engines, units of work and the queries commands use."""

# Every table module is imported here, so importing any part of the store registers them all on
# SQLModel.metadata (migrations and schema checks compare against it).
from bot.store import models, pairing_models, tag_models

__all__ = ["models", "pairing_models", "tag_models"]
