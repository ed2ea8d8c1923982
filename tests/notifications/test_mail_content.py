"""Mails carry no PHI, have a text and an HTML part from templates, and a stable Message-ID."""

import datetime

import pytest

from care.models import Notification
from records.services import annotation_add, health_record_update, patient_register
from tests import factories
from tests.notifications.conftest import text_parts, worker_pass

RECORD_PHI = {
    "allergies": "PHI-ALLERGY-zqx-penicillin",
    "medications": "PHI-MEDICATION-zqx-warfarin",
    "conditions": "PHI-CONDITION-zqx-arrhythmia",
    "notes": "PHI-NOTES-zqx-family-history",
}
ANNOTATION_PHI = "PHI-ANNOTATION-zqx-suspected-relapse"


@pytest.mark.django_db(transaction=True)
def test_no_mail_part_carries_record_or_annotation_text_and_doctors_never_see_the_patients_name(smtp_up):
    # given a patient with a distinctive name, a filled-in record and an annotation on it
    staff = factories.make_staff()
    patient = patient_register(
        username="zqx.patient", email="zqx.patient@clinic.example", password=factories.PASSWORD,
        first_name="Zebulonia", last_name="Quillfeather", date_of_birth=datetime.date(1971, 3, 4),
    )
    health_record_update(actor=patient.user, record=patient.health_record, changes=RECORD_PHI)
    grey = factories.make_doctor()
    house = factories.make_doctor()
    first = factories.assign(doctor=grey, patient=patient, by=staff)
    annotation_add(actor=grey.user, record=patient.health_record, body=ANNOTATION_PHI)
    # when a second doctor is assigned and the first assignment ends
    factories.assign(doctor=house, patient=patient, by=staff)
    factories.end(first, by=staff)
    assert worker_pass() == "6 sent, 0 to retry, 0 failed."
    # then six mails went out: assigned and ended to grey, assigned to house, three to the patient
    messages = smtp_up.messages
    assert sorted(message["To"] for message in messages) == sorted(
        [grey.user.email] * 2 + [house.user.email] + [patient.user.email] * 3
    )
    phi = [*RECORD_PHI.values(), ANNOTATION_PHI]
    patient_identity = ["Zebulonia", "Quillfeather", patient.medical_record_number, "zqx.patient", "1971"]
    for message in messages:
        plain, html = text_parts(message)
        assert message.get_content_type() == "multipart/alternative"
        for text in (message["Subject"], plain, html):
            assert not [secret for secret in phi if secret in text]
            if message["To"] != patient.user.email:
                assert not [detail for detail in patient_identity if detail in text]
    # and the patient's mails name the doctor (so the checks above could see names at all)
    for message in smtp_up.messages_to(patient.user.email):
        plain, html = text_parts(message)
        doctor = grey if message["Subject"].startswith(f"Dr. {grey.full_name} ") else house
        assert doctor.full_name in plain and doctor.full_name in html
    # and the outbox rows, which staff can read, hold no PHI either
    for row in Notification.objects.filter(recipient__in=[grey.user, house.user, patient.user]):
        assert not [secret for secret in phi if secret in row.subject + row.body + row.html_body]


@pytest.mark.django_db(transaction=True)
def test_a_mail_has_its_rows_message_id_a_sender_and_names_escaped_in_html_only(smtp_up):
    # given a doctor whose name needs escaping in HTML and not in plain text
    doctor = factories.make_doctor()
    doctor.user.first_name, doctor.user.last_name = "Ann", "O'Brien <Smith>"
    doctor.user.save()
    patient = factories.make_patient()
    # when
    factories.assign(doctor=doctor, patient=patient)
    worker_pass()
    # then
    [message] = smtp_up.messages_to(patient.user.email)
    row = Notification.objects.get(recipient=patient.user)
    assert message["Message-ID"] == row.message_id == f"<notification-{row.pk}@clinic.example>"
    assert message["From"] == "Clinic API <no-reply@clinic.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    plain, html = text_parts(message)
    assert "Hello Pat " in plain
    assert "Dr. Ann O'Brien <Smith> has been assigned to your care" in plain
    assert "<strong>Dr. Ann O&#x27;Brien &lt;Smith&gt;</strong> has been assigned" in html


@pytest.mark.django_db(transaction=True)
def test_a_doctor_with_a_very_long_name_is_still_assigned_and_mailed_with_a_one_line_subject(smtp_up):
    # given a doctor whose name fills both name columns (150 characters each)
    doctor = factories.make_doctor()
    doctor.user.first_name, doctor.user.last_name = "A" * 150, "B" * 150
    doctor.user.save()
    patient = factories.make_patient()
    # when
    factories.assign(doctor=doctor, patient=patient)
    worker_pass()
    # then the patient's mail went out with a subject cut to the column's 200 characters
    [message] = smtp_up.messages_to(patient.user.email)
    row = Notification.objects.get(recipient=patient.user)
    assert len(row.subject) == 200
    subject = str(message["Subject"]).strip()  # the parser keeps a space from the encoded-word folding
    assert subject == row.subject
    assert subject.startswith("Dr. AAAA") and subject.endswith("…")
    plain, _ = text_parts(message)
    assert "A" * 150 + " " + "B" * 150 in plain
