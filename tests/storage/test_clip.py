"""One clip for every stored message (a step's error, a tenant's drift detail, an alert): it fits
the column, and a cut message says so with its last character."""

from __future__ import annotations

from storage.tables import MESSAGE_LENGTH, Alert, Engine, Run, StepRun, Tenant, clip


def test_a_message_that_fits_is_kept_and_a_longer_one_is_cut_to_the_column():
    assert clip(None) is None
    assert clip('x' * MESSAGE_LENGTH) == 'x' * MESSAGE_LENGTH
    cut = clip('y' * (MESSAGE_LENGTH + 500))
    assert len(cut) == MESSAGE_LENGTH and cut.endswith('y…')
    assert clip('abcdef', limit=4) == 'abc…'


def test_the_clip_fits_every_message_column():
    columns = [Engine.__table__.c.last_error, Tenant.__table__.c.last_error, Tenant.__table__.c.drift_detail,
               Run.__table__.c.error_message, StepRun.__table__.c.error_message, Alert.__table__.c.message]
    assert {column.type.length for column in columns} == {MESSAGE_LENGTH}
