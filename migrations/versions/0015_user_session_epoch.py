"""users: a session generation, raised at sign-out, that every session and remember cookie carries

Revision ID: 0015_user_session_epoch
Revises: 0014_outbox_messages
Create Date: 2026-12-05 07:35:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_user_session_epoch'
down_revision = '0014_outbox_messages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
