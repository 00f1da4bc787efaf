"""Slack OAuth installations and states in our database, with bot tokens sealed at rest.

Tokens are encrypted and authenticated before they are written: a keystream from HMAC-SHA256
in counter mode (a pseudo-random function keyed by a secret the database does not hold) XORed
with the token, then an HMAC-SHA256 tag over version, nonce and ciphertext (encrypt-then-MAC),
with separate keys derived from the app's client secret. A copy of the database alone therefore
yields no usable token. The standard library has no AEAD cipher; this construction needs none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import SlackInstallation, SlackOAuthState

SEAL_VERSION = b"v1"
_NONCE_BYTES = 16
_TAG_BYTES = 32


class SealError(ValueError):
    """A sealed token was altered, or sealed under another key."""


class TokenSeal:
    """Encrypt-then-MAC for short secrets (bot tokens), keyed by one application secret."""

    def __init__(self, secret: str) -> None:
        root = hashlib.sha256(b"crowdmentor/slack-installation-tokens\0" + secret.encode()).digest()
        self._encryption_key = hmac.new(root, b"encrypt", hashlib.sha256).digest()
        self._mac_key = hmac.new(root, b"authenticate", hashlib.sha256).digest()

    def _keystream(self, nonce: bytes, size: int) -> bytes:
        blocks = (size + 31) // 32
        stream = b"".join(
            hmac.new(self._encryption_key, nonce + n.to_bytes(4, "big"), hashlib.sha256).digest()
            for n in range(blocks)
        )
        return stream[:size]

    def _tag(self, nonce: bytes, body: bytes) -> bytes:
        return hmac.new(self._mac_key, SEAL_VERSION + nonce + body, hashlib.sha256).digest()

    def seal(self, plain: str) -> str:
        """Return `plain` encrypted and authenticated, as text."""
        data = plain.encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        body = bytes(a ^ b for a, b in zip(data, self._keystream(nonce, len(data)), strict=True))
        sealed = nonce + body + self._tag(nonce, body)
        return SEAL_VERSION.decode() + ":" + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str) -> str:
        """Return the plain text of a sealed value; raise SealError if it was tampered with."""
        version, _, encoded = sealed.partition(":")
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
        except ValueError:
            raise SealError("not a sealed value") from None
        if version.encode() != SEAL_VERSION or len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise SealError("not a sealed value")
        nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(nonce, body)):
            raise SealError("the sealed value does not match its key")
        return bytes(
            a ^ b for a, b in zip(body, self._keystream(nonce, len(body)), strict=True)
        ).decode()


@dataclass(frozen=True, slots=True)
class Installation:
    """One workspace's installation, tokens opened."""

    team_id: str
    team_name: str
    enterprise_id: str | None
    app_id: str
    bot_id: str
    bot_user_id: str
    bot_scopes: str
    bot_token: str
    bot_refresh_token: str | None
    bot_token_expires_at: datetime | None
    installer_user_id: str
    installed_at: datetime


class InstallationRepository:
    """Save, find and forget installations; issue and consume OAuth states."""

    def __init__(self, database: Database, seal: TokenSeal) -> None:
        self.database = database
        self.seal = seal

    async def save(self, installation: Installation) -> None:
        """Store a workspace's installation (a reinstall replaces the earlier one)."""
        async with self.database.unit_of_work() as uow:
            query = select(SlackInstallation).where(
                SlackInstallation.team_id == installation.team_id
            )
            row = (await uow.session.exec(query)).first() or SlackInstallation(
                team_id=installation.team_id, bot_token="", installed_at=installation.installed_at
            )
            row.team_name = installation.team_name[:200]
            row.enterprise_id = installation.enterprise_id
            row.app_id = installation.app_id
            row.bot_id = installation.bot_id
            row.bot_user_id = installation.bot_user_id
            row.bot_scopes = installation.bot_scopes[:2000]
            row.bot_token = self.seal.seal(installation.bot_token)
            row.bot_refresh_token = (
                self.seal.seal(installation.bot_refresh_token)
                if installation.bot_refresh_token
                else None
            )
            row.bot_token_expires_at = installation.bot_token_expires_at
            row.installer_user_id = installation.installer_user_id
            row.installed_at = installation.installed_at
            uow.session.add(row)

    async def find(self, team_id: str) -> Installation | None:
        """Return a workspace's installation, or None when it is not installed."""
        async with self.database.unit_of_work() as uow:
            query = select(SlackInstallation).where(SlackInstallation.team_id == team_id)
            row = (await uow.session.exec(query)).first()
        if row is None:
            return None
        return Installation(
            team_id=row.team_id,
            team_name=row.team_name,
            enterprise_id=row.enterprise_id,
            app_id=row.app_id,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            bot_token=self.seal.open(row.bot_token),
            bot_refresh_token=(
                self.seal.open(row.bot_refresh_token) if row.bot_refresh_token else None
            ),
            bot_token_expires_at=row.bot_token_expires_at,
            installer_user_id=row.installer_user_id,
            installed_at=row.installed_at,
        )

    async def forget(self, team_id: str) -> None:
        """Delete a workspace's installation (uninstalled, or its bot token revoked)."""
        async with self.database.unit_of_work() as uow:
            await uow.session.exec(  # type: ignore[call-overload]
                delete(SlackInstallation).where(col(SlackInstallation.team_id) == team_id)
            )

    async def issue_state(self, now: datetime, valid_for: timedelta) -> str:
        """Return a new OAuth state, valid once for `valid_for`."""
        state = secrets.token_urlsafe(32)
        async with self.database.unit_of_work() as uow:
            await uow.session.exec(  # type: ignore[call-overload]
                delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) < now)
            )
            uow.session.add(SlackOAuthState(state=state, expires_at=now + valid_for))
        return state

    async def consume_state(self, state: str, now: datetime) -> bool:
        """Use up a state; True only the first time, and only before it expires."""
        async with self.database.unit_of_work() as uow:
            result = await uow.session.exec(  # type: ignore[call-overload]
                delete(SlackOAuthState).where(
                    col(SlackOAuthState.state) == state[:64],
                    col(SlackOAuthState.expires_at) >= now,
                )
            )
        return bool(result.rowcount)
