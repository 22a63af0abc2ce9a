"""bounce_events: bounces, complaints and auto-replies reported after the server's 250

Revision ID: 0013_bounce_events
Revises: 0012_organisation_name_key
Create Date: 2026-12-05 06:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

import dbtypes

# revision identifiers, used by Alembic.
revision = '0013_bounce_events'
down_revision = '0012_organisation_name_key'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bounce_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('mailing_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('diagnostic', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('received_at', dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_bounce_events_contact_id_contacts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_bounce_events_delivery_id_deliveries'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_bounce_events_mailing_id_mailings'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_events')),
        sa.UniqueConstraint('fingerprint', name=op.f('uq_bounce_events_fingerprint')),
    )
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.create_index('ix_bounce_events_contact_kind_at', ['contact_id', 'kind', 'received_at'], unique=False)
        batch_op.create_index('ix_bounce_events_mailing_kind', ['mailing_id', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.drop_index('ix_bounce_events_mailing_kind')
        batch_op.drop_index('ix_bounce_events_contact_kind_at')
    op.drop_table('bounce_events')
