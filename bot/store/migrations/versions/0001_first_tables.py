"""first tables: communities, members, questions, outbox, timers

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

Full-text search over questions: an external-content FTS5 table kept in step by triggers on
SQLite; a generated tsvector column with a GIN index on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

from bot.store.types import UTCDateTime


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('question_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('removed_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'external_id')
    )
    op.create_table('community_settings',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('ask_channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ask_channel_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('allow_anonymous', sa.Boolean(), nullable=True),
    sa.Column('nudge_after_hours', sa.Integer(), nullable=True),
    sa.Column('close_after_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('community_id')
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'external_id')
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_community_id'), ['community_id'], unique=False)

    op.create_table('timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('fired_at', UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'key')
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timers_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_timers_pending', ['fired_at', 'due_at'], unique=False)

    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'slug')
    )
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topics_community_id'), ['community_id'], unique=False)

    op.create_table('community_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'role')
    )
    with op.batch_alter_table('community_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_roles_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_roles_member_id'), ['member_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('thread_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('update_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('parent_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('recipient_ids', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('thread_title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('topics', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('handle', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('on_delivered', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('lease_until', UTCDateTime(), nullable=True),
    sa.Column('platform_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('platform_thread_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('platform_channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_member_id'), ['member_id'], unique=False)

    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('asker_id', sa.Integer(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('context', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('post_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('thread_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('reply_count', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('posted_at', UTCDateTime(), nullable=True),
    sa.Column('last_activity_at', UTCDateTime(), nullable=False),
    sa.Column('nudged_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('helped_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asker_id'], ['members.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['helped_by_id'], ['members.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['members.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'number')
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questions_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_questions_community_status', ['community_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_questions_helped_by_id'), ['helped_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questions_resolved_by_id'), ['resolved_by_id'], unique=False)
        batch_op.create_index('ix_questions_thread', ['community_id', 'thread_ref'], unique=False)

    op.create_table('question_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('message_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('question_id', 'message_ref')
    )
    with op.batch_alter_table('question_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_replies_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_replies_question_id'), ['question_id'], unique=False)

    op.create_table('question_topics',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'topic_id')
    )


    _create_search()

def downgrade() -> None:
    _drop_search()
    op.drop_table('question_topics')
    with op.batch_alter_table('question_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_replies_question_id'))
        batch_op.drop_index(batch_op.f('ix_question_replies_author_id'))

    op.drop_table('question_replies')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_thread')
        batch_op.drop_index(batch_op.f('ix_questions_resolved_by_id'))
        batch_op.drop_index(batch_op.f('ix_questions_helped_by_id'))
        batch_op.drop_index('ix_questions_community_status')
        batch_op.drop_index(batch_op.f('ix_questions_community_id'))
        batch_op.drop_index(batch_op.f('ix_questions_asker_id'))

    op.drop_table('questions')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_member_id'))
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index(batch_op.f('ix_outbox_community_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('community_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_roles_member_id'))
        batch_op.drop_index(batch_op.f('ix_community_roles_community_id'))

    op.drop_table('community_roles')
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topics_community_id'))

    op.drop_table('topics')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_pending')
        batch_op.drop_index(batch_op.f('ix_timers_community_id'))

    op.drop_table('timers')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_community_id'))

    op.drop_table('members')
    op.drop_table('community_settings')
    op.drop_table('communities')


_SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE questions_fts USING fts5(
        text, context, content='questions', content_rowid='id', tokenize='porter unicode61'
    )""",
    """CREATE TRIGGER questions_fts_insert AFTER INSERT ON questions BEGIN
        INSERT INTO questions_fts(rowid, text, context) VALUES (new.id, new.text, new.context);
    END""",
    """CREATE TRIGGER questions_fts_delete AFTER DELETE ON questions BEGIN
        INSERT INTO questions_fts(questions_fts, rowid, text, context)
        VALUES ('delete', old.id, old.text, old.context);
    END""",
    """CREATE TRIGGER questions_fts_update AFTER UPDATE OF text, context ON questions BEGIN
        INSERT INTO questions_fts(questions_fts, rowid, text, context)
        VALUES ('delete', old.id, old.text, old.context);
        INSERT INTO questions_fts(rowid, text, context) VALUES (new.id, new.text, new.context);
    END""",
]

_POSTGRES_SEARCH = [
    """ALTER TABLE questions ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english', text || ' ' || context)
    ) STORED""",
    "CREATE INDEX ix_questions_search ON questions USING gin (search)",
]


def _create_search() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH if dialect == "sqlite" else _POSTGRES_SEARCH:
        op.execute(statement)


def _drop_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS questions_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS questions_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_questions_search")
        op.execute("ALTER TABLE questions DROP COLUMN IF EXISTS search")
