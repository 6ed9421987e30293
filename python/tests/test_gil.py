"""Fitting and predicting release the GIL: another Python thread keeps running meanwhile."""

import threading
import time

import numpy as np

import meta_router as mr


def _largest_pause(work):
    """Runs `work` while a second thread ticks; returns (duration of work, largest gap between ticks)."""
    stamps = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            stamps.append(time.perf_counter())

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    work()
    t1 = time.perf_counter()
    done.set()
    t.join()
    inside = [s for s in stamps if t0 <= s <= t1]
    edges = [t0, *inside, t1]
    return t1 - t0, max(b - a for a, b in zip(edges, edges[1:]))


def test_fit_and_predict_release_the_gil():
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.normal(size=(40_000, 20)))
    y = X[:, 0] + rng.normal(size=len(X))
    est = mr.RandomForestRegressor(n_estimators=8, max_features=None, random_state=0)
    took, pause = _largest_pause(lambda: est.fit(X, y))
    assert took > 0.1
    # with the GIL held, the ticking thread would stall for the whole fit
    assert pause < 0.5 * took, (took, pause)
    took, pause = _largest_pause(lambda: [est.predict(X) for _ in range(5)])
    assert pause < 0.5 * took or took < 0.05, (took, pause)
