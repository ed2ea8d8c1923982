"""Read-only admins (users.admin_read_only): even a superuser can look but not add, change or delete."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from care.models import Assignment, Notification
from users.models import User

READ_ONLY_MODELS = [AuditEvent, Assignment, Notification]


@pytest.fixture
def superuser_client(client, world):
    superuser = User.objects.create_superuser(username="root", email="root@clinic.example", password="x" * 16)
    client.force_login(superuser)
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda model: model.__name__)
def test_a_superuser_may_list_but_not_add(superuser_client, model):
    # given a superuser signed in to the admin
    before = model.objects.count()

    # when they open the list and the add form
    listed = superuser_client.get(admin_url(model, "changelist"))
    added = superuser_client.post(admin_url(model, "add"), {})

    # then the list shows, without an add button, and the add form is refused
    assert listed.status_code == 200
    assert admin_url(model, "add") not in listed.content.decode()
    assert added.status_code == 403
    assert model.objects.count() == before


def test_a_superuser_may_view_an_assignment_but_not_change_or_delete_it(superuser_client, world):
    # given an assignment the world made through the services
    assignment = Assignment.objects.filter(doctor=world.grey, ended_at__isnull=True).get()

    # when a superuser opens it, posts a change and asks to delete it
    viewed = superuser_client.get(admin_url(Assignment, "change", assignment.pk))
    changed = superuser_client.post(admin_url(Assignment, "change", assignment.pk), {"doctor": world.house.pk})
    deleted = superuser_client.post(admin_url(Assignment, "delete", assignment.pk), {"post": "yes"})

    # then it is shown read-only, and neither the change nor the delete happens
    assert viewed.status_code == 200
    assert 'name="doctor"' not in viewed.content.decode()
    assert (changed.status_code, deleted.status_code) == (403, 403)
    assignment.refresh_from_db()
    assert assignment.doctor == world.grey
