import uuid

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    RECORD_READ = "RECORD_READ", "Health record read"
    RECORD_UPDATE = "RECORD_UPDATE", "Health record updated"
    ANNOTATION_READ = "ANNOTATION_READ", "Annotations read"
    ANNOTATION_ADD = "ANNOTATION_ADD", "Annotation added"
    ANNOTATION_RETRACT = "ANNOTATION_RETRACT", "Annotation retracted"
    DEMOGRAPHICS_READ = "DEMOGRAPHICS_READ", "Demographics read"
    ASSIGNMENT_CREATE = "ASSIGNMENT_CREATE", "Doctor assigned"
    ASSIGNMENT_END = "ASSIGNMENT_END", "Assignment ended"
    PATIENT_REGISTER = "PATIENT_REGISTER", "Patient registered"
    LOGIN_SUCCESS = "LOGIN_SUCCESS", "Login succeeded"
    LOGIN_FAILURE = "LOGIN_FAILURE", "Login failed"
    ACCOUNT_INVITE = "ACCOUNT_INVITE", "Account registered and invitation sent"
    INVITATION_ACCEPT = "INVITATION_ACCEPT", "Invitation accepted"
    PASSWORD_RESET_REQUEST = "PASSWORD_RESET_REQUEST", "Password reset requested"
    PASSWORD_RESET = "PASSWORD_RESET", "Password reset"
    USER_DEACTIVATE = "USER_DEACTIVATE", "User deactivated"
    USER_REACTIVATE = "USER_REACTIVATE", "User reactivated"
    EMERGENCY_ACCESS_GRANT = "EMERGENCY_ACCESS_GRANT", "Emergency access granted"
    EMERGENCY_ACCESS_REVOKE = "EMERGENCY_ACCESS_REVOKE", "Emergency access ended early"
    EMERGENCY_ACCESS_REVIEW = "EMERGENCY_ACCESS_REVIEW", "Emergency access reviewed"
    MFA_ENROLL_START = "MFA_ENROLL_START", "TOTP enrolment started"
    MFA_ENABLE = "MFA_ENABLE", "TOTP turned on"
    MFA_DISABLE = "MFA_DISABLE", "TOTP turned off"
    MFA_RESET = "MFA_RESET", "MFA reset by staff"
    MFA_CHALLENGE = "MFA_CHALLENGE", "Password accepted, code required"
    MFA_FAILURE = "MFA_FAILURE", "Wrong or replayed MFA code"
    MFA_RECOVERY_CODE_USED = "MFA_RECOVERY_CODE_USED", "Recovery code used"


class Outcome(models.TextChoices):
    ALLOWED = "ALLOWED", "Allowed"
    DENIED = "DENIED", "Denied"


class Severity(models.TextChoices):
    """How urgently someone should look at an event: HIGH for what a reviewer must close."""

    NORMAL = "NORMAL", "Normal"
    HIGH = "HIGH", "High"


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    """Rows are only ever appended, through the hash chain; never updated or deleted."""

    def bulk_create(self, objs, *args, **kwargs):
        # Callers may bulk_create as usual; the rows go through the chain (one statement per batch).
        from audit.chain import chain_append

        objs = list(objs)
        chain_append(objs, using=self.db)
        return objs

    def update(self, **kwargs):
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self):
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def _raw_delete(self, using):
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    def _update(self, values):
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")


class AuditEvent(models.Model):
    """Who did what to which patient's data, when, from where. Append-only, hash-chained.

    The trail is N chains (`shard`, by a hash of the patient; events about no patient are in
    shard 0). `sequence` orders an event in its shard's chain (… without gaps); `hash` is SHA-256
    over the previous event's hash, the sequence and the canonical serialisation of this row
    (audit/chain.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shard = models.SmallIntegerField(default=0, editable=False)
    sequence = models.BigIntegerField(editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    # No single-column indexes on the foreign keys: the composite indexes below lead with them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED)
    patient = models.ForeignKey(
        "users.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Made under an emergency-access grant ("break the glass", care.EmergencyAccess), not an assignment.
    emergency = models.BooleanField(default=False)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.NORMAL)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["shard", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["shard", "sequence"], name="audit_shard_sequence_uniq"),
        ]
        indexes = [
            # A patient's events are all in one shard: the access log pages down this index.
            models.Index(fields=["patient", "sequence"], name="audit_patient_sequence_idx"),
            # An actor's or an action's events span shards: auditors page them newest first by time.
            models.Index(fields=["actor", "created_at"], name="audit_actor_created_idx"),
            models.Index(fields=["action", "created_at"], name="audit_action_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.shard}#{self.sequence} {self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        from audit.chain import chain_append

        chain_append([self], using=kwargs.get("using"))

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The last event of one shard's chain: appenders lock this row, briefly, to extend the chain.

    `origin_*` is where the chain starts: 0 and the genesis hash, or, for a chain split off the
    single chain of an older trail, that chain's head when it was split (migration 0008).
    """

    shard = models.SmallIntegerField(primary_key=True)
    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    origin_sequence = models.BigIntegerField(default=0)
    origin_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"shard {self.shard} at #{self.sequence}"


class AuditAnchor(models.Model):
    """The root chain: every so often the heads of all shards, hash-chained (`anchor_audit`).

    Publishing the newest anchor's hash elsewhere pins every shard up to the heads it names.
    """

    sequence = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    heads = models.JSONField()  # [[shard, sequence, hash], …] in shard order
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"anchor #{self.sequence} {self.hash}"


class AuditCheckpoint(models.Model):
    """What a clean `verify_audit` run vouched for: every shard's head and the last anchor, signed.

    The next run starts from here (`--full` from the origins). The signature (HMAC with
    AUDIT_CHECKPOINT_KEY, else a key derived from SECRET_KEY) stops a writer with SQL access but
    without the key from moving the starting point past a forged event.
    """

    created_at = models.DateTimeField()
    heads = models.JSONField()  # [[shard, sequence, hash], …] in shard order
    anchor_sequence = models.BigIntegerField(default=0)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at {self.created_at:%Y-%m-%d %H:%M:%S}"
