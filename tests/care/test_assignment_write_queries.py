"""What assigning and ending cost in SQL, with the outbox, the audit row and the access grants.

Pinned so that a change that adds a query per permission or per row shows up here.
"""

from django.db import connection

from care.models import Assignment
from tests.conftest import global_id

ASSIGN = """
mutation ($doctor: ID!, $patient: ID!) {
  assignDoctor(input: {doctorId: $doctor, patientId: $patient}) { id active }
}
"""
END = "mutation ($id: ID!) { endAssignment(input: {id: $id}) { id active } }"

# token user, staff permissions (user + group), doctor, patient, savepoint, active check,
# savepoint + insert + release, record lock, permission ids, grant, doctor's and patient's outbox
# rows (+ recipient), audit append, release; on PostgreSQL one more: the NOTIFY that wakes the
# outbox workers on commit (care/notifications.py). And one UPDATE closing the pair's open
# emergency grant, which the assignment replaces (care/emergency.py, issue 18).
WAKE_WORKERS = 1 if connection.vendor == "postgresql" else 0
ASSIGN_QUERIES = 19 + WAKE_WORKERS
# token user, staff permissions (user + group), assignment, savepoint, lock + update, record lock,
# revoke (one DELETE over the permission ids), the two outbox rows, audit append, release.
END_QUERIES = 13 + WAKE_WORKERS


def test_assign_doctor_query_count(world, gql, django_assert_num_queries):
    # given a free pair
    variables = {"doctor": global_id("Doctor", world.house.pk), "patient": global_id("Patient", world.bob.pk)}
    # when staff assign them
    gql.sign_in(world.coordinator)
    with django_assert_num_queries(ASSIGN_QUERIES):
        result = gql.execute(ASSIGN, variables, user=world.coordinator)
    # then the assignment exists, with the access it grants
    assert result.data["assignDoctor"]["active"] is True
    assert world.house.user.has_perm("records.view_healthrecord", world.bob.health_record)


def test_end_assignment_query_count(world, gql, django_assert_num_queries):
    # given grey's active assignment to alice
    assignment = Assignment.objects.get(doctor=world.grey, patient=world.alice, ended_at__isnull=True)
    # when staff end it
    gql.sign_in(world.coordinator)
    with django_assert_num_queries(END_QUERIES):
        result = gql.execute(END, {"id": global_id("Assignment", assignment.pk)}, user=world.coordinator)
    # then it has ended and grey's access is gone
    assert result.data["endAssignment"]["active"] is False
    assert not world.grey.user.has_perm("records.view_healthrecord", world.alice.health_record)
