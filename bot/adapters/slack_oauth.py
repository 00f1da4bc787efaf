"""Multi-workspace distribution: Slack's OAuth install flow, with installations in our database.

Enabled when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; `GET /slack/install` starts an
install and `GET /slack/oauth_redirect` finishes it. Bolt then finds each workspace's bot token
through `DatabaseInstallationStore`. Without them, the single bot token is used (the default).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_inbound import PLATFORM
from bot.adapters.slack_manifest import BOT_SCOPES, OAUTH_REDIRECT_PATH
from bot.app import App
from bot.events import Community
from bot.store.slack_installations import Installation as StoredInstallation
from bot.store.slack_installations import InstallationRepository, TokenSeal

log = logging.getLogger(__name__)
# The OAuth exchange carries the code, the state and the new bot token, and bolt and slack_sdk
# dump requests and responses at DEBUG: the exchange logs through a logger that never does.
exchange_log = logging.getLogger(f"{__name__}.exchange")
exchange_log.setLevel(logging.INFO)

INSTALL_PATH = "/slack/install"
# Bolt's default, and what Slack's docs suggest: an install must finish within 10 minutes.
# Source: slack_sdk.oauth.state_utils.OAuthStateUtils.default_expiration_seconds
STATE_VALID_FOR = timedelta(seconds=600)


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value or 0), UTC)


def _stored(bot: Bot, installer: str = "") -> StoredInstallation:
    return StoredInstallation(
        team_id=bot.team_id or "",
        team_name=bot.team_name or "",
        enterprise_id=bot.enterprise_id,
        app_id=bot.app_id or "",
        bot_id=bot.bot_id or "",
        bot_user_id=bot.bot_user_id or "",
        bot_scopes=",".join(bot.bot_scopes or []),
        bot_token=bot.bot_token,
        bot_refresh_token=bot.bot_refresh_token,
        bot_token_expires_at=(
            _when(bot.bot_token_expires_at) if bot.bot_token_expires_at else None
        ),
        installer_user_id=installer,
        installed_at=_when(bot.installed_at),
    )


def _bot(row: StoredInstallation) -> Bot:
    return Bot(
        app_id=row.app_id,
        enterprise_id=row.enterprise_id,
        team_id=row.team_id,
        team_name=row.team_name,
        bot_token=row.bot_token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        bot_refresh_token=row.bot_refresh_token,
        bot_token_expires_at=(
            int(row.bot_token_expires_at.timestamp()) if row.bot_token_expires_at else None
        ),
        installed_at=row.installed_at.timestamp(),
    )


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bolt's installation store, backed by our database (bot installations only)."""

    def __init__(self, repository: InstallationRepository, app: App) -> None:
        self.repository = repository
        self.app = app

    @property
    def logger(self) -> logging.Logger:
        """Return the store's logger."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store the bot part of a finished installation."""
        await self.async_save_bot(installation.to_bot())
        log.info("installed in workspace %s", installation.team_id)
        if installation.team_id:
            # A reinstall within the grace period after an uninstall keeps the workspace's data.
            await self.app.dispatcher.community_returned(
                Community(PLATFORM, installation.team_id, installation.team_name or "")
            )
        # The installer's user token is never requested, so nothing else needs keeping.
        del installation

    async def async_save_bot(self, bot: Bot) -> None:
        """Store (or replace) a workspace's bot installation."""
        await self.repository.save(_stored(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """Return a workspace's bot installation."""
        del enterprise_id, is_enterprise_install
        row = await self.repository.find(team_id or "")
        return _bot(row) if row else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """Return a workspace's installation (its bot part)."""
        del enterprise_id, is_enterprise_install
        row = await self.repository.find(team_id or "")
        if row is None or (user_id and user_id != row.installer_user_id):
            return None
        return Installation(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id,
            team_id=row.team_id,
            team_name=row.team_name,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            user_id=row.installer_user_id,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot installation."""
        del enterprise_id
        await self.repository.forget(team_id or "")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installation."""
        del enterprise_id, user_id
        await self.repository.forget(team_id or "")


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth states in our database, so any instance can finish an install another started."""

    def __init__(self, repository: InstallationRepository, app: App) -> None:
        self.repository = repository
        self.clock = app.clock

    @property
    def logger(self) -> logging.Logger:
        """Return the store's logger."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """Return a new single-use state."""
        del args, kwargs
        return await self.repository.issue_state(self.clock.now(), STATE_VALID_FOR)

    async def async_consume(self, state: str) -> bool:
        """Use a state up; False when unknown, used already or expired."""
        return await self.repository.consume_state(state, self.clock.now())


class SlackOAuth:
    """Everything multi-workspace mode adds to the adapter."""

    def __init__(self, app: App, *, base_url: str) -> None:
        settings = app.settings
        assert settings.slack_client_id
        assert settings.slack_client_secret
        secret = settings.slack_client_secret.get_secret_value()
        self.repository = InstallationRepository(app.database, TokenSeal(secret))
        self.installation_store = DatabaseInstallationStore(self.repository, app)
        self.settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=secret,
            scopes=list(BOT_SCOPES),
            installation_store=self.installation_store,
            installation_store_bot_only=True,
            state_store=DatabaseStateStore(self.repository, app),
            state_expiration_seconds=int(STATE_VALID_FOR.total_seconds()),
            install_path=INSTALL_PATH,
            redirect_uri_path=OAUTH_REDIRECT_PATH,
        )
        self.base_url = base_url
        self.api_url = settings.slack_api_url

    def bolt_options(self) -> dict[str, Any]:
        """Return the AsyncApp arguments for OAuth."""
        flow = AsyncOAuthFlow(
            client=AsyncWebClient(base_url=self.api_url, logger=exchange_log),
            logger=exchange_log,
            settings=self.settings,
        )
        return {"oauth_flow": flow, "installation_store_bot_only": True}

    async def bot_token(self, team_id: str) -> str | None:
        """Return a workspace's bot token, or None when it is not installed."""
        row = await self.repository.find(team_id)
        return row.bot_token if row else None

    async def team_name(self, team_id: str) -> str:
        """Return the name the workspace had when it installed crowdmentor."""
        row = await self.repository.find(team_id)
        return row.team_name if row else ""

    async def forget(self, team_id: str) -> None:
        """Delete a workspace's installation (uninstalled, or its bot token revoked)."""
        await self.repository.forget(team_id)

    def add_routes(self, application: web.Application, bolt: AsyncApp) -> None:
        """Serve the install page and the OAuth redirect."""
        flow = bolt.oauth_flow
        assert flow is not None

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        async def redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        application.router.add_get(INSTALL_PATH, install)
        application.router.add_get(OAUTH_REDIRECT_PATH, redirect)
