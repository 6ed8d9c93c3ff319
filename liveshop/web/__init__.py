"""Server-rendered pages (Jinja2) and their static files.

``install.install_web(app)`` mounts ``/static`` and registers the page routers. Pages call the
domains' service functions exactly as the API routers do, with the same access
declarations; see ``routing`` (HTML answers to errors) and ``security`` (form CSRF).
"""
