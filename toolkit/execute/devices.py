"""Which device each framework uses, asked inside the framework's own environment.

The probe imports the framework in a subprocess (not a kernel) and asks it: torch CUDA,
``tf.config.list_physical_devices('GPU')``, ``mx.context.num_gpus()``. Results are cached by
(environment lock hash, interpreter, GPU fingerprint) beside the environments: the fingerprint
is ``nvidia-smi -L`` (or its absence), so a cached run on the same machine starts no Python at
all, and a GPU that appears or goes away is probed afresh. A failed probe is not cached.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from toolkit.cache import write_json_atomic
from toolkit.execute.environments import Environment, environment_root

PROBES = {
    "pytorch": (
        "import torch, json; ok = torch.cuda.is_available();"
        "print(json.dumps({'gpus': torch.cuda.device_count() if ok else 0,"
        " 'names': [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if ok else [],"
        " 'detail': f'torch {torch.__version__}, torch.cuda.is_available() = {ok}'}))"
    ),
    "tensorflow": (
        "import tensorflow as tf, json; g = tf.config.list_physical_devices('GPU');"
        "print(json.dumps({'gpus': len(g), 'names': [d.name for d in g],"
        " 'detail': f'tensorflow {tf.__version__}, list_physical_devices(\"GPU\") = {len(g)} device(s)'}))"
    ),
    "jax": (
        "import jax, json; g = [d for d in jax.devices() if d.platform == 'gpu'];"
        "print(json.dumps({'gpus': len(g), 'names': [str(d) for d in g],"
        " 'detail': f'jax {jax.__version__}, default backend {jax.default_backend()}'}))"
    ),
    "mxnet": (
        "import mxnet as mx, json\n"
        "try:\n    n = mx.context.num_gpus()\nexcept Exception as e:\n    n = 0\n"
        "print(json.dumps({'gpus': n, 'names': [], 'detail': f'mxnet {mx.__version__}, mx.context.num_gpus() = {n}'"
        " + ('' if n else ' (MXNet 1.9.1 GPU wheels target CUDA 11.2; this is a CPU build)')}))"
    ),
}


@dataclass(frozen=True)
class Device:
    framework: str
    kind: str  # "gpu" or "cpu"
    detail: str  # what the framework said

    @property
    def label(self) -> str:
        return self.kind


def gpu_fingerprint() -> str:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "no-nvidia-smi"
    try:
        return (
            subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30).stdout.strip() or "no-gpu"
        )
    except (OSError, subprocess.TimeoutExpired):
        return "nvidia-smi-failed"


def _ask(env: Environment) -> Device:
    """Import the framework in its environment and ask what it sees (seconds: TensorFlow ~5s)."""
    assert env.python is not None
    environment = env.kernel_env()
    environment["MPLBACKEND"] = "Agg"
    try:
        result = subprocess.run(
            [str(env.python), "-c", PROBES[env.framework]],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        data = json.loads(result.stdout.strip().splitlines()[-1])
        kind = "gpu" if data["gpus"] else "cpu"
        detail = data["detail"] + (f": {', '.join(data['names'])}" if data["names"] else "")
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError, KeyError):
        kind, detail = "cpu", f"device probe failed in {env.python}"
    return Device(env.framework, kind, detail)


def probe_devices(environments: dict[str, Environment], cache_file: Path | None = None) -> dict[str, Device]:
    """The device of every framework, probing the uncached ones in parallel.

    The cache is a fact about this machine, not about a project: it sits beside the
    environments (``<env root>/devices.json``) and its key changes when the GPU set does.
    """
    cache_file = cache_file or environment_root() / "devices.json"
    fingerprint = gpu_fingerprint()
    cache: dict[str, dict[str, str]] = {}
    if cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text("utf-8"))
        except ValueError:
            cache = {}
    devices: dict[str, Device] = {}
    to_probe: dict[str, Environment] = {}
    for framework, env in environments.items():
        if not env.ready or env.python is None:
            devices[framework] = Device(framework, "cpu", env.reason or "no environment")
            continue
        key = f"{framework}:{env.lock_hash}:{env.python}:{fingerprint}"
        if key in cache:
            devices[framework] = Device(framework, cache[key]["kind"], cache[key]["detail"])
        else:
            to_probe[key] = env
    if to_probe:
        with ThreadPoolExecutor(max_workers=len(to_probe)) as pool:
            answers = dict(zip(to_probe, pool.map(_ask, to_probe.values()), strict=True))
        for key, device in answers.items():
            devices[device.framework] = device
            if not device.detail.startswith("device probe failed"):
                cache[key] = {"kind": device.kind, "detail": device.detail}
        write_json_atomic(cache_file, cache)
    return {framework: devices[framework] for framework in environments}
