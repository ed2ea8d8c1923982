from django.contrib import admin
from django.urls import path

from schema.views import ClinicGraphQLView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", ClinicGraphQLView.as_view(), name="graphql"),
]
