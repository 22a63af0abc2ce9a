"""outbox: messages kept instead of sent (RELAIS_MAIL_OUTBOX)

Revision ID: 0014_outbox_messages
Revises: 0013_bounce_events
Create Date: 2026-12-05 06:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes

# revision identifiers, used by Alembic.
revision = '0014_outbox_messages'
down_revision = '0013_bounce_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_id', sa.Integer(), nullable=True),
        sa.Column('sender', sa.String(length=254), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=1000), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_mailing_id', ['mailing_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_mailing_id')
        batch_op.drop_index('ix_outbox_messages_created_at')
    op.drop_table('outbox_messages')
