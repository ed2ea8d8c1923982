"""The reference web app (web/src, built into the committed web/dist), served at `/` by web/views.py."""
