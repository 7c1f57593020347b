"""intake: cursors of the deleted and pending-deleted lists, the quarantine, alert claims (issue 14)

Revision ID: 0003
Revises: 0005 (main had 0005 → 0002 when this branch merged it: chained after it, one head)
Created: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_list_cursors",
        sa.Column("demarche", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("list", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.String(length=300), nullable=True),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("demarche", "list", name=op.f("pk_intake_list_cursors")),
    )
    op.create_table(
        "alert_claims",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_claims")),
    )
    op.create_table(
        "intake_quarantine",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("demarche", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_intake_quarantine")),
    )
    with op.batch_alter_table("intake_quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_quarantine_demarche"), ["demarche"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_quarantine_demarche"))
    op.drop_table("intake_quarantine")
    op.drop_table("alert_claims")
    op.drop_table("intake_list_cursors")
