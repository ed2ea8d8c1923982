from django.contrib import admin
from django.urls import path

from ops.metrics_endpoint import metrics
from schema.views import ClinicGraphQLView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", ClinicGraphQLView.as_view(), name="graphql"),
    path("metrics", metrics, name="metrics"),  # Prometheus; needs METRICS_TOKEN (ops/metrics_endpoint.py)
]
