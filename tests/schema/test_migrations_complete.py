"""Every model change has its migration: five apps gained models and choices in one session, and
a choices-only change (care's notification kinds) was left without one."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    # given the models as the code declares them
    out = io.StringIO()
    # when makemigrations compares them with the migrations, then it has nothing to write
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}")
