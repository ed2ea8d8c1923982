"""A patient's access log: who read or changed their record, when, what — and only theirs."""

from django.contrib.auth.models import Permission

from audit.models import AuditEvent
from tests import factories
from tests.conftest import global_id

ACCESS_LOG = """
{ myAccessLog(first: 50) { totalCount edges { node { createdAt action outcome fields actor { fullName role } } } } }
"""


def test_my_access_log_shows_a_doctors_read_and_nobody_elses_patients(world, gql):
    # given dr. grey reads alice's record, and bob's doctor reads bob's
    gql.execute("{ patients(first: 10) { edges { node { healthRecord { allergies } } } } }", user=world.grey.user)
    bobs_doctor = factories.make_doctor()
    factories.assign(doctor=bobs_doctor, patient=world.bob, by=world.coordinator)
    gql.execute("{ patients(first: 10) { edges { node { healthRecord { notes } } } } }", user=bobs_doctor.user)
    # when alice reads her access log
    result = gql.execute(ACCESS_LOG, user=world.alice.user)
    # then the newest entry is dr. grey's read, naming the field he read
    assert result.errors == []
    entries = [edge["node"] for edge in result.data["myAccessLog"]["edges"]]
    assert entries[0]["action"] == "RECORD_READ"
    assert entries[0]["outcome"] == "ALLOWED"
    assert entries[0]["fields"] == ["allergies"]
    assert entries[0]["actor"] == {"fullName": world.grey.full_name, "role": "DOCTOR"}
    # and staff actions on her data are there too (her doctors' assignments), bob's doctor is not
    actions = [entry["action"] for entry in entries]
    assert {"ASSIGNMENT_CREATE", "ASSIGNMENT_END", "PATIENT_REGISTER"} <= set(actions)
    assert bobs_doctor.full_name not in {entry["actor"]["fullName"] for entry in entries if entry["actor"]}
    assert result.data["myAccessLog"]["totalCount"] == AuditEvent.objects.filter(patient=world.alice).count()


def test_my_access_log_is_for_patients_only(world, gql):
    # given a doctor and a staff member, even one allowed to read the whole trail
    auditor = factories.make_staff(permissions=())
    auditor.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    for caller in (world.grey.user, auditor):
        # when they ask for "my" access log
        result = gql.execute(ACCESS_LOG, user=caller)
        # then FORBIDDEN: only patients have one
        assert result.code == "FORBIDDEN"
    # and anonymous callers must sign in
    assert gql.execute(ACCESS_LOG).code == "UNAUTHENTICATED"


def test_my_access_log_query_count_is_constant(world, gql, django_assert_num_queries):
    # given many events on alice's record
    for _ in range(5):
        gql.execute(
            "query($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }",
            {"id": global_id("HealthRecord", world.alice.health_record.pk)},
            user=world.grey.user,
        )
    # when she reads them with the actors' names: 1 token user, 1 page (count and actors joined in)
    gql.sign_in(world.alice.user)
    with django_assert_num_queries(2):
        result = gql.execute(ACCESS_LOG, user=world.alice.user)
    # then all of them came back
    assert len(result.data["myAccessLog"]["edges"]) == AuditEvent.objects.filter(patient=world.alice).count()


def test_another_patients_attempt_shows_in_my_log_without_their_name(world, gql):
    # given bob tries to open alice's record (refused, and audited as DENIED)
    attempt = gql.execute(
        "query($id: ID!) { node(id: $id) { ... on HealthRecord { allergies } } }",
        {"id": global_id("HealthRecord", world.alice.health_record.pk)},
        user=world.bob.user,
    )
    assert attempt.code == "NOT_FOUND"
    # when alice reads her access log
    result = gql.execute(ACCESS_LOG, user=world.alice.user)
    # then the refused attempt is there, but bob (a patient: his identity is his PHI) is not named
    entries = [edge["node"] for edge in result.data["myAccessLog"]["edges"]]
    denied = [entry for entry in entries if entry["outcome"] == "DENIED"]
    assert [entry["actor"] for entry in denied] == [{"fullName": "Another patient", "role": "PATIENT"}]
    assert world.bob.full_name not in str(result.body)
    # and her own reads still name her
    own = gql.execute("{ myHealthRecord { allergies } }", user=world.alice.user)
    assert own.errors == []
    latest = gql.execute(ACCESS_LOG, user=world.alice.user).data["myAccessLog"]["edges"][0]["node"]
    assert latest["actor"] == {"fullName": world.alice.full_name, "role": "PATIENT"}
