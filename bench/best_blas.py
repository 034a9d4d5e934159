"""Environment for running numpy or PyTorch "at their best" on this machine.

Debian's numpy and PyTorch link the reference BLAS (a few GFLOP/s). For a
fair comparison we give them OpenBLAS without installing anything
system-wide: `apt-get download libopenblas0-pthread` and `dpkg -x` it into a
cache folder, then point LD_LIBRARY_PATH at its openblas-pthread folder
(which provides libblas.so.3). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
removed so OpenBLAS picks its AVX-512 kernels, and glibc's allocator is told
to keep freed memory (fresh pages cost microseconds each on this VM).

The cache folder is $FER_OPENBLAS_DIR, default $TMPDIR/fer-openblas.
"""
import glob
import os
import subprocess
import tempfile

GLIBC_TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"


def cache_dir():
    return os.environ.get("FER_OPENBLAS_DIR") or os.path.join(
        tempfile.gettempdir(), "fer-openblas")


def _find_lib_dir(root):
    hits = glob.glob(os.path.join(root, "usr", "lib", "*", "openblas-pthread",
                                  "libblas.so.3"))
    return os.path.dirname(hits[0]) if hits else None


def openblas_dir():
    """Folder holding OpenBLAS's libblas.so.3, fetching it on first use.

    Returns (path, None) or (None, reason)."""
    root = os.path.join(cache_dir(), "root")
    found = _find_lib_dir(root)
    if found:
        return found, None
    os.makedirs(cache_dir(), exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", "libopenblas0-pthread"],
                       cwd=cache_dir(), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        debs = sorted(glob.glob(os.path.join(cache_dir(),
                                             "libopenblas0-pthread_*.deb")))
        if not debs:
            return None, "apt-get download libopenblas0-pthread gave no .deb"
        subprocess.run(["dpkg", "-x", debs[-1], root], check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        return None, "could not fetch OpenBLAS (%s)" % err
    found = _find_lib_dir(root)
    if not found:
        return None, "no openblas-pthread/libblas.so.3 in the extracted package"
    return found, None


def best_env(base=None):
    """(environment, None) for the best configuration, or (None, reason)."""
    lib_dir, reason = openblas_dir()
    if not lib_dir:
        return None, reason
    env = dict(os.environ if base is None else base)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    old = env.get("LD_LIBRARY_PATH")
    env["LD_LIBRARY_PATH"] = lib_dir + (":" + old if old else "")
    env["GLIBC_TUNABLES"] = GLIBC_TUNABLES
    return env, None


def blas_in_use():
    """Which BLAS this process mapped (reads /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps
                    if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none mapped"
