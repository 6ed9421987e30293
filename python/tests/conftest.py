"""Shared fixtures: the reference data and the command-line binary of the root crate."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def load_csv(name):
    """(header, matrix) of a CSV in tests/data."""
    path = DATA / name
    with open(path) as f:
        header = f.readline().strip().split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def write_csv(path, columns):
    """Writes columns (name -> 1-d array of numbers or strings) with round-trip floats."""
    names = list(columns)
    cols = [np.asarray(columns[n]) for n in names]
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(len(cols[0])):
            f.write(",".join(repr(float(c[i])) if c.dtype.kind in "fiub" else str(c[i]) for c in cols) + "\n")


@pytest.fixture(scope="session")
def cli():
    """A function running the `meta-router` release binary (META_ROUTER_BIN or target/release)."""
    exe = os.environ.get("META_ROUTER_BIN") or str(ROOT / "target" / "release" / "meta-router")
    if not Path(exe).exists():
        found = shutil.which("meta-router")
        if found is None:
            pytest.fail(f"the meta-router binary is missing at {exe}: run `cargo build --release` at the root")
        exe = found

    def run(*args):
        r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"meta-router {' '.join(map(str, args))} failed:\n{r.stderr}")
        return r.stdout

    return run


@pytest.fixture(scope="session")
def diabetes():
    _, d = load_csv("diabetes.csv")
    _, w = load_csv("diabetes_weights.csv")
    return d[:, :-1], d[:, -1], w[:, 0]


@pytest.fixture(scope="session")
def cancer():
    _, d = load_csv("breast_cancer_standardized.csv")
    _, w = load_csv("breast_cancer_weights.csv")
    return d[:, :-1], d[:, -1], w[:, 0]
