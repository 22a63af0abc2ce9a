"""users: the edition each person works on (the campaign chooser), remembered across sign-ins

Revision ID: 0017_user_campaign
Revises: 0016_import_jobs
Create Date: 2026-12-05 09:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_user_campaign'
down_revision = '0016_import_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_users_campaign_id_campaigns', 'campaigns', ['campaign_id'], ['id'], ondelete='SET NULL'
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('fk_users_campaign_id_campaigns', type_='foreignkey')
        batch_op.drop_column('campaign_id')
