import strawberry
from strawberry.types import Info

from records.selectors import record_of_patient_user
from schema.audit.reads import audit_record_read
from schema.permissions import HasRole, current_user, guard
from schema.records.types import HealthRecordType
from users.models import Role


@strawberry.type
class RecordsQuery:
    @strawberry.field(description="The caller's own health record (patients).", extensions=guard(HasRole(Role.PATIENT)))
    def my_health_record(self, info: Info) -> HealthRecordType | None:
        return audit_record_read(info, record_of_patient_user(user=current_user(info)))
