import datetime

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from care.models import Assignment
from care.services import assignment_create
from records.services import patient_register
from users.models import Doctor, Patient, User
from users.services import doctor_create, user_create

DEFAULT_PASSWORD = "clinic-demo-2026"

STAFF = {"username": "coordinator", "first_name": "Casey", "last_name": "Coordinator"}
DOCTORS = [
    {"username": "dr.grey", "first_name": "Meredith", "last_name": "Grey", "specialty": "General surgery", "license_number": "LIC-0001"},
    {"username": "dr.house", "first_name": "Gregory", "last_name": "House", "specialty": "Diagnostic medicine", "license_number": "LIC-0002"},
]
PATIENTS = [
    {"username": "alice", "first_name": "Alice", "last_name": "Adams", "date_of_birth": datetime.date(1985, 3, 14)},
    {"username": "bob", "first_name": "Bob", "last_name": "Brown", "date_of_birth": datetime.date(1972, 11, 2)},
    {"username": "carol", "first_name": "Carol", "last_name": "Clark", "date_of_birth": datetime.date(1999, 7, 21)},
]


def email_for(username: str) -> str:
    return f"{username}@clinic.example"


class Command(BaseCommand):
    help = "Create the demo accounts (idempotent): coordinator, dr.grey, dr.house, alice, bob, carol."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help=f"Password of every demo account (default {DEFAULT_PASSWORD}).")

    @transaction.atomic
    def handle(self, *args, password: str, **options):
        coordinator = self._staff(password)
        doctors = {spec["username"]: self._doctor(spec, password) for spec in DOCTORS}
        patients = {spec["username"]: self._patient(spec, password) for spec in PATIENTS}
        grey, alice = doctors["dr.grey"], patients["alice"]
        if not Assignment.objects.filter(doctor=grey, patient=alice, ended_at__isnull=True).exists():
            assignment_create(actor=coordinator, doctor=grey, patient=alice)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready: coordinator, dr.grey, dr.house, alice, bob, carol "
                f"(password: {password}); dr.grey is assigned to alice."
            )
        )

    def _staff(self, password: str) -> User:
        user = User.objects.filter(username=STAFF["username"]).first()
        if user is None:
            user = user_create(email=email_for(STAFF["username"]), password=password, is_staff=True, **STAFF)
        else:
            self._reset_password(user, password)
        codenames = ["add_assignment", "change_assignment", "view_assignment"]
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="care", codename__in=codenames))
        return User.objects.get(pk=user.pk)  # fresh permission cache

    def _doctor(self, spec: dict, password: str) -> Doctor:
        doctor = Doctor.objects.select_related("user").filter(user__username=spec["username"]).first()
        if doctor is not None:
            self._reset_password(doctor.user, password)
            return doctor
        user = user_create(
            username=spec["username"],
            email=email_for(spec["username"]),
            password=password,
            first_name=spec["first_name"],
            last_name=spec["last_name"],
        )
        return doctor_create(user=user, specialty=spec["specialty"], license_number=spec["license_number"])

    def _patient(self, spec: dict, password: str) -> Patient:
        patient = Patient.objects.select_related("user").filter(user__username=spec["username"]).first()
        if patient is not None:
            self._reset_password(patient.user, password)
            return patient
        return patient_register(
            username=spec["username"],
            email=email_for(spec["username"]),
            password=password,
            first_name=spec["first_name"],
            last_name=spec["last_name"],
            date_of_birth=spec["date_of_birth"],
        )

    def _reset_password(self, user: User, password: str) -> None:
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
