"""The student versions are generated (python -m nasviz.assignments make-student ...) with their outputs
cleared and their solutions missing: nbval must not compare them. tests/test_assignments.py runs them instead."""

collect_ignore_glob = ["*.ipynb"]
