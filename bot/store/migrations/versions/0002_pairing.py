"""pairing tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Peer pairing: members' pairing profiles and hints, private do-not-pair lists, rounds (one
row per community and round key: the claim that runs a round once), groups and check-ins.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

from bot.store.types import UTCDateTime


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pair_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('round_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scheduled_for', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('sat_out', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'round_key')
    )
    with op.batch_alter_table('pair_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_rounds_community_id'), ['community_id'], unique=False)

    op.create_table('pairing_settings',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('channel_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('cadence', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('minute_of_day', sa.Integer(), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('anchor_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('community_id')
    )
    op.create_table('pair_avoid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('avoided_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['avoided_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'avoided_id')
    )
    with op.batch_alter_table('pair_avoid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_avoid_avoided_id'), ['avoided_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_avoid_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_avoid_member_id'), ['member_id'], unique=False)

    op.create_table('pair_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('repeat', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['pair_rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pair_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_groups_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_pair_groups_round', ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_groups_round_id'), ['round_id'], unique=False)

    op.create_table('pair_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('joined_at', UTCDateTime(), nullable=False),
    sa.Column('paused_until', UTCDateTime(), nullable=True),
    sa.Column('skip_next', sa.Boolean(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('work_start_minute', sa.Integer(), nullable=True),
    sa.Column('work_end_minute', sa.Integer(), nullable=True),
    sa.Column('career_stage', sa.Integer(), nullable=True),
    sa.Column('sat_out', sa.Integer(), nullable=False),
    sa.Column('trios', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('no_shows', sa.Integer(), nullable=False),
    sa.Column('ignored_checkins', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )
    with op.batch_alter_table('pair_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_members_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_members_member_id'), ['member_id'], unique=False)

    op.create_table('pair_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answered_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['pair_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'member_id')
    )
    with op.batch_alter_table('pair_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_group_members_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_group_members_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pair_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_group_members_member_id'))
        batch_op.drop_index(batch_op.f('ix_pair_group_members_group_id'))

    op.drop_table('pair_group_members')
    with op.batch_alter_table('pair_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_members_member_id'))
        batch_op.drop_index(batch_op.f('ix_pair_members_community_id'))

    op.drop_table('pair_members')
    with op.batch_alter_table('pair_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_groups_round_id'))
        batch_op.drop_index('ix_pair_groups_round')
        batch_op.drop_index(batch_op.f('ix_pair_groups_community_id'))

    op.drop_table('pair_groups')
    with op.batch_alter_table('pair_avoid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_avoid_member_id'))
        batch_op.drop_index(batch_op.f('ix_pair_avoid_community_id'))
        batch_op.drop_index(batch_op.f('ix_pair_avoid_avoided_id'))

    op.drop_table('pair_avoid')
    op.drop_table('pairing_settings')
    with op.batch_alter_table('pair_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_rounds_community_id'))

    op.drop_table('pair_rounds')
