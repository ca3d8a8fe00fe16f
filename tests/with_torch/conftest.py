"""The tests of driftproof.torch (the optional extra). Without PyTorch they are skipped on a developer's
machine, with the reason; under CI (CI set, as the CI script runs) a missing torch is an error, never a skip."""

import importlib.util
import os

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


if importlib.util.find_spec("torch") is None:
    if _in_ci():
        raise RuntimeError("CI is set but PyTorch is not installed: the CI script installs '.[test,torch]'")
    collect_ignore_glob = ["test_*.py"]

    def pytest_report_header(config):
        return "driftproof.torch tests not collected: PyTorch is not installed (pip install '.[torch]')"
