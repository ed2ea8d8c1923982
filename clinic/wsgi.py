import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()

# Load the URLconf (and with it the Strawberry schema) now rather than on the first request,
# then move everything loaded so far out of the garbage collector's sight: it lives as long as
# the process, and each full collection then scans only what requests allocate. Measured with
# bench.worklist (issue 7): the 1,000-patient worklist ~20 % faster, smaller requests unchanged.
# GC_FREEZE=0 turns it off (to compare; see README "Performance").
_ = get_resolver().url_patterns
if os.environ.get("GC_FREEZE", "1") != "0":
    gc.collect()
    gc.freeze()
# Young collections every 10,000 allocations instead of 700, full ones 100x rarer: a request's
# objects die by reference counting, and each full collection scanned all of a large response's
# live objects (1,000-patient worklist: ~200 ms of collection, a third of its time). Measured
# with bench.worklist: ~13 % faster at 1,000 patients on both sides, the same at 10 and 100.
# GC_THRESHOLDS="700,10,10" restores Python's defaults (README "Performance").
gc.set_threshold(*(int(part) for part in os.environ.get("GC_THRESHOLDS", "10000,10,100").split(",")))
