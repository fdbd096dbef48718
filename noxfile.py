# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks of plausible.analytics as nox sessions: `nox -l` lists them, `make test` runs them, CONTRIBUTING.md explains them.

antsibull-nox.toml declares the container-free checks (lint, extra-checks, docs-check, ansible-lint). This file adds
ansible-test on the support matrix (with --venv: no containers), the emulator-backed sessions and the project's own checks.
`nox` alone runs the default sessions; the integration and demo sessions are not default (they take longest, and
ansible-test sessions are not default in community collections either): `make test` runs them side by side with `nox`.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import nox

try:
    import antsibull_nox
    from antsibull_nox.sessions import prepare_collections
except ImportError:
    print('You need to install antsibull-nox in the same Python environment as nox (make test does).')
    sys.exit(1)

REPO = Path(__file__).resolve().parent
FQCN = 'plausible.analytics'
# The support matrix, oldest first: ansible-core series -> Python. meta/runtime.yml's requires_ansible states exactly this range.
MATRIX = {'2.19': '3.11', '2.20': '3.12', '2.21': '3.13'}
OLDEST, NEWEST = list(MATRIX)[0], list(MATRIX)[-1]  # the newest runs every integration target, the others those with the alias smoke
# ansible-core 2.20 and 2.21 warn about their own internal collection on `ansible-doc -t role` (ansible/ansible#85689,
# fixed by ansible/ansible#86815). It says nothing about this collection, so this one message does not fail a check.
KNOWN_CORE_WARNING = re.compile(r"Collection at '[^']*/_protomatter' does not have a MANIFEST\.json file")

nox.options.reuse_venv = 'yes'
nox.options.default_venv_backend = 'uv'  # installs in a tenth of pip's CPU time; ansible-test's own venvs still use pip
antsibull_nox.load_antsibull_nox_toml()


def galaxy(key: str) -> str:
    """A top-level value of galaxy.yml (version, repository)."""
    return re.search(rf'^{key}:\s*(\S+)', (REPO / 'galaxy.yml').read_text(encoding='utf-8'), re.M).group(1)


def link_pythons() -> None:
    """Put python3.X links to pyenv's interpreters first on PATH: nox and ansible-test find them there (pyenv's shims do not)."""
    links = REPO / '.nox' / '.pythons'
    links.mkdir(parents=True, exist_ok=True)
    roots = [os.environ.get('PYENV_ROOT', ''), os.path.expanduser('~/.pyenv')]
    for version in MATRIX.values():
        found = [p for root in roots if root for p in glob.glob(f'{root}/versions/{version}.*/bin/python{version}')]
        found.sort(key=lambda p: [int(x) for x in re.findall(r'\d+', Path(p).parents[1].name)])
        link = links / f'python{version}'
        if found and not link.exists():
            with contextlib.suppress(FileExistsError):  # `make test` starts two nox processes at once
                link.symlink_to(found[-1])
    os.environ['PATH'] = f'{links}{os.pathsep}{os.environ["PATH"]}'


link_pythons()
os.environ.update(PRE_COMMIT='1', NO_PROXY='127.0.0.1,localhost', ANSIBLE_NOCOLOR='1', UV_PYTHON_DOWNLOADS='never')


# ---- helpers of the ansible-test sessions (they run in antsibull-nox's copy of the collection) ----------------------

def prepare_ansible_test() -> None:
    """Put .ci/get_pip_standin.py where ansible-test looks for its cached get-pip (it cannot download it here), with the
    wheel of the pip it asks for beside it (the stand-in then installs pip from it in half the time); the SSH key."""
    cache = Path.home() / '.ansible' / 'test' / 'cache'
    cache.mkdir(parents=True, exist_ok=True)
    ensure_ssh_key()
    for source in glob.glob(str(REPO / '.nox' / '*' / 'lib' / 'python*' / 'site-packages' / 'ansible_test' / '_internal' /
                                'python_requirements.py')):
        for version in re.findall(r"pip='([0-9.]+)'", Path(source).read_text(encoding='utf-8')):
            with tempfile.NamedTemporaryFile(dir=cache, delete=False) as handle:  # atomic: another session may read it now
                handle.write((REPO / '.ci' / 'get_pip_standin.py').read_bytes())
            os.replace(handle.name, cache / f'get_pip_{version.replace(".", "_")}.py')
            if not (cache / f'pip-{version}-py3-none-any.whl').exists():
                download = tempfile.mkdtemp(dir=cache)
                subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:',
                                '--dest', download, f'pip=={version}'], check=False)
                for wheel in Path(download).glob('pip-*.whl'):
                    os.replace(wheel, cache / wheel.name)
                shutil.rmtree(download)


LOCKS: list = []


def machine_lock(name: str) -> None:
    """Take a machine-wide lock (released by after_sanity, or at exit): ansible-test shares ~/.ansible/test/ between checkouts."""
    handle = open(Path.home() / '.ansible' / 'test' / f'.plausible-ci-{name}.lock', 'w', encoding='utf-8')  # pylint: disable=consider-using-with
    fcntl.flock(handle, fcntl.LOCK_EX)
    LOCKS.append(handle)


def ensure_ssh_key() -> None:
    """Create ansible-test's ~/.ansible/test/id_rsa as it does, under a lock: two ansible-test runs that start at once race for it."""
    key = Path.home() / '.ansible' / 'test' / 'id_rsa'
    with open(key.with_name('.plausible-ci-ssh-key.lock'), 'w', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not key.with_suffix('.pub').exists() and shutil.which('ssh-keygen'):
            key.unlink(missing_ok=True)
            subprocess.run(['ssh-keygen', '-m', 'PEM', '-q', '-t', 'rsa', '-N', '', '-f', str(key)], check=True)
            key.write_text(re.sub(r'(BEGIN|END) PRIVATE KEY', r'\1 RSA PRIVATE KEY', key.read_text(encoding='utf-8')), encoding='utf-8')


def drop_tmp() -> None:
    """Work around antsibull-nox 1.10.0: its copy-back of tests/output crashes on the nested folders of tests/output/.tmp."""
    subprocess.run(['rm', '-rf', 'tests/output/.tmp'], check=True)


def count_junit(pattern: str) -> int:
    """Tests run (not skipped) in the JUnit files of tests/output/junit; a run of zero tests proves nothing, so it fails."""
    ran = 0
    for file in glob.glob(f'tests/output/junit/{pattern}'):
        root = ET.parse(file).getroot()
        for suite in [root] if root.tag == 'testsuite' else root.iter('testsuite'):
            ran += int(suite.get('tests', 0)) - int(suite.get('skipped', 0))
    if not ran:
        raise RuntimeError(f'no test ran (tests/output/junit/{pattern})')
    return ran


class Emulator:
    """tests/emulator/server.py on 127.0.0.1 with fresh keys (never printed); stopped when the session or nox ends."""

    def __init__(self, server: Path) -> None:
        self.api_key, self.readonly_key = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        self.server, self.url = server, ''
        self.out = Path(tempfile.mkdtemp(prefix='plausible-emulator-'))
        with open(self.out / 'out', 'wb') as out, open(self.out / 'log', 'wb') as log:
            self.proc = subprocess.Popen([sys.executable, str(server), '--host', '127.0.0.1', '--port', '0',  # pylint: disable=consider-using-with
                                          '--api-key', self.api_key, '--key', f'{self.readonly_key}:stats:read:*'], stdout=out, stderr=log)
        atexit.register(self.stop)
        for _attempt in range(300):
            self.url = (self.out / 'out').read_text(encoding='utf-8').partition('\n')[0].strip() if self.proc.poll() is None else 'exited'
            if self.url:
                break
            time.sleep(0.1)
        if not re.match(r'^http://127\.0\.0\.1:\d+$', self.url):
            self.stop()
            raise RuntimeError(f'the emulator did not start; its log: {self.out}/log')

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def state(self) -> dict:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(self.url + '/_emulator/state', timeout=30) as answer:
            return json.load(answer)

    def write_integration_config(self, smoke: bool) -> None:
        """tests/integration/integration_config.yml (mode 0600), the variables of tests/integration/README.md."""
        values = dict(plausible_test_api_url=self.url, plausible_test_api_key=self.api_key,
                      plausible_test_readonly_api_key=self.readonly_key, plausible_test_smoke=smoke,
                      plausible_test_emulator_server=str(self.server), plausible_test_emulator_python=sys.executable)
        path = Path('tests/integration/integration_config.yml')
        path.unlink(missing_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w', encoding='utf-8') as handle:
            handle.writelines(f'{key}: {json.dumps(value)}\n' for key, value in values.items())


def ansible_doc(env_bin: Path, *args: str, env: dict | None = None) -> str:
    """Run ansible-doc; any error or warning (but the known one) fails."""
    result = subprocess.run([str(env_bin / 'ansible-doc'), *args], capture_output=True, text=True, env=env, check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if re.match(r'^\s*\[(WARNING|ERROR|DEPRECATION WARNING)\]', line) and not KNOWN_CORE_WARNING.search(line)]
    if result.returncode or problems:
        raise RuntimeError(f'ansible-doc {" ".join(args)} failed ({result.returncode}): {problems or result.stderr[-2000:]}')
    return result.stdout


def modules(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / 'plugins' / 'modules').glob('[!_]*.py'))


def session_bin(core: str, kind: str) -> Path:
    """The bin folder of the venv of an ansible-test session (antsibull-nox gives the callbacks no session object)."""
    return REPO / '.nox' / re.sub(r'[^\w]+', '-', f'ansible-test-{kind}-{core}') / 'bin'


def before_sanity(core: str) -> None:
    """No ignore files; requires_ansible is the matrix; ansible-doc renders every module and the role."""
    ignores = glob.glob('tests/sanity/ignore-*.txt')
    if ignores:
        raise RuntimeError(f'sanity ignore files are not allowed: {ignores}')
    major, minor = NEWEST.split('.')
    wanted = f'>={OLDEST}.0,<{major}.{int(minor) + 1}.0'
    said = re.search(r'^requires_ansible:\s*[\'"]?([^\'"\n]+)', Path('meta/runtime.yml').read_text(encoding='utf-8'), re.M)
    if not said or said.group(1) != wanted:
        raise RuntimeError(f'meta/runtime.yml: requires_ansible must be {wanted!r}, the tested matrix (noxfile.py MATRIX)')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(Path.cwd().parents[2]), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
    ansible_doc(session_bin(core, 'sanity'), *(f'{FQCN}.{module}' for module in modules(Path.cwd())), env=env)
    ansible_doc(session_bin(core, 'sanity'), '-t', 'role', f'{FQCN}.onboard', env=env)
    prepare_ansible_test()
    machine_lock(f'sanity-{MATRIX[core]}')


def after_sanity() -> None:
    LOCKS.pop().close()
    drop_tmp()


def after_units() -> None:
    print(f'unit tests run: {count_junit("*-units.xml")}')
    drop_tmp()


EMULATORS: list[Emulator] = []


def before_integration(core: str) -> None:
    emulator = Emulator(Path.cwd() / 'tests' / 'emulator' / 'server.py')
    EMULATORS.append(emulator)
    emulator.write_integration_config(smoke=core != NEWEST)
    prepare_ansible_test()


def after_integration() -> None:
    EMULATORS.pop().stop()
    Path('tests/integration/integration_config.yml').unlink()
    drop_tmp()


for _core, _python in MATRIX.items():
    _common = dict(ansible_core_version=_core, ansible_core_source='pypi', default=True)
    antsibull_nox.add_ansible_test_session(
        name=f'ansible-test-sanity-{_core}', description=f'ansible-test sanity, no ignore files (ansible-core {_core}, Python {_python})',
        ansible_test_params=['sanity', '--venv', '--python', _python, '--color', 'no'],
        callback_before=lambda core=_core: before_sanity(core), callback_after=after_sanity, **_common)
    antsibull_nox.add_ansible_test_session(
        name=f'ansible-test-units-{_core}', description=f'ansible-test units (ansible-core {_core}, Python {_python})',
        ansible_test_params=['units', '--venv', '--python', _python, '--color', 'no'],
        callback_before=prepare_ansible_test, callback_after=after_units, **_common)
    antsibull_nox.add_ansible_test_session(
        name=f'ansible-test-integration-{_core}',
        description=f'ansible-test integration against the emulator, {"every target" if _core == NEWEST else "targets with the alias smoke"} '
                    f'(ansible-core {_core}, Python {_python}); arguments after -- pick targets',
        ansible_test_params=['integration', '--venv', '--python', _python, '--color', 'no', '--continue-on-error']
        + ([] if _core == NEWEST else ['smoke/']),
        callback_before=lambda core=_core: before_integration(core), callback_after=after_integration, **dict(_common, default=False))


# ---- sessions of our own ----------------------------------------------------------------------------------------------

@nox.session(python='3.11')
def emulator(session: nox.Session) -> None:
    """The emulator's own pytest suite (tests/emulator)."""
    session.install('-r', '.ci/requirements/emulator.txt')
    session.run('pytest', '-p', 'no:cacheprovider', '-q', 'tests/emulator', *session.posargs)


@nox.session(python=False, default=False)
def demo(session: nox.Session) -> None:
    """`make demo` as a user runs it: its own venv, the emulator, the example playbook twice (changes, then none)."""
    session.run('bash', 'docs/examples/demo.sh', env=dict(DEMO_VENV=str(REPO / '.nox' / 'demo-venv')))


@nox.session(python='3.11')
def changelog(session: nox.Session) -> None:
    """antsibull-changelog lint of the fragments and of changelogs/changelog.yaml; fragments are not kept."""
    session.install('antsibull-changelog==0.36.0', f'ansible-core>={OLDEST}.0,<{OLDEST}.99')  # `antsibull-changelog release` calls ansible-doc
    if not re.search(r'^keep_fragments:\s*false\s*$', Path('changelogs/config.yaml').read_text(encoding='utf-8'), re.M):
        session.error('changelogs/config.yaml must say keep_fragments: false')
    session.run('antsibull-changelog', 'lint')
    session.run('antsibull-changelog', 'lint-changelog-yaml', 'changelogs/changelog.yaml')


# What the built tarball must never contain.
UNWANTED = re.compile(r'(^|/)(\.venvs?|\.nox|\.ansible|\.cache|\.git|\.ci|\.github|__pycache__|\.pytest_cache|\.mypy_cache|'
                      r'\.ruff_cache|\.tox)(/|$)|^tests/output/|^collections/|^docs/build/|\.py[co]$|\.tar\.gz$|'
                      r'^tests/integration/(inventory|integration_config\.yml)$|^changelogs/\.plugin-cache\.yaml$')


@nox.session(python='3.13')
def build(session: nox.Session) -> None:
    """Build the tarball, check its file list, install it, run a module from it on the emulator; galaxy-importer, strict."""
    bad = ['.venvs/x/bin/python', '.nox/lint/x', 'tests/output/junit/x.xml', '.ansible/x', '.git/config', '.ci/run', '.github/x',
           'plugins/modules/__pycache__/x.pyc', 'x.tar.gz', 'tests/integration/integration_config.yml', 'docs/build/x.html']
    good = ['plugins/modules/plausible_site.py', 'meta/runtime.yml', 'tests/unit/plugins/modules/test_x.py', 'docs/guide.md']
    if [p for p in bad if not UNWANTED.search(p)] or [p for p in good if UNWANTED.search(p)]:
        session.error('the tarball content check itself is broken')
    session.install(f'ansible-core>={NEWEST}.0,<{NEWEST}.99', 'requests', '-r', '.ci/requirements/importer.txt')
    tmp = Path(session.create_tmp()).resolve()
    for old in tmp.glob('*.tar.gz'):
        old.unlink()
    session.run('ansible-galaxy', 'collection', 'build', '--output-path', str(tmp), str(REPO), silent=True)
    version = galaxy('version')  # the name release.yml publishes, whatever the version
    tarball = tmp / f'plausible-analytics-{version}.tar.gz'
    if not tarball.exists():
        session.error(f'ansible-galaxy collection build did not write {tarball.name}: {sorted(p.name for p in tmp.glob("*.tar.gz"))}')
    with tarfile.open(tarball) as tar:
        names = {m.name.removeprefix('./') for m in tar.getmembers()}
    unwanted = sorted(n for n in names if UNWANTED.search(n))
    missing = sorted(({'MANIFEST.json', 'FILES.json', 'meta/runtime.yml', 'README.md', 'LICENSE'}
                      | {f'plugins/modules/{m}.py' for m in modules(REPO)}) - names)
    if unwanted or missing:
        session.error(f'{tarball.name}: unwanted files {unwanted[:20]}; missing files {missing}')
    session.log(f'{tarball.name}: {len(names)} members, none unwanted, none missing')

    root = tmp / 'installed'
    session.run('rm', '-rf', str(root), external=True)
    session.run('ansible-galaxy', 'collection', 'install', '--offline', '-p', str(root), str(tarball))
    installed = root / 'ansible_collections' / 'plausible' / 'analytics'
    env = dict(ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    if str(installed) not in ansible_doc(Path(session.bin), f'{FQCN}.plausible_site', env=dict(os.environ, **env)):
        session.error(f'ansible-doc did not read {FQCN}.plausible_site from {installed}')
    emu = Emulator(REPO / 'tests' / 'emulator' / 'server.py')
    try:
        output = session.run('ansible', 'localhost', '-m', f'{FQCN}.plausible_site', '-a', 'domain=build-check.example.com',
                             env=dict(env, PLAUSIBLE_API_URL=emu.url, PLAUSIBLE_API_KEY=emu.api_key), silent=True)
        domains = [site['domain'] for site in emu.state()['sites']]
    finally:
        emu.stop()
    if 'localhost | CHANGED' not in (output or '') or 'build-check.example.com' not in domains:
        session.error(f'the installed plausible_site did not create the site: {output}')

    workdir = tmp / 'importer'
    (workdir / 'tmp').mkdir(parents=True, exist_ok=True)
    with session.chdir(workdir):  # it writes importer_result.json into the current folder
        output = session.run('python', '-m', 'galaxy_importer.main', str(tarball), silent=True, env=dict(
            GALAXY_IMPORTER_CONFIG=str(REPO / '.ci' / 'galaxy-importer.cfg'), ANSIBLE_HOME=str(workdir),
            GALAXY_IMPORTER_TMP_ROOT_DIR=str(workdir / 'tmp'), GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=str(workdir / 'tmp')))
    problems = [line for line in (output or '').splitlines() if re.search(r'\b(WARNING|ERROR|CRITICAL|Traceback)\b', line)]
    if problems or 'Importer processing completed successfully' not in (output or ''):
        session.error(f'galaxy-importer: {problems or output}')
    session.log('galaxy-importer: no warning, no error')


WORKFLOWS = sorted(str(p.relative_to(REPO)) for p in (REPO / '.github' / 'workflows').glob('*.yml'))


def nox_sessions() -> dict[str, bool]:
    """Every session `nox -l` lists, and whether plain `nox` (so `make test`) runs it."""
    listing = subprocess.run([sys.executable, '-m', 'nox', '-l', '-f', str(REPO / 'noxfile.py')], capture_output=True, text=True,
                             check=True, cwd=REPO).stdout
    return dict((name, mark == '*') for mark, name in re.findall(r'^([*-]) (\S+) ->', listing, re.M))


def expand_matrix(matrix: dict | str | None) -> list[dict]:
    """The jobs of a strategy.matrix as GitHub Actions expands it: the product of its lists, then `include`."""
    if not isinstance(matrix, dict):
        return [{}]
    axes = dict((key, value) for key, value in matrix.items() if key not in ('include', 'exclude'))
    jobs = [{}]
    for key, values in axes.items():
        jobs = [dict(job, **{key: value}) for job in jobs for value in values]
    jobs = [job for job in jobs if not any(all(job.get(k) == v for k, v in ex.items()) for ex in matrix.get('exclude', []))]
    for extra in matrix.get('include', []):
        matching = [job for job in jobs if all(job.get(k) == v for k, v in extra.items() if k in axes)]
        for job in matching or [jobs.append({}) or jobs[-1]]:
            job.update(extra)
    return jobs


def workflow_commands(path: str) -> list[tuple[str, str]]:
    """(job, command) for every `run:` line of a workflow, with ${{ matrix.X }} replaced for each matrix job. A matrix
    job with a `core` and a `python` must pair them as MATRIX does."""
    import yaml  # pylint: disable=import-outside-toplevel
    workflow = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    commands = []
    for job_name, job in workflow['jobs'].items():
        for values in expand_matrix(job.get('strategy', {}).get('matrix')):
            if 'core' in values and MATRIX.get(str(values['core'])) != str(values.get('python')):
                raise RuntimeError(f'{path}, job {job_name}: ansible-core {values["core"]} with Python {values.get("python")}; '
                                   f'noxfile.py MATRIX says {MATRIX.get(str(values["core"]))}')
            for step in job.get('steps', []):
                for line in str(step.get('run', '')).splitlines():
                    line = re.sub(r'\$\{\{\s*matrix\.(\w+)\s*\}\}', lambda m: str(values.get(m.group(1), m.group(0))), line)
                    commands.append((job_name, line.strip()))
    return commands


@nox.session(python='3.11')
def workflows(session: nox.Session) -> None:
    """The GitHub workflows, offline: GitHub's workflow schema (vendored by check-jsonschema), every nox session and make
    target they name exists, and ci.yml runs what `make test` runs, each cell on the Python of noxfile.py's MATRIX."""
    session.install('-r', '.ci/requirements/workflows.txt')
    session.run('check-jsonschema', '--builtin-schema', 'vendor.github-workflows', *WORKFLOWS)
    sessions = nox_sessions()
    targets = set(re.findall(r'^([\w.-]+):', (REPO / 'Makefile').read_text(encoding='utf-8'), re.M))
    named, problems = {}, []
    for path in WORKFLOWS:
        try:
            commands = workflow_commands(path)
        except RuntimeError as exc:
            session.error(str(exc))
        for job, command in commands:
            for words in re.findall(r'\bnox\b[^;&|]*?(?:-s|--sessions?)\s+([^;&|]*)', command):
                for name in re.split(r'\s+', words.split(' -- ')[0].strip()):
                    if name.startswith('-'):
                        break
                    named.setdefault(name, f'{path} ({job})')
                    if name not in sessions:
                        problems.append(f'{path}, job {job}: nox session {name!r} does not exist (`nox -l`)')
            for target in re.findall(r'\bmake\s+(?:-\S+\s+)*([\w.-]+)', command):
                if target not in targets:
                    problems.append(f'{path}, job {job}: make target {target!r} does not exist in the Makefile')
    # ci.yml runs every session that `make test` runs: plain nox's defaults, every integration cell and demo (the meta
    # session lint runs yamllint and antsibull-nox-config).
    ci = set(name for name, where in named.items() if where.startswith('.github/workflows/ci.yml'))
    ci |= {'yamllint', 'antsibull-nox-config'} if 'lint' in ci else set()
    wanted = set(name for name, default in sessions.items() if default) | {f'ansible-test-integration-{core}' for core in MATRIX} | {'demo'}
    if wanted - ci:
        problems.append(f'.github/workflows/ci.yml does not run these sessions of `make test`: {sorted(wanted - ci)}')
    if problems:
        session.error('\n'.join(problems))
    session.log(f'{len(WORKFLOWS)} workflows match the schema; they name {len(named)} nox sessions, all real; '
                f'ci.yml runs all {len(wanted)} sessions of `make test`')


@nox.session(python=False, default=False)
def fragment(session: nox.Session) -> None:
    """A change to plugins/, roles/ or meta/runtime.yml since the base (`nox -s fragment -- origin/main`) adds a changelog fragment."""
    base = session.posargs[0] if session.posargs else session.error('name the base: nox -s fragment -- origin/main')
    merge_base = session.run('git', 'merge-base', base, 'HEAD', silent=True, external=True).strip()
    lines = session.run('git', 'diff', '--name-status', '--no-renames', merge_base, silent=True, external=True).splitlines()
    lines += ['A\t' + p for p in session.run('git', 'ls-files', '--others', '--exclude-standard', silent=True, external=True).split()]
    changes = [line.split('\t') for line in lines if line]
    visible = sorted(path for _kind, path in changes if re.match(r'^(plugins|roles)/|^meta/runtime\.yml$', path))
    fragments = sorted(path for kind, path in changes if kind == 'A' and re.match(r'^changelogs/fragments/[^/]+\.ya?ml$', path))
    if visible and not fragments:
        session.error(f'{len(visible)} user-visible file(s) changed since {base} ({", ".join(visible[:5])}) but no fragment was '
                      'added under changelogs/fragments/ (see CONTRIBUTING.md)')
    session.log(f'{len(visible)} user-visible file(s) changed, fragments added: {", ".join(fragments) or "none needed"}')


@nox.session(python='3.11')
def docs(session: nox.Session) -> None:
    """The HTML docsite: antsibull-docs renders the plugin reference and the guides of docs/docsite (extra docs) into
    docs/build/rst/, Sphinx renders HTML into docs/build/html/ (offline); any Sphinx warning fails."""
    session.install('-r', '.ci/requirements/docs.txt')
    collections = prepare_collections(session, install_in_site_packages=False, install_out_of_tree=True)
    rst = REPO / 'docs' / 'build' / 'rst'
    session.run('rm', '-rf', str(rst.parent), external=True)
    rst.mkdir(parents=True, mode=0o755)
    session.run('antsibull-docs', 'collection', '--use-current', '--fail-on-error', '--dest-dir', str(rst), FQCN,
                env=dict(ANSIBLE_COLLECTIONS_PATH=str(collections.current_place)))
    # Each guide's page (docs/docsite/rst/X.rst, a label) gets the text of docs/X.md, included with MyST's parser (an
    # include in the committed page would not pass antsibull-docs' lint, which checks a copy in a temporary folder).
    # Links to another guide become references to its page, other relative links absolute.
    pages = [page.stem for page in (REPO / 'docs' / 'docsite' / 'rst').glob('*.rst')]
    for page in pages:
        text = (REPO / 'docs' / f'{page}.md').read_text(encoding='utf-8')
        text = re.sub(r'\[([^\]]+)\]\((%s)\.md(#[^)]*)?\)' % '|'.join(pages),
                      lambda m: f'{{ref}}`{m.group(1)} <ansible_collections.{FQCN}.docsite.{m.group(2)}>`', text)
        text = re.sub(r'\]\((?![a-z]+:|#)([^)]+)\)', lambda m: f']({galaxy("repository")}/blob/main/docs/{m.group(1)})', text)
        built = rst / 'collections' / 'plausible' / 'analytics' / 'docsite' / f'{page}.rst'
        (built.parent / f'{page}.md.inc').write_text(text, encoding='utf-8')  # (not .md: Sphinx would read it as a page)
        with built.open('a', encoding='utf-8') as handle:
            handle.write(f'\n.. include:: {page}.md.inc\n   :parser: myst_parser.sphinx_\n')
    session.run('cp', 'docs/sphinx/index.rst', str(rst), external=True)
    session.run('sphinx-build', '-M', 'html', str(rst), str(rst.parent), '-c', 'docs/sphinx', '-q', '--keep-going', '-W')


# Allow `python noxfile.py` as antsibull-nox's template does (nox >= 2025.02.09).
if __name__ == '__main__':
    nox.main()
