"""Django's password validators apply to passwords set through users.services.user_create too."""

import pytest
from django.core.exceptions import ValidationError

from users.models import User
from users.services import user_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("weak", ["short1", "password123", "12345678901", "mallory.smith"])
def test_a_weak_password_is_refused_and_no_account_is_made(weak):
    with pytest.raises(ValidationError) as refused:
        user_create(username="mallory.smith", email="mallory@clinic.example", password=weak)
    assert list(refused.value.message_dict) == ["password"]
    assert not User.objects.filter(username="mallory.smith").exists()


def test_a_strong_password_is_set_and_none_leaves_the_account_without_one():
    strong = user_create(username="strong", email="strong@clinic.example", password="a-long-passphrase-2026")
    assert strong.check_password("a-long-passphrase-2026")
    invited = user_create(username="invited", email="invited@clinic.example")
    assert not invited.has_usable_password()
