from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from users import admin_sessions  # noqa: F401  connects the receiver that stamps (and audits) admin logins
from users.forms import LockoutAdminAuthenticationForm
from users.models import Doctor, Patient, User
from users.services import doctor_create
from users.sessions import sessions_revoke_all

# The admin login is behind the API's lockout, serialised with it (users.lockout).
admin.site.login_form = LockoutAdminAuthenticationForm


class SessionEndingPasswordChangeForm(AdminPasswordChangeForm):
    """A password set by an admin ends every session of the user, as changePassword does."""

    def save(self, commit: bool = True):
        user = super().save(commit=commit)
        if commit:
            sessions_revoke_all(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = SessionEndingPasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "role", "is_staff", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )

    def save_model(self, request, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Deactivation ends every access and refresh token at once (users.sessions.user_deactivate).
            sessions_revoke_all(user=obj)

    @admin.display(description="role")
    def role(self, obj: User) -> str:
        return obj.role.label


class DoctorAdminForm(forms.ModelForm):
    class Meta:
        model = Doctor
        fields = ("user", "specialty", "license_number")

    def clean_user(self):
        # The service refuses too, but by then the admin could only answer with a server error.
        user = self.cleaned_data.get("user")
        if user is not None and self.instance._state.adding and Patient.objects.filter(user=user).exists():
            raise forms.ValidationError("This user already has a profile and cannot become a doctor.")
        return user


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    form = DoctorAdminForm
    list_display = ("__str__", "specialty", "license_number")
    search_fields = ("user__username", "user__last_name", "license_number")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        # A profile never moves to another user: the record permissions granted to the doctor's
        # user would stay behind with a user who is no longer a doctor (or is a patient).
        return ("user",) if obj is not None else ()

    def save_model(self, request, obj: Doctor, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # New doctors go through the service, which keeps a user from being patient and doctor.
        created = doctor_create(user=obj.user, specialty=obj.specialty, license_number=obj.license_number)
        obj.pk = created.pk


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """Demographics only: the health record (PHI) is not editable here."""

    list_display = ("__str__", "date_of_birth", "medical_record_number")
    search_fields = ("user__username", "user__last_name", "medical_record_number")
    readonly_fields = ("user", "medical_record_number")

    def has_add_permission(self, request) -> bool:
        # A patient is created with its health record (records.services.patient_register).
        return False
