"""The app's URLs plus the yardstick views, which the app itself never serves."""

from django.urls import path

from bench.views import hello_view, worklist_view
from clinic.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    *app_urlpatterns,
    path("bench/worklist/", worklist_view),
    path("bench/hello/", hello_view),
]
