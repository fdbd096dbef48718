"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each virtual environment it creates by running a cached
``~/.ansible/test/cache/get_pip_<version>.py`` (see ansible_test/_util/target/setup/requirements.py)
and downloads it from a CI file host when the cache is empty. That host is not reachable here, so
the CI copies this file into that cache under the expected name. It installs pip with the standard
library's ``ensurepip`` and then pip-installs the requested packages (``pip==X``) from the package
index configured for pip on this machine.

Called as ``python get_pip_X.py [pip options] PACKAGE... [--no-setuptools] [--no-wheel]``.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys


def main() -> None:
    """Bootstrap pip, then install what the caller asked for."""
    args = sys.argv[1:]
    no_setuptools = '--no-setuptools' in args
    no_wheel = '--no-wheel' in args
    pip_args = [arg for arg in args if arg not in ('--no-setuptools', '--no-wheel')]

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
