"""topic tags: "ask me about X" tags, availability, asks, coffee requests, topic aliases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Members' topic tags (with the owner's pause and last-asked time copied on, so one index range
ranks who is free for a topic), per-member availability, the log of asks that caps count, coffee
requests, and admins' topic aliases. Only these tables: nothing else is touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

from bot.store.types import UTCDateTime


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('topic_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'alias')
    )
    with op.batch_alter_table('topic_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_aliases_community_id'), ['community_id'], unique=False)

    op.create_table('coffee_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('answered_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coffee_requests', schema=None) as batch_op:
        batch_op.create_index('ix_coffee_pair', ['requester_id', 'recipient_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_coffee_requests_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coffee_requests_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coffee_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coffee_requests_topic_id'), ['topic_id'], unique=False)

    op.create_table('member_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', UTCDateTime(), nullable=False),
    sa.Column('confirm_asked_at', UTCDateTime(), nullable=True),
    sa.Column('dormant', sa.Boolean(), nullable=False),
    sa.Column('paused_until', UTCDateTime(), nullable=True),
    sa.Column('last_asked_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'topic_id')
    )
    with op.batch_alter_table('member_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_tags_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_tags_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_member_tags_rank', ['topic_id', 'dormant', 'last_asked_at', 'member_id'], unique=False)

    op.create_table('tag_profiles',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('paused_until', UTCDateTime(), nullable=True),
    sa.Column('weekly_cap', sa.Integer(), nullable=True),
    sa.Column('last_asked_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('tag_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_profiles_community_id'), ['community_id'], unique=False)

    op.create_table('tag_asks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asker_id'], ['members.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('question_id', 'member_id')
    )
    with op.batch_alter_table('tag_asks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_asks_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tag_asks_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_tag_asks_member_time', ['member_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tag_asks_question_id'), ['question_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tag_asks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_asks_question_id'))
        batch_op.drop_index('ix_tag_asks_member_time')
        batch_op.drop_index(batch_op.f('ix_tag_asks_community_id'))
        batch_op.drop_index(batch_op.f('ix_tag_asks_asker_id'))

    op.drop_table('tag_asks')
    with op.batch_alter_table('tag_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_profiles_community_id'))

    op.drop_table('tag_profiles')
    with op.batch_alter_table('member_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_member_tags_rank')
        batch_op.drop_index(batch_op.f('ix_member_tags_member_id'))
        batch_op.drop_index(batch_op.f('ix_member_tags_community_id'))

    op.drop_table('member_tags')
    with op.batch_alter_table('coffee_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coffee_requests_topic_id'))
        batch_op.drop_index(batch_op.f('ix_coffee_requests_requester_id'))
        batch_op.drop_index(batch_op.f('ix_coffee_requests_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_coffee_requests_community_id'))
        batch_op.drop_index('ix_coffee_pair')

    op.drop_table('coffee_requests')
    with op.batch_alter_table('topic_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_aliases_community_id'))

    op.drop_table('topic_aliases')
