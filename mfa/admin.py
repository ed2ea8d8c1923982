from django.contrib import admin

from mfa.forms import MfaAdminAuthenticationForm

# After users/admin.py (mfa comes later in INSTALLED_APPS): the admin login asks for the code too.
admin.site.login_form = MfaAdminAuthenticationForm
admin.site.login_template = "mfa/admin_login.html"
