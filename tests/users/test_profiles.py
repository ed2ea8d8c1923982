"""A user is a patient, a doctor, or neither: never both (service check, and a check over the data)."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from records.models import HealthRecord
from tests import factories
from users.models import Doctor, Patient, Role, User
from users.services import doctor_create, patient_profile_create, user_create


def users_with_both_profiles():
    return list(User.objects.filter(doctor__isnull=False, patient__isnull=False).values_list("username", flat=True))


def test_a_patient_cannot_become_a_doctor(db):
    # given
    patient = factories.make_patient()
    # when / then
    with pytest.raises(ValidationError) as raised:
        doctor_create(user=patient.user, specialty="Cardiology", license_number="LIC-X")
    assert list(raised.value.message_dict) == ["user"]
    assert not Doctor.objects.filter(user=patient.user).exists()
    assert User.objects.get(pk=patient.user.pk).role == Role.PATIENT


def test_a_doctor_cannot_become_a_patient(db):
    # given
    doctor = factories.make_doctor()
    # when / then
    with pytest.raises(ValidationError) as raised:
        patient_profile_create(user=doctor.user, date_of_birth=datetime.date(1980, 1, 1))
    assert list(raised.value.message_dict) == ["user"]
    assert not Patient.objects.filter(user=doctor.user).exists()
    assert not HealthRecord.objects.filter(patient__user=doctor.user).exists()


def test_a_doctor_cannot_get_a_second_doctor_profile(db):
    # given
    doctor = factories.make_doctor()
    # when / then
    with pytest.raises(ValidationError):
        doctor_create(user=doctor.user, specialty="Oncology", license_number="LIC-Y")
    assert Doctor.objects.filter(user=doctor.user).count() == 1


def test_role_is_derived_from_the_profile(db):
    # given
    staff = factories.make_staff()
    plain = user_create(username="plain", email="plain@clinic.example")
    # then
    assert factories.make_patient().user.role == Role.PATIENT
    assert factories.make_doctor().user.role == Role.DOCTOR
    assert (staff.role, plain.role) == (Role.STAFF, Role.STAFF)


def test_no_user_in_the_demo_data_or_the_test_world_holds_both_profiles(world):
    # given the test world and the demo data
    call_command("seed_demo", stdout=io.StringIO())
    # then
    assert User.objects.count() > 6
    assert users_with_both_profiles() == []
