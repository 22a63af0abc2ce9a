"""campaigns: the charter (accent colour, footer line, one logo)

Revision ID: 0011_campaign_brand
Revises: 0010_delivery_worker_partial
Create Date: 2026-12-05 06:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_campaign_brand'
down_revision = '0010_delivery_worker_partial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accent_color', sa.String(length=7), server_default='#8a4b08', nullable=False))
        batch_op.add_column(sa.Column('brand_footer', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('logo_data', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_type', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('logo_hash', sa.String(length=16), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('logo_hash')
        batch_op.drop_column('logo_type')
        batch_op.drop_column('logo_data')
        batch_op.drop_column('brand_footer')
        batch_op.drop_column('accent_color')
