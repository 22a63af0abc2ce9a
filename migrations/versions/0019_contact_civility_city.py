"""contacts: civility and city (read from imports, used by salutations)

Revision ID: 0019_contact_civility_city
Revises: 0018_press_loop
Create Date: 2026-12-05 09:45:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0019_contact_civility_city"
down_revision = "0018_press_loop"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("civility", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=100), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("city")
        batch_op.drop_column("civility")
