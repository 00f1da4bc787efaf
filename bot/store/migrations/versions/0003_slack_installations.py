"""slack installations: OAuth installations per workspace (sealed tokens) and OAuth states

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

from bot.store.types import UTCDateTime


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('slack_installations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('team_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('enterprise_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('app_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('bot_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('bot_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('bot_scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('bot_token', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('bot_refresh_token', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('bot_token_expires_at', UTCDateTime(), nullable=True),
    sa.Column('installer_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('installed_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id')
    )
    op.create_table('slack_oauth_states',
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('state')
    )


def downgrade() -> None:
    op.drop_table('slack_oauth_states')
    op.drop_table('slack_installations')
