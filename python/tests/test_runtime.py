"""The GIL is released, Ctrl-C stops a long call, and repeated calls do not leak."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest

import deq_kernels as dk
from conftest import gaussian_rows


def test_other_python_threads_run_during_a_kernel(rng):
    X = gaussian_rows(rng, 2500, 30)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    dk.deq_kernel(X, "tanh", 0.3, kind="ntk")
    end = time.perf_counter()
    done.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # With the GIL held for the whole call the thread could not tick at all during it; released, it ticks about
    # once a millisecond (asked: a twentieth of that, for a loaded machine).
    assert len(during) > 0.05 * (end - start) / 0.001, (len(during), end - start)


def interrupted_after(call, delay):
    """Run ``call`` with a KeyboardInterrupt delivered to this thread after ``delay`` seconds (as Ctrl-C does);
    returns the seconds from the interrupt to the exception, or None when the call finished first. Python's own
    SIGINT handler is installed for the call: a process started in the background by a non-interactive shell
    inherits SIGINT ignored, and then ``interrupt_main`` does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, _thread.interrupt_main)
    start = time.perf_counter()
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        return time.perf_counter() - start - delay
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    return None


def test_ctrl_c_stops_a_long_kernel(rng):
    X = gaussian_rows(rng, 9000, 20)
    late = interrupted_after(lambda: dk.deq_kernels(X, ("ck", "ntk"), "relu", 0.2), 0.5)
    assert late is not None, "the kernel finished before the interrupt; make it longer"
    assert late < 1.0
    # The library is usable right after.
    assert dk.deq_kernel(X[:10]).shape == (10, 10)


def test_ctrl_c_returns_from_a_long_eigensolve(rng):
    a = rng.standard_normal((2500, 2500))
    K = a + a.T
    late = interrupted_after(lambda: dk.eigvalsh(K), 0.3)
    assert late is not None and late < 1.0
    # The dense solver finishes in the background; a new call works and is right.
    w = dk.eigvalsh(K[:50, :50])
    np.testing.assert_allclose(w, np.linalg.eigvalsh(K[:50, :50]), atol=1e-10)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc")
def test_no_memory_growth_over_1000_calls(rng):
    X = gaussian_rows(rng, 64, 10)
    K = dk.deq_kernel(X)

    def calls(count):
        for _ in range(count):
            dk.deq_kernel(X, kind="ntk")
            dk.eigvalsh(K)
            dk.moments("tanh", 1.0)
            try:
                dk.deq_kernel(X, "nope")
            except ValueError:
                pass

    calls(100)
    before = resident_bytes()
    calls(1000)
    grown = resident_bytes() - before
    # 1000 calls allocate ≈ 1000·(2·64²·8 B + small) ≈ 70 MB in total; a leak of any of it would show.
    assert grown < 8 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB"
