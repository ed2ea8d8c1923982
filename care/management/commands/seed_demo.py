import datetime
import secrets
import uuid

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.models import Action, AuditEvent
from care.models import Assignment
from care.services import assignment_create
from records.models import Annotation, HealthRecord, HealthRecordUserObjectPermission
from records.permissions import RecordPermission
from records.services import patient_register
from users.models import Doctor, Patient, User, generate_medical_record_number
from users.services import doctor_create, user_create

DEFAULT_PASSWORD = "clinic-demo-2026"

STAFF = {"username": "coordinator", "first_name": "Casey", "last_name": "Coordinator"}
DOCTORS = [
    {"username": "dr.grey", "first_name": "Meredith", "last_name": "Grey",
     "specialty": "General surgery", "license_number": "LIC-0001"},
    {"username": "dr.house", "first_name": "Gregory", "last_name": "House",
     "specialty": "Diagnostic medicine", "license_number": "LIC-0002"},
]
PATIENTS = [
    {"username": "alice", "first_name": "Alice", "last_name": "Adams", "date_of_birth": datetime.date(1985, 3, 14)},
    {"username": "bob", "first_name": "Bob", "last_name": "Brown", "date_of_birth": datetime.date(1972, 11, 2)},
    {"username": "carol", "first_name": "Carol", "last_name": "Clark", "date_of_birth": datetime.date(1999, 7, 21)},
]


def email_for(username: str) -> str:
    return f"{username}@clinic.example"


# Nobody is enrolled (DESIGN.md section 10): the demo signs in with passwords. How to try MFA:
MFA_HINT = (
    "MFA: nobody is enrolled. To try it, sign in as anyone, call startTotpEnrollment, add the secret "
    "(or the otpauth:// URI as a QR code) to an authenticator app and confirmTotpEnrollment(input: {code}); "
    "from then on tokenAuth answers mfaRequired and verifyMfa(input: {mfaToken, code}) finishes the login. "
    "MFA_REQUIRED_ROLES=DOCTOR,STAFF makes doctors and staff enrol first; coordinator can resetUserMfa."
)


class Command(BaseCommand):
    help = "Create the demo accounts (idempotent): coordinator, dr.grey, dr.house, alice, bob, carol."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"Password of every demo account (default {DEFAULT_PASSWORD})."
        )
        parser.add_argument(
            "--patients", type=int, default=0, metavar="N",
            help="Also make sure N extra patients (patient00001 ...) exist, all assigned to dr.grey (bulk-created).",
        )
        parser.add_argument(
            "--annotations-per-patient", type=int, default=0, metavar="M",
            help="Annotations by dr.grey on each newly created extra patient's record.",
        )

    @transaction.atomic
    def handle(self, *args, password: str, **options):
        extra_patients = options.get("patients") or 0
        annotations_per_patient = options.get("annotations_per_patient") or 0
        if extra_patients < 0 or annotations_per_patient < 0:
            raise CommandError("--patients and --annotations-per-patient must not be negative.")
        coordinator = self._staff(password)
        doctors = {spec["username"]: self._doctor(spec, password) for spec in DOCTORS}
        patients = {spec["username"]: self._patient(spec, password) for spec in PATIENTS}
        grey, alice = doctors["dr.grey"], patients["alice"]
        if not Assignment.objects.filter(doctor=grey, patient=alice, ended_at__isnull=True).exists():
            assignment_create(actor=coordinator, doctor=grey, patient=alice)
        if extra_patients:
            created = bulk_patients_for(
                doctor=grey, actor=coordinator, count=extra_patients,
                annotations_per_patient=annotations_per_patient, password=password,
            )
            self.stdout.write(f"{created} extra patients created ({extra_patients} wanted), all assigned to dr.grey.")
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready: coordinator, dr.grey, dr.house, alice, bob, carol "
                f"(password: {password}); dr.grey is assigned to alice."
            )
        )
        self.stdout.write(MFA_HINT)

    def _staff(self, password: str) -> User:
        user = User.objects.filter(username=STAFF["username"]).first()
        if user is None:
            user = user_create(email=email_for(STAFF["username"]), password=password, is_staff=True, **STAFF)
        else:
            self._reset_password(user, password)
        # Runs assignments and oversees emergency access: lists, reviews and ends grants (issue 18).
        codenames = [
            "add_assignment", "change_assignment", "view_assignment", "view_emergencyaccess", "change_emergencyaccess"
        ]
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="care", codename__in=codenames))
        # The coordinator can reset MFA (resetUserMfa) for someone who lost their phone.
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="mfa", codename="reset_mfa"))
        # ... and register (registerPatient, registerDoctor) and deactivate accounts (issue 17).
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="users", codename__in=["add_user", "deactivate_user"])
        )
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


BULK_USERNAME = "patient{:05d}"
BULK_BATCH_SIZE = 500


def bulk_patients_for(*, doctor: Doctor, actor: User, count: int, annotations_per_patient: int, password: str) -> int:
    """Patients patient00001..patient<count> with records, assigned to `doctor`; the missing ones only.

    The same rows the services write (user, patient, record, the patient's and the doctor's guardian
    permissions, the assignment, audit events), inserted in bulk: the services take ~20 queries and a
    password hash per patient, which makes thousands of patients take minutes. One hash serves all.
    Notifications are left out on purpose: nobody wants a thousand emails.
    """
    wanted = [BULK_USERNAME.format(n) for n in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    missing = [name for name in wanted if name not in existing]
    if not missing:
        return 0
    password_hash = make_password(password)
    permissions = {
        perm.codename: perm
        for perm in Permission.objects.filter(
            content_type__app_label="records", codename__in=[p.value for p in RecordPermission]
        )
    }
    used_mrns = set(Patient.objects.values_list("medical_record_number", flat=True))
    now = timezone.now()
    users, patients, records, grants, assignments, annotations, events = [], [], [], [], [], [], []
    for username in missing:
        n = int(username.removeprefix("patient"))
        user = User(
            username=username, email=f"{username}@clinic.example", password=password_hash,
            first_name=f"Patient{n}", last_name=f"Demo{n:05d}", date_joined=now,
        )
        mrn = generate_medical_record_number()
        while mrn in used_mrns:
            mrn = generate_medical_record_number()
        used_mrns.add(mrn)
        patient = Patient(
            id=uuid.uuid4(), user=user, medical_record_number=mrn,
            date_of_birth=datetime.date(1940 + n % 60, 1 + n % 12, 1 + n % 28),
        )
        record = HealthRecord(
            id=uuid.uuid4(), patient=patient, allergies=secrets.choice(["", "Penicillin", "Peanuts", "Latex"]),
            medications=secrets.choice(["", "Metformin 500 mg", "Lisinopril 10 mg", "Atorvastatin 20 mg"]),
        )
        users.append(user)
        patients.append(patient)
        records.append(record)
        for holder, granted in ((user, (RecordPermission.VIEW, RecordPermission.CHANGE)),
                                (doctor.user, (RecordPermission.VIEW, RecordPermission.ANNOTATE))):
            grants.extend(
                HealthRecordUserObjectPermission(user=holder, permission=permissions[p.value], content_object=record)
                for p in granted
            )
        assignment = Assignment(id=uuid.uuid4(), doctor=doctor, patient=patient, assigned_by=actor)
        assignments.append(assignment)
        annotations.extend(
            Annotation(id=uuid.uuid4(), record=record, author=doctor,
                       body=f"Note {k + 1} on {username}: reviewed, no change.")
            for k in range(annotations_per_patient)
        )
        events.append(AuditEvent(actor=user, action=Action.PATIENT_REGISTER, patient=patient,
                                 object_type=HealthRecord._meta.label, object_id=str(record.id)))
        events.append(AuditEvent(actor=actor, action=Action.ASSIGNMENT_CREATE, patient=patient,
                                 object_type=Assignment._meta.label, object_id=str(assignment.id)))
    # bulk_create fills each foreign key column from the (now saved) related object.
    for model, rows in ((User, users), (Patient, patients), (HealthRecord, records),
                        (HealthRecordUserObjectPermission, grants), (Assignment, assignments),
                        (Annotation, annotations), (AuditEvent, events)):
        model.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
    return len(missing)
