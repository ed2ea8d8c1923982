"""Run by test_chain_across_processes in a separate Python process, on the database DATABASE_URL
names: `seed N` registers N patients and prints their ids; `append THREADS TIMES IDS` appends
audit events from THREADS threads, released together once the parent writes a line to stdin
(so both processes start at once), and prints how many it appended."""

import json
import os
import sys
import threading


def main(command: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
    import django

    django.setup()
    from django.db import connection, transaction

    if command == "seed":
        from tests.factories import make_patient

        print(json.dumps([str(make_patient().pk) for _ in range(int(args[0]))]))
        return

    from audit.models import Action
    from audit.services import AuditDraft, audit_event_record, audit_events_append
    from users.models import Patient

    threads, times, patient_ids = int(args[0]), int(args[1]), json.loads(args[2])
    patients = list(Patient.objects.filter(pk__in=patient_ids))
    connection.close()
    go = threading.Event()  # set when the parent says so: every thread of both processes starts at once
    appended = [0] * threads
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            go.wait(timeout=120)
            for n in range(times):
                patient = patients[(index * times + n) % len(patients)]
                if n % 3 == 2:  # a page: several patients' reads in one statement, outside a transaction
                    page = [patients[(index + k) % len(patients)] for k in range(4)]
                    audit_events_append(
                        actor=None, drafts=[AuditDraft(action=Action.RECORD_READ, patient_id=p.pk) for p in page]
                    )
                    appended[index] += len(page)
                else:  # a write: its event is the transaction's last statement
                    with transaction.atomic():
                        audit_event_record(actor=None, action=Action.RECORD_UPDATE, patient=patient)
                    appended[index] += 1
                if n % 7 == 0:  # and now and then an event about nobody (shard 0)
                    audit_event_record(actor=None, action=Action.LOGIN_FAILURE)
                    appended[index] += 1
        except BaseException as error:  # noqa: BLE001 - reported through the exit status
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    sys.stdin.readline()
    go.set()
    for worker in workers:
        worker.join(timeout=300)
    if failures:
        raise failures[0]
    print(json.dumps({"appended": sum(appended)}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
