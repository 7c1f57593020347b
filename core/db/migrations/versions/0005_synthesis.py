"""synthesis: BESSII's synthesis of every dossier and its CRA consultations (issue 17)

Revision ID: 0005
Revises: 0002
Created: 2026-12-01 09:18:12.329807
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cra_consultation_records",
        sa.Column("dossier_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("round", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opinion", sa.String(length=40), nullable=True),
        sa.Column("motivation", sa.Text(), nullable=True),
        sa.Column("criteria_assessment", sa.Text(), nullable=True),
        sa.Column("appreciations", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=400), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_number", "region", "round",
                                name=op.f("pk_cra_consultation_records")),
    )
    op.create_table(
        "dossier_syntheses",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("project", sa.String(length=300), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("fragile_territory", sa.Boolean(), nullable=True),
        sa.Column("eligibility_majority", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_dossier_syntheses")),
    )
    with op.batch_alter_table("dossier_syntheses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_syntheses_decided_at"), ["decided_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_syntheses_filed_at"), ["filed_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dossier_syntheses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_syntheses_filed_at"))
        batch_op.drop_index(batch_op.f("ix_dossier_syntheses_decided_at"))
    op.drop_table("dossier_syntheses")
    op.drop_table("cra_consultation_records")
