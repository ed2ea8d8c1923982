from django.contrib import admin
from django.urls import path

from ops.metrics_endpoint import metrics
from schema.views import ClinicGraphQLView

graphql_view = ClinicGraphQLView.as_view()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", graphql_view, name="graphql"),
    # The same view without the slash: a 301 there makes fetch retry as GET (a 405) and fails a
    # browser's CORS preflight outright ("Redirect is not allowed for a preflight request").
    path("graphql", graphql_view),
    path("metrics", metrics, name="metrics"),  # Prometheus; needs METRICS_TOKEN (ops/metrics_endpoint.py)
]
