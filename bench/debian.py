"""Debian packages the benchmark runs (postgresql, wrk): installed when missing and
we are root, otherwise named."""

import os
import shutil
import subprocess


class MissingPackage(RuntimeError):
    pass


def ensure(package: str, *, command: str) -> None:
    """Install `package` unless `command` (one of its programs) is already there."""
    if shutil.which(command):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingPackage(f"{command} is missing: sudo apt-get install {package}")
    print(f"Installing Debian's {package}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)
