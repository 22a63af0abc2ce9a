"""subscription_choices: what each contact still receives, per stream (national, a region, partners), dated

Revision ID: 0022_subscription_choices
Revises: 0021_milestone_anchors
Create Date: 2026-12-05 09:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes


# revision identifiers, used by Alembic.
revision = '0022_subscription_choices'
down_revision = '0021_milestone_anchors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subscription_choices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('stream', sa.String(length=20), nullable=False),
        sa.Column('receives', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('chosen_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['contact_id'], ['contacts.id'], name=op.f('fk_subscription_choices_contact_id_contacts'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_choices')),
        sa.UniqueConstraint('contact_id', 'stream', name='uq_subscription_choices_contact_stream'),
    )
    with op.batch_alter_table('subscription_choices', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_choices_stream', ['stream', 'receives'], unique=False)


def downgrade():
    with op.batch_alter_table('subscription_choices', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_choices_stream')
    op.drop_table('subscription_choices')
