"""the handover, widened: before issue and the privacy advice at install, per job

Revision ID: 0028
Revises: 0027
Create Date: 2027-02-01 12:00:00

A job that hands over a connected device records seven more points, each "done", "not
applicable" or NULL (not answered yet): before the first connected device is handed over,
that the survivor has a phone only they control and a current risk assessment and safety
plan; at install, the privacy advice for domestic cameras (filming within the boundary,
audio off, signs, deleting footage, answering a neighbour's request for footage).

Existing jobs keep NULL. A job still open with a connected device will need them answered
before it is completed; completed jobs are history and stay as they were.

Each column carries its CHECK as a column constraint, which SQLite accepts in ALTER TABLE
ADD COLUMN and drops with the column (SQLite 3.35+), so no table is rebuilt (as in 0018).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

COLUMNS = ('phone_only_theirs', 'safety_plan_current', 'films_within_boundary', 'audio_recording_off',
           'recording_signs_up', 'footage_deleted_regularly', 'footage_requests_explained')


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column in COLUMNS:
        name = f'ck_jobs_{column}_known'
        check = f"{column} IS NULL OR {column} IN ('done', 'not_applicable')"
        if sqlite:
            op.execute(f'ALTER TABLE jobs ADD COLUMN {column} VARCHAR(16) CONSTRAINT {name} CHECK ({check})')
        else:
            op.execute(f'ALTER TABLE jobs ADD COLUMN {column} VARCHAR(16)')
            op.execute(f'ALTER TABLE jobs ADD CONSTRAINT {name} CHECK ({check})')


def downgrade():
    for column in reversed(COLUMNS):
        op.execute(f'ALTER TABLE jobs DROP COLUMN {column}')  # drops its CHECK with it
