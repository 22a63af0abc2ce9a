"""events.updated_at (the programme feed's ETag and Last-Modified) and the programme's index

Revision ID: 0007_event_updated_at
Revises: 0006_scheduler_heartbeat
Create Date: 2026-11-29 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import dbtypes


# revision identifiers, used by Alembic.
revision = '0007_event_updated_at'
down_revision = '0006_scheduler_heartbeat'
branch_labels = None
depends_on = None


def upgrade():
    # Added nullable, backfilled with each event's creation, then made NOT NULL: an existing event
    # was last known to change when it was created (no constant server default could say that).
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', dbtypes.UTCDateTime(timezone=True), nullable=True))
    op.execute('UPDATE events SET updated_at = created_at')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=dbtypes.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_events_campaign_status_start', ['campaign_id', 'status', 'starts_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_campaign_status_start')
        batch_op.drop_column('updated_at')
