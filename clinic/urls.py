from django.contrib import admin
from django.urls import path

from ops.metrics_endpoint import metrics
from schema.views import ClinicGraphQLView
from web import views as web_app

graphql_view = ClinicGraphQLView.as_view()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", graphql_view, name="graphql"),
    # The same view without the slash: a 301 there makes fetch retry as GET (a 405) and fails a
    # browser's CORS preflight outright ("Redirect is not allowed for a preflight request").
    path("graphql", graphql_view),
    path("metrics", metrics, name="metrics"),  # Prometheus; needs METRICS_TOKEN (ops/metrics_endpoint.py)
    # The reference web app (web/, README "The web app"): its page and its two built files.
    path("", web_app.index, name="web-app"),
    # The account links mailed by users.account_tokens (LINK_PATHS): the same page, which reads its path.
    path("accept-invitation", web_app.index),
    path("reset-password", web_app.index),
    path("app.js", web_app.script),
    path("app.css", web_app.stylesheet),
]
