"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each virtual environment it creates by running a cached
``~/.ansible/test/cache/get_pip_<version>.py`` (see ansible_test/_util/target/setup/requirements.py)
and downloads it from a CI file host when the cache is empty. That host is not reachable here, so
the CI copies this file into that cache under the expected name. When the requested pip's wheel lies
beside it (noxfile.py downloads it there once), it installs pip from that wheel with the wheel itself
(1.8 s of CPU); otherwise it installs pip with the standard library's ``ensurepip`` and then pip-installs
the requested packages (``pip==X``) from the package index configured for pip on this machine (4.3 s).
ansible-test creates about 40 virtual environments in one `make test`.

Called as ``python get_pip_X.py [pip options] PACKAGE... [--no-setuptools] [--no-wheel]``.
"""

from __future__ import annotations

import ensurepip
import os
import re
import subprocess
import sys
from pathlib import Path


def main() -> None:
    """Bootstrap pip, then install what the caller asked for."""
    args = sys.argv[1:]
    no_setuptools = '--no-setuptools' in args
    no_wheel = '--no-wheel' in args
    pip_args = [arg for arg in args if arg not in ('--no-setuptools', '--no-wheel')]

    options = [arg for arg in pip_args if arg.startswith('-')]
    packages = [arg for arg in pip_args if not arg.startswith('-')]
    wanted = re.fullmatch(r'pip==([0-9.]+)', packages[0]) if len(packages) == 1 else None
    wheel = Path(__file__).with_name(f'pip-{wanted.group(1)}-py3-none-any.whl') if wanted else None
    if wheel and wheel.is_file():
        subprocess.run([sys.executable, str(wheel / 'pip'), 'install', '--quiet', '--no-index', *options, str(wheel)], check=True)
        return

    # ensurepip sets PIP_CONFIG_FILE=/dev/null (and more) in os.environ; pip would then lose the
    # machine's configuration (index, certificates). Restore the environment afterwards.
    saved_environ = dict(os.environ)
    try:
        ensurepip.bootstrap(upgrade=True, default_pip=True)
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)

    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'] + pip_args, check=True)

    # get-pip.py installs setuptools and wheel unless told not to; ensurepip may have brought
    # setuptools along (Python < 3.12). Honour the flags.
    unwanted = [name for name, skip in (('setuptools', no_setuptools), ('wheel', no_wheel)) if skip]
    if unwanted:
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--quiet', '--yes', '--disable-pip-version-check'] + unwanted, check=False,
                       stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
