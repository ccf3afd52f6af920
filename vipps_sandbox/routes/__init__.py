"""Flask blueprints, one per emulated API, plus the control API and the phone pages."""
