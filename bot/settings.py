"""Typed settings: secrets from the environment (no defaults), the rest from config/default.toml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///data/crowdmentor.db"


def default_config_path() -> Path:
    """Return the defaults file: $CROWDMENTOR_CONFIG, the packaged copy, or the repository's."""
    override = os.environ.get("CROWDMENTOR_CONFIG")
    if override:
        return Path(override)
    packaged = Path(__file__).with_name("default.toml")
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "config" / "default.toml"


class AskSettings(BaseModel):
    """Advice-thread timings and limits."""

    nudge_after_hours: int = Field(24, ge=1)
    close_after_days: int = Field(14, ge=1)
    allow_anonymous: bool = True
    similar_shown: int = Field(3, ge=0, le=10)
    draft_expiry_hours: int = Field(24, ge=1)


class DeliverySettings(BaseModel):
    """Outbox worker pacing."""

    poll_seconds: float = Field(2.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    give_up_after_minutes: float = Field(60, ge=0)
    backoff_base_seconds: float = Field(2.0, gt=0)
    lease_seconds: float = Field(60, gt=0)


class DatabaseSettings(BaseModel):
    """How long to wait for the database before telling the member to try again."""

    connect_timeout_seconds: float = Field(1.0, gt=0)
    command_timeout_seconds: float = Field(1.0, gt=0)


class SchedulerSettings(BaseModel):
    """Timer sweeping."""

    sweep_seconds: float = Field(60, gt=0)


class PrivacySettings(BaseModel):
    """How long data outlives an uninstall."""

    removal_grace_days: int = Field(30, ge=0)


class ConsoleSettings(BaseModel):
    """The local console community."""

    admins: list[str] = ["you"]
    default_user: str = "you"
    default_channel: str = "general"


class Settings(BaseSettings):
    """Everything crowdmentor can be told."""

    model_config = SettingsConfigDict(
        env_prefix="CROWDMENTOR_",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Multi-workspace distribution (OAuth); without them, the single-workspace bot token is used.
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    # HTTP mode's port (Slack events, OAuth, health check).
    port: int = Field(3000, validation_alias="PORT")
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    # Discord sharding: "auto" (Discord picks the count) or a number; unset: one connection.
    discord_shards: str | None = Field(None, validation_alias="CROWDMENTOR_DISCORD_SHARDS")

    ask: AskSettings = AskSettings()
    database: DatabaseSettings = DatabaseSettings()
    delivery: DeliverySettings = DeliverySettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    privacy: PrivacySettings = PrivacySettings()
    console: ConsoleSettings = ConsoleSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read init arguments, then the environment, then the TOML defaults."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_path())
        return (init_settings, env_settings, toml)

    def secret_values(self) -> list[str]:
        """Return every configured secret: tokens, signing and client secrets, the DB password."""
        secrets = [
            value.get_secret_value()
            for value in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_secret,
                self.discord_token,
            )
            if value is not None
        ]
        try:
            password = make_url(self.database_url).password
        except ArgumentError:  # a malformed URL is reported when the database is opened
            password = None
        return [*secrets, *([str(password)] if password else [])]

    def model_post_init(self, context: Any, /) -> None:
        """Treat an empty DATABASE_URL (as in example.env) as unset."""
        if not self.database_url.strip():
            self.database_url = DEFAULT_DATABASE_URL
