"""seed_demo creates exactly the design's demo data, and running it again changes nothing."""

import io

from django.core.management import call_command

from care.models import Assignment
from care.services import assignment_end
from records.models import HealthRecord, HealthRecordUserObjectPermission
from users.models import Doctor, Patient, Role, User

DEFAULT_PASSWORD = "clinic-demo-2026"
EXPECTED_ROLES = {
    "coordinator": Role.STAFF,
    "dr.grey": Role.DOCTOR,
    "dr.house": Role.DOCTOR,
    "alice": Role.PATIENT,
    "bob": Role.PATIENT,
    "carol": Role.PATIENT,
}


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def state():
    """Every row seed_demo writes, as comparable values."""
    return {
        "users": sorted(User.objects.values_list("username", "email", "is_staff", "is_superuser")),
        "doctors": sorted(Doctor.objects.values_list("user__username", "license_number")),
        "patients": sorted(Patient.objects.values_list("user__username", "medical_record_number")),
        "records": sorted(HealthRecord.objects.values_list("patient__user__username", flat=True)),
        "assignments": sorted(
            Assignment.objects.values_list("doctor__user__username", "patient__user__username", "ended_at")
        ),
        "grants": sorted(
            HealthRecordUserObjectPermission.objects.values_list(
                "user__username", "content_object__patient__user__username", "permission__codename"
            )
        ),
    }


def test_seed_demo_creates_exactly_the_designs_data(db):
    # when
    output = seed()
    # then the six accounts, each with its role and email, sharing the default password
    users = {user.username: user for user in User.objects.select_related("doctor", "patient")}
    assert {name: user.role for name, user in users.items()} == EXPECTED_ROLES
    assert all(user.email == f"{name}@clinic.example" for name, user in users.items())
    assert all(user.check_password(DEFAULT_PASSWORD) for user in users.values())
    assert DEFAULT_PASSWORD in output
    # the coordinator: staff, may assign and end assignments, not a superuser
    coordinator = users["coordinator"]
    assert (coordinator.is_staff, coordinator.is_superuser) == (True, False)
    assert coordinator.has_perm("care.add_assignment") and coordinator.has_perm("care.change_assignment")
    assert coordinator.has_perm("users.add_user") and coordinator.has_perm("users.deactivate_user")
    # a health record per patient, and one active assignment: dr.grey <-> alice
    data = state()
    assert data["records"] == ["alice", "bob", "carol"]
    assert data["assignments"] == [("dr.grey", "alice", None)]
    assert data["grants"] == sorted(
        [
            ("alice", "alice", "view_healthrecord"),
            ("alice", "alice", "change_healthrecord"),
            ("bob", "bob", "view_healthrecord"),
            ("bob", "bob", "change_healthrecord"),
            ("carol", "carol", "view_healthrecord"),
            ("carol", "carol", "change_healthrecord"),
            ("dr.grey", "alice", "view_healthrecord"),
            ("dr.grey", "alice", "annotate_healthrecord"),
        ]
    )
    # no PHI access for the coordinator
    assert not HealthRecordUserObjectPermission.objects.filter(user=coordinator).exists()


def test_seed_demo_is_idempotent(db):
    # given
    seed()
    first = state()
    # when
    seed()
    # then
    assert state() == first


def test_seed_demo_resets_the_password_when_asked(db):
    # given
    seed()
    # when
    seed("--password", "another-pass-2026")
    # then
    assert all(user.check_password("another-pass-2026") for user in User.objects.all())
    assert User.objects.count() == 6


def test_seed_demo_assigns_again_when_the_demo_assignment_was_ended(db):
    # given the coordinator ended the demo assignment
    seed()
    assignment_end(actor=User.objects.get(username="coordinator"), assignment=Assignment.objects.get())
    # when
    seed()
    # then dr.grey is actively assigned to alice again, beside the ended assignment
    assert sorted(Assignment.objects.values_list("ended_at", flat=True), key=lambda ended: ended is None)[-1] is None
    assert Assignment.objects.filter(ended_at__isnull=True).count() == 1
    assert Assignment.objects.count() == 2
