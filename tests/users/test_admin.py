"""The Django admin: users, profiles and assignments for a superuser; no PHI there."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from care.models import Assignment
from records.models import Annotation, HealthRecord, HealthRecordRevision
from records.services import annotation_add
from users.models import Doctor, User


@pytest.fixture
def superuser_client(client, world):
    superuser = User.objects.create_superuser(username="root", email="root@clinic.example", password="x" * 16)
    client.force_login(superuser)
    return client


def admin_urls(world):
    assignment = Assignment.objects.filter(doctor=world.grey).first()
    return [
        reverse("admin:index"),
        reverse("admin:users_user_changelist"),
        reverse("admin:users_user_add"),
        reverse("admin:users_user_change", args=[world.alice.user.pk]),
        reverse("admin:users_doctor_changelist"),
        reverse("admin:users_doctor_add"),
        reverse("admin:users_doctor_change", args=[world.grey.pk]),
        reverse("admin:users_patient_changelist"),
        reverse("admin:users_patient_change", args=[world.alice.pk]),
        reverse("admin:care_assignment_changelist"),
        reverse("admin:care_assignment_change", args=[assignment.pk]),
        reverse("admin:users_user_changelist") + "?q=alice",
        reverse("admin:users_patient_changelist") + "?q=alice",
    ]


def test_admin_pages_load_for_a_superuser(superuser_client, world):
    # given an annotation, so nothing in the admin trips over PHI rows
    annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Private note.")
    # when / then
    for url in admin_urls(world):
        response = superuser_client.get(url)
        assert response.status_code == 200, url


def test_the_patient_admin_shows_no_phi(superuser_client, world):
    # given
    HealthRecord.objects.filter(patient=world.alice).update(allergies="Penicillin anaphylaxis")
    annotation_add(actor=world.grey.user, record=world.alice.health_record, body="Private note.")
    # when
    pages = [superuser_client.get(url).content.decode() for url in admin_urls(world)]
    # then the pages show alice's demographics (they are the pages about her) but not her PHI
    assert any(world.alice.medical_record_number in page for page in pages)
    assert not any("Penicillin" in page or "Private note." in page for page in pages)


@pytest.mark.parametrize("model", [HealthRecord, Annotation, HealthRecordRevision])
def test_there_is_no_admin_for_phi(superuser_client, model):
    # then the model is not registered and has no admin URL
    assert not admin.site.is_registered(model)
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = superuser_client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    # when
    response = client.get(reverse("admin:users_user_changelist"))
    # then
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_adding_a_doctor_profile_to_a_patient_in_the_admin_is_refused(superuser_client, world):
    # when a superuser tries to make alice (a patient) a doctor
    response = superuser_client.post(
        reverse("admin:users_doctor_add"),
        {"user": world.alice.user.pk, "specialty": "Cardiology", "license_number": "LIC-ADMIN"},
    )
    # then the form says no, and nothing is written
    assert response.status_code == 200
    assert "cannot become a doctor" in response.content.decode()
    assert not Doctor.objects.filter(license_number="LIC-ADMIN").exists()


PASSWORDS = {"password1": "a-long-pass-2026!", "password2": "a-long-pass-2026!", "usable_password": "true"}


def test_a_superuser_adds_a_user_with_an_email_in_the_admin(superuser_client, world):
    # when
    response = superuser_client.post(
        reverse("admin:users_user_add"),
        {"username": "newclerk", "email": "newclerk@clinic.example", **PASSWORDS},
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    assert (user.email, user.check_password("a-long-pass-2026!")) == ("newclerk@clinic.example", True)


def test_the_admin_refuses_a_duplicate_email(superuser_client, world):
    # when
    response = superuser_client.post(
        reverse("admin:users_user_add"),
        {"username": "copycat", "email": world.alice.user.email, **PASSWORDS},
    )
    # then
    assert response.status_code == 200
    assert not User.objects.filter(username="copycat").exists()


def test_a_doctor_profile_cannot_be_moved_to_another_user(superuser_client, world):
    # given a doctor with record access, and another user
    url = reverse("admin:users_doctor_change", args=[world.grey.pk])
    other = User.objects.create_user(username="someone", email="someone@clinic.example", password="x" * 16)
    # when the change form is posted with another user
    response = superuser_client.post(
        url, {"user": other.pk, "specialty": "Surgery", "license_number": world.grey.license_number}
    )
    # then the profile stays with its user (only the editable fields change)
    assert response.status_code == 302
    world.grey.refresh_from_db()
    assert world.grey.user.username == "dr.grey"
    assert world.grey.specialty == "Surgery"
    assert not Doctor.objects.filter(user=other).exists()
