"""Test and CI driver of the plausible.analytics collection.

The Makefile's targets call this script (`make help` lists them, CONTRIBUTING.md explains them); run
``python3 .ci/ci.py --help`` for its own options. It needs only the standard library of Python 3.9 or
newer and installs everything else itself, into virtual environments under ``.venvs/`` (ignored by git
and by the collection build).

Every check is a job: one gate on one ansible-core/Python matrix cell (or on none). Each job works on
its own copy of the working tree (tracked files plus untracked files that git does not ignore) at
``<stage>/<job>/ansible_collections/plausible/analytics``, outside any git work tree, so that
ansible-test, ansible-lint and antsibull-docs see exactly the collection's files and jobs can run side
by side (``JOBS``, default: twice the CPUs, at most 8; integration targets are split into shards then).
A job's output goes to ``.venvs/logs/<job>.log``; it is printed live when jobs run one at a time, and in
full for a job that fails when they run in parallel. The run ends with a summary whose last line reads
``checks: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import functools
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import typing as t
import urllib.request
import xml.etree.ElementTree as ET

from pathlib import Path

NAMESPACE = 'plausible'
NAME = 'analytics'
FQCN = f'{NAMESPACE}.{NAME}'

REPO = Path(__file__).resolve().parent.parent
CI_DIR = REPO / '.ci'
VENVS = REPO / '.venvs'
PYBIN = VENVS / 'bin'  # python3.X links to the matrix interpreters, first on PATH for ansible-test
LOGS = VENVS / 'logs'
REQUIREMENTS = CI_DIR / 'requirements'

STAGE_BASE = Path(os.environ.get('PLAUSIBLE_CI_STAGE') or
                  Path(tempfile.gettempdir()) / f'plausible.analytics-ci-{hashlib.sha256(str(REPO).encode()).hexdigest()[:8]}')

# Paths inside a stage that survive a re-sync: ansible-test's results and its virtual environments.
STAGE_KEEP = ('tests/output',)

COMMAND_TIMEOUT = 30 * 60  # no single tool run may take longer than this


@dataclasses.dataclass(frozen=True)
class Cell:
    """One ansible-core release series and the Python it runs on."""

    core: str
    python: str

    @property
    def label(self) -> str:
        """Short name used in output, e.g. 2.19/py3.11."""
        return f'{self.core}/py{self.python}'

    @property
    def venv(self) -> Path:
        """Virtual environment holding this ansible-core (and its ansible-test)."""
        return VENVS / f'core-{self.core}'

    @property
    def upper(self) -> str:
        """The first release series after this one."""
        major, minor = self.core.split('.')
        return f'{major}.{int(minor) + 1}'

    @property
    def requirement(self) -> str:
        """pip requirement for the newest release of the series."""
        return f'ansible-core>={self.core}.0,<{self.upper}.0'


# The support matrix. meta/runtime.yml's requires_ansible must state exactly this range (checked).
MATRIX = (
    Cell('2.19', '3.11'),
    Cell('2.20', '3.12'),
    Cell('2.21', '3.13'),
)
TOOLS_PYTHON = '3.11'  # ansible-lint, antsibull-*, galaxy-importer, the emulator and its tests


# ---------------------------------------------------------------------------------------------
# Output


SECRETS: list[str] = []  # values that must never be printed (generated API keys)

# pip prints this for every package because of this machine's pip configuration; it says nothing.
NOISE = re.compile(r"^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory\.\s*$")

PRINT_LOCK = threading.Lock()
LOCAL = threading.local()  # .sink: where the current job's output goes


@dataclasses.dataclass
class Sink:
    """Output of one job: its log file, and the terminal too when jobs run one at a time."""

    handle: t.TextIO
    live: bool


def redact(text: str) -> str:
    """Replace every known secret in text."""
    for secret in SECRETS:
        text = text.replace(secret, '<redacted>')
    return text


def emit(text: str) -> None:
    """Write text to the current job's log (and the terminal when live), or to the terminal outside jobs."""
    text = redact(text)
    sink: Sink | None = getattr(LOCAL, 'sink', None)
    if sink is None or sink.live:
        with PRINT_LOCK:
            sys.stdout.write(text)
            sys.stdout.flush()
    if sink is not None:
        sink.handle.write(text)
        sink.handle.flush()


def say(message: str) -> None:
    """One line of the driver's own output."""
    emit(f'[ci] {message}\n')


class GateError(Exception):
    """A check failed; the message says why."""


class SkipCheck(Exception):
    """A check cannot run here; the message says why (printed and counted, never silent)."""


@dataclasses.dataclass
class Result:
    """The outcome of one check."""

    gate: str
    cell: str
    status: str  # PASS, FAIL, SKIP
    detail: str = ''
    seconds: float = 0.0
    order: int = 0


RESULTS: list[Result] = []


# ---------------------------------------------------------------------------------------------
# Processes


RUNNING: set[subprocess.Popen] = set()
RUNNING_LOCK = threading.Lock()
INTERRUPTED = threading.Event()  # set on SIGINT/SIGTERM/SIGHUP: every started process is being killed


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal a process and everything it started (each runs in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux): what a test starts in the background stays findable by descendants()."""
    with contextlib.suppress(Exception):  # best effort: elsewhere kill_all still reaches the process groups
        import ctypes  # pylint: disable=import-outside-toplevel  # only needed here
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def descendants() -> list[tuple[int, str]]:
    """(pid, command line) of every living process below this one."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f'/proc/{entry}/stat').read_text(encoding='utf-8', errors='replace').rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != 'Z':
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                cmdline = Path(f'/proc/{child}/cmdline').read_bytes().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            except OSError:
                cmdline = '?'
            found.append((child, cmdline))
            todo.append(child)
    return found


def kill_all() -> None:
    """Kill every process this driver started, and everything they started, that still runs."""
    INTERRUPTED.set()
    with RUNNING_LOCK:
        procs = list(RUNNING)
    for proc in procs:
        kill_group(proc)
    for _attempt in range(3):
        for pid, _cmdline in descendants():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, quiet: bool = False,
        timeout: int = COMMAND_TIMEOUT, on_line: t.Callable[[str], None] | None = None) -> tuple[int, str]:
    """Run cmd, sending its output to the job's output (unless quiet); return (exit code, output)."""
    if INTERRUPTED.is_set():
        raise GateError('interrupted before it finished')
    if not quiet:
        say('$ ' + ' '.join(cmd))
    lines: list[str] = []
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors='replace', start_new_session=True) as proc:
        with RUNNING_LOCK:
            RUNNING.add(proc)
        timed_out = threading.Event()
        timer = threading.Timer(timeout, lambda: (timed_out.set(), kill_group(proc)))
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if NOISE.match(line):
                    continue
                lines.append(line)
                if not quiet:
                    emit(line)
                if on_line:
                    on_line(line)
            code = proc.wait()
        except BaseException:
            kill_group(proc)
            raise
        finally:
            timer.cancel()
            with RUNNING_LOCK:
                RUNNING.discard(proc)
    output = ''.join(lines)
    if code < 0:
        why = f'; it ran into the timeout of {timeout} s' if timed_out.is_set() else '; interrupted' if INTERRUPTED.is_set() else ''
        output += f'\n(ended by signal {-code}{why})\n'
        if not quiet:
            emit(output.splitlines(keepends=True)[-1])
    return code, output


def run_ok(cmd: list[str], what: str, **kwargs: t.Any) -> str:
    """Run cmd; raise GateError naming `what` when it fails (showing the end of its output if it was quiet)."""
    code, output = run(cmd, **kwargs)
    if code != 0:
        if kwargs.get('quiet'):
            emit(tail(output, 60))
        raise GateError(f'{what} failed (exit code {code})')
    return output


def tail(text: str, count: int) -> str:
    """The last count lines of text."""
    return ''.join(text.splitlines(keepends=True)[-count:])


def base_env(extra_path: t.Iterable[Path] = ()) -> dict[str, str]:
    """The environment for tools: this process's, PATH extended, without stray Ansible or venv settings."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(('ANSIBLE_', 'PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')):
            del env[name]
    env['PATH'] = os.pathsep.join([str(p) for p in extra_path] + [str(PYBIN), env.get('PATH', os.defpath)])
    env['PRE_COMMIT'] = '1'  # ansible-lint: no check for a newer release
    env['ANSIBLE_NOCOLOR'] = '1'
    env['PY_COLORS'] = '0'
    env['NO_COLOR'] = '1'
    env['NO_PROXY'] = '127.0.0.1,localhost'  # the emulator is always local
    return env


# ---------------------------------------------------------------------------------------------
# Interpreters and virtual environments


def pyenv_roots() -> list[Path]:
    """Where pyenv keeps its interpreters."""
    roots = []
    if os.environ.get('PYENV_ROOT'):
        roots.append(Path(os.environ['PYENV_ROOT']))
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(['pyenv', 'root'], capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        if out:
            roots.append(Path(out))
    roots.append(Path.home() / '.pyenv')
    return list(dict.fromkeys(roots))


def python_version_of(exe: str) -> str | None:
    """X.Y of an interpreter that works and has venv and ensurepip, else None."""
    try:
        out = subprocess.run([exe, '-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'],
                             capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


@functools.lru_cache(maxsize=None)
def find_python(version: str) -> Path | None:
    """A working interpreter for Python X.Y: this one, pyenv's (newest patch first), or one on PATH."""
    candidates: list[str] = []
    if '%d.%d' % sys.version_info[:2] == version:
        candidates.append(sys.executable)
    for root in pyenv_roots():
        found = glob.glob(str(root / 'versions' / f'{version}.*' / 'bin' / f'python{version}'))
        found.sort(key=lambda p: [int(x) if x.isdigit() else -1 for x in Path(p).parent.parent.name.split('.')], reverse=True)
        candidates.extend(found)
    which = shutil.which(f'python{version}')
    if which:
        candidates.append(which)
    for candidate in candidates:
        if python_version_of(candidate) == version:
            return Path(os.path.realpath(candidate))
    return None


def link_pythons() -> None:
    """Put python3.X links to every matrix interpreter in .venvs/bin (pyenv's shims do not resolve them)."""
    PYBIN.mkdir(parents=True, exist_ok=True)
    for version in sorted({c.python for c in MATRIX} | {TOOLS_PYTHON}):
        exe = find_python(version)
        link = PYBIN / f'python{version}'
        if link.is_symlink() and exe is not None and os.readlink(link) == str(exe):
            continue
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        if exe is not None:
            link.symlink_to(exe)


VENV_LOCKS: dict[str, threading.Lock] = {}
VENV_LOCKS_LOCK = threading.Lock()


def ensure_venv(name: str, python_version: str, requirements: list[str], files: t.Sequence[Path] = ()) -> Path:
    """Create or reuse .venvs/<name>; it is recreated whenever its interpreter, requirements or files change."""
    exe = find_python(python_version)
    if exe is None:
        raise SkipCheck(f'no Python {python_version} interpreter here (looked on PATH and in pyenv)')
    with VENV_LOCKS_LOCK:
        venv_lock = VENV_LOCKS.setdefault(name, threading.Lock())
    with venv_lock:
        path = VENVS / name
        digest = hashlib.sha256(f'{exe}\n{python_version}\n'.encode())
        for requirement in requirements:
            digest.update(f'{requirement}\n'.encode())
        for file in files:
            digest.update(file.read_bytes() if file.exists() else b'-')
        fingerprint = digest.hexdigest()
        marker = path / '.ci-fingerprint'
        if marker.exists() and marker.read_text(encoding='utf-8') == fingerprint and (path / 'bin' / 'python').exists():
            return path
        say(f'creating .venvs/{name} (Python {python_version}): {" ".join(requirements)}')
        shutil.rmtree(path, ignore_errors=True)
        run_ok([str(exe), '-m', 'venv', str(path)], f'creating .venvs/{name}', quiet=True)
        pip = [str(path / 'bin' / 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '--quiet']
        run_ok(pip + ['--upgrade', 'pip'], f'upgrading pip in .venvs/{name}', quiet=True)
        run_ok(pip + requirements, f'installing into .venvs/{name}', quiet=True)
        marker.write_text(fingerprint, encoding='utf-8')
        return path


def cell_venv(cell: Cell) -> Path:
    """The venv of a matrix cell: its ansible-core (with ansible-test), plus requests for running modules."""
    path = ensure_venv(cell.venv.name, cell.python, [cell.requirement, 'requests'])
    install_get_pip(cell)
    return path


def tools_venv() -> Path:
    """ansible-lint, antsibull-docs, antsibull-changelog."""
    req = REQUIREMENTS / 'tools.txt'
    return ensure_venv('tools', TOOLS_PYTHON, ['-r', str(req)], [req])


def importer_venv() -> Path:
    """galaxy-importer (it pins its own ansible-core and ansible-lint, so it lives alone)."""
    req = REQUIREMENTS / 'importer.txt'
    return ensure_venv('importer', TOOLS_PYTHON, ['-r', str(req)], [req])


def docs_venv() -> Path:
    """antsibull-docs, Sphinx and ansible-core for `make docs`."""
    req = REQUIREMENTS / 'docs.txt'
    return ensure_venv('docs', TOOLS_PYTHON, ['-r', str(req)], [req])


def emulator_venv() -> Path:
    """The emulator's Python: pytest and requests for its suite, plus tests/emulator/requirements.txt if it exists."""
    req = REQUIREMENTS / 'emulator.txt'
    own = REPO / 'tests' / 'emulator' / 'requirements.txt'
    return ensure_venv('emulator', TOOLS_PYTHON, ['-r', str(req)] + (['-r', str(own)] if own.exists() else []), [req, own])


def install_get_pip(cell: Cell) -> None:
    """Put the offline get-pip stand-in where this cell's ansible-test looks for its cached bootstrap script.

    ansible-test --venv bootstraps pip into every venv it makes with ~/.ansible/test/cache/get_pip_<version>.py,
    which it otherwise downloads from a host this machine cannot reach (see .ci/get_pip_standin.py).
    """
    sources = glob.glob(str(cell.venv / 'lib' / 'python*' / 'site-packages' / 'ansible_test' / '_internal' / 'python_requirements.py'))
    versions: set[str] = set()
    for source in sources:
        text = Path(source).read_text(encoding='utf-8')
        match = re.search(r'def get_venv_packages\(.*?(?=\ndef )', text, re.S)
        versions.update(re.findall(r"pip='([0-9.]+)'", match.group(0) if match else ''))
    if not versions:
        raise GateError(f'cannot find the pip version that ansible-test {cell.core} bootstraps (get_venv_packages changed?)')
    cache = Path.home() / '.ansible' / 'test' / 'cache'
    cache.mkdir(parents=True, exist_ok=True)
    content = (CI_DIR / 'get_pip_standin.py').read_bytes()
    for version in sorted(versions):
        target = cache / f'get_pip_{version.replace(".", "_")}.py'
        if target.exists() and target.read_bytes() == content:
            continue
        with tempfile.NamedTemporaryFile(dir=cache, delete=False) as handle:
            handle.write(content)
        os.replace(handle.name, target)
        say(f'installed the get-pip stand-in as {target}')


def select_cells(wanted: str) -> list[Cell]:
    """The matrix cells selected by --cells (all by default)."""
    if not wanted.strip() or wanted.strip() == 'all':
        return list(MATRIX)
    names = set(wanted.replace(',', ' ').split())
    cells = [c for c in MATRIX if c.core in names or c.label in names]
    unknown = names - {c.core for c in cells} - {c.label for c in cells}
    if unknown:
        raise SystemExit(f'unknown matrix cell(s): {", ".join(sorted(unknown))}; known: {", ".join(c.core for c in MATRIX)}')
    return cells


def edge_cells(cells: list[Cell]) -> list[Cell]:
    """Oldest and newest of the given cells that have an interpreter here."""
    present = [c for c in cells if find_python(c.python)]
    return present if len(present) <= 2 else [present[0], present[-1]]


# ---------------------------------------------------------------------------------------------
# Staged copies of the collection


@functools.lru_cache(maxsize=1)
def source_files() -> tuple[str, ...]:
    """Relative paths of the working tree's files: tracked plus untracked-but-not-ignored, that exist."""
    try:
        out = subprocess.run(['git', '-C', str(REPO), 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             capture_output=True, check=True, timeout=120).stdout.decode('utf-8', 'surrogateescape')
        paths = sorted({p for p in out.split('\0') if p})
    except (OSError, subprocess.SubprocessError):
        say('git is not usable here: copying every file except the usual tool folders')
        paths = []
        skip = {'.git', '.venvs', '.venv', '.ansible', '.cache', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache'}
        for root, dirs, files in os.walk(REPO):
            rel = os.path.relpath(root, REPO)
            dirs[:] = [d for d in dirs if d not in skip and os.path.normpath(os.path.join(rel, d)) not in
                       ('tests/output', 'docs/build', 'collections')]
            paths.extend(os.path.normpath(os.path.join(rel, f)) for f in files if not f.endswith(('.pyc', '.tar.gz')))
    return tuple(p for p in paths if os.path.lexists(REPO / p) and not (REPO / p).is_dir())


def stage(key: str) -> Path:
    """Mirror the working tree into <stage>/<key>/ansible_collections/plausible/analytics and return that path.

    Only changed files are copied; files that are gone from the working tree are removed; STAGE_KEEP survives.
    """
    root = STAGE_BASE / key / 'ansible_collections' / NAMESPACE / NAME
    root.mkdir(parents=True, exist_ok=True)
    inside = subprocess.run(['git', '-C', str(root), 'rev-parse', '--is-inside-work-tree'], capture_output=True, text=True, check=False)
    if inside.returncode == 0:
        raise GateError(f'the stage {root} lies inside a git work tree (ansible-test would list files through it); '
                        'set PLAUSIBLE_CI_STAGE to a folder outside any')
    wanted = set(source_files())
    for rel in sorted(wanted):
        src, dst = REPO / rel, root / rel
        try:
            if src.is_symlink():
                if dst.is_symlink() and os.readlink(dst) == os.readlink(src):
                    continue
            else:
                s, d = src.stat(), dst.lstat()
                if not dst.is_symlink() and s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns and s.st_mode == d.st_mode:
                    continue
        except FileNotFoundError:
            pass
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        elif os.path.lexists(dst):
            dst.unlink()
        with contextlib.suppress(FileNotFoundError):  # deleted by someone since the listing
            shutil.copy2(src, dst, follow_symlinks=False)
    for here, dirs, files in os.walk(root, topdown=True):
        rel_here = os.path.relpath(here, root)
        rel_here = '' if rel_here == '.' else rel_here
        dirs[:] = [d for d in dirs if os.path.join(rel_here, d) not in STAGE_KEEP]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            if os.path.join(rel_here, name) not in wanted:
                os.unlink(os.path.join(here, name))
    for here, _dirs, _files in os.walk(root, topdown=False):
        if here != str(root) and not os.listdir(here) and os.path.relpath(here, root) not in STAGE_KEEP:
            os.rmdir(here)
    return root


def module_names(root: Path) -> list[str]:
    """The collection's modules, from plugins/modules/*.py."""
    return sorted(p.stem for p in (root / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__' and not p.stem.startswith('_'))


def collection_env(root: Path, extra_path: t.Iterable[Path] = ()) -> dict[str, str]:
    """Environment in which Ansible finds the collection at root and no other copy of it."""
    env = base_env(extra_path)
    env['ANSIBLE_COLLECTIONS_PATH'] = str(root.parent.parent.parent)
    env['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'] = 'false'
    env['ANSIBLE_HOME'] = str(VENVS / 'ansible-home')
    env['ANSIBLE_LOCAL_TEMP'] = str(VENVS / 'ansible-home' / 'tmp')
    env['ANSIBLE_LOCALHOST_WARNING'] = 'false'
    env['ANSIBLE_INVENTORY_UNPARSED_WARNING'] = 'false'
    return env


def junit_counts(files: t.Iterable[Path]) -> dict[str, int]:
    """Sum tests, failures, errors and skips over JUnit files."""
    totals = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    for file in files:
        try:
            root = ET.parse(file).getroot()
        except ET.ParseError as ex:
            raise GateError(f'unreadable JUnit report {file.name}: {ex}') from ex
        for suite in [root] if root.tag == 'testsuite' else root.findall('testsuite'):
            for key in totals:
                totals[key] += int(suite.get(key, 0) or 0)
    return totals


def pytest_detail(counts: dict[str, int]) -> tuple[int, int, str]:
    """(tests run, tests failed, 'N passed, N failed, N skipped') from JUnit counts."""
    ran = counts['tests'] - counts['skipped']
    failed = counts['failures'] + counts['errors']
    return ran, failed, f'{ran - failed} passed, {failed} failed, {counts["skipped"]} skipped'


# ---------------------------------------------------------------------------------------------
# The emulator


class Emulator:
    """tests/emulator/server.py on 127.0.0.1 with generated keys; stopped on exit from the block, whatever happens."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.workdir = workdir
        self.server = emulator_server(root)
        self.api_key = secrets.token_urlsafe(48)  # 64 characters, like a real Plausible key
        self.readonly_key = secrets.token_urlsafe(48)
        SECRETS.extend([self.api_key, self.readonly_key])
        self.url = ''
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Emulator:
        python = emulator_venv() / 'bin' / 'python'
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        out, log = self.workdir / 'emulator.out', self.workdir / 'emulator.log'
        cmd = [str(python), str(self.server), '--host', '127.0.0.1', '--port', '0',
               '--api-key', self.api_key, '--key', f'{self.readonly_key}:stats:read:*']
        if INTERRUPTED.is_set():
            raise GateError('interrupted before it finished')
        with open(out, 'wb') as stdout, open(log, 'wb') as stderr:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True,
                                         cwd=self.workdir, env=base_env())
        with RUNNING_LOCK:
            RUNNING.add(self.proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            text = out.read_text(encoding='utf-8', errors='replace')
            if '\n' in text:
                self.url = text.split('\n', 1)[0].strip().rstrip('/')
                break
            time.sleep(0.05)
        if not re.match(r'^http://(127\.0\.0\.1|localhost):\d+$', self.url):
            self.stop()
            emit(tail(log.read_text(encoding='utf-8', errors='replace'), 40))
            raise GateError(f'the emulator did not print a local base URL as its first line (got {self.url!r}; its log is above)')
        say(f'emulator up at {self.url} (pid {self.proc.pid}; output in {self.workdir})')
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Terminate the emulator and anything it started."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
                self.proc.wait(timeout=10)
            say(f'emulator stopped (pid {self.proc.pid})')
        with RUNNING_LOCK:
            RUNNING.discard(self.proc)

    def control(self, method: str, path: str) -> t.Any:
        """Call the emulator's control API; return the decoded JSON body."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.url + path, method=method, headers={'Accept': 'application/json'})
        with opener.open(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def emulator_server(root: Path) -> Path:
    """The emulator's entry point in a stage (PLAUSIBLE_EMULATOR_SERVER overrides it, for work on the plumbing only)."""
    override = os.environ.get('PLAUSIBLE_EMULATOR_SERVER')
    if override:
        say(f'NOTE: PLAUSIBLE_EMULATOR_SERVER is set: using {override} instead of tests/emulator/server.py')
        return Path(override).resolve()
    server = root / 'tests' / 'emulator' / 'server.py'
    if not server.exists():
        raise GateError('tests/emulator/server.py does not exist, so there is nothing to test against')
    return server


def write_integration_config(root: Path, emulator: Emulator) -> Path:
    """Write tests/integration/integration_config.yml in a stage (mode 0600); ansible-test gives it to every target."""
    values = {
        'plausible_test_api_url': emulator.url,
        'plausible_test_api_key': emulator.api_key,
        'plausible_test_readonly_api_key': emulator.readonly_key,
        'plausible_test_emulator_server': str(emulator.server),
        'plausible_test_emulator_python': str(emulator_venv() / 'bin' / 'python'),
    }
    path = root / 'tests' / 'integration' / 'integration_config.yml'
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write('# Written by .ci/ci.py for one integration run; see tests/integration/README.md.\n')
        for key, value in values.items():
            handle.write(f'{key}: {json.dumps(value)}\n')
    return path


# ---------------------------------------------------------------------------------------------
# The checks. Each returns a one-line detail, or raises GateError (FAIL) or SkipCheck (SKIP).


def check_requires_ansible() -> str:
    """meta/runtime.yml's requires_ansible states exactly the tested matrix."""
    expected = f'>={MATRIX[0].core}.0,<{MATRIX[-1].upper}.0'
    text = (REPO / 'meta' / 'runtime.yml').read_text(encoding='utf-8')
    match = re.search(r'^requires_ansible:\s*(.+?)\s*$', text, re.M)
    if not match:
        raise GateError('meta/runtime.yml has no requires_ansible')
    if match.group(1).strip('"\'') != expected:
        raise GateError(f"meta/runtime.yml says requires_ansible: {match.group(1)}; the tested matrix is '{expected}'")
    return f"'{expected}' matches the matrix in .ci/ci.py"


def check_sanity(cell: Cell) -> str:
    """ansible-test sanity on one cell, with no ignore files."""
    root = stage(f'sanity-{cell.core}')
    ignores = sorted(str(p.relative_to(root)) for p in (root / 'tests' / 'sanity').glob('ignore-*.txt'))
    if ignores:
        raise GateError(f'sanity ignore files are not allowed: {", ".join(ignores)}')
    venv = cell_venv(cell)
    # ansible-test keeps the sanity tests' venvs in ~/.ansible/test/venv/<test>/<Python>/, shared by every checkout on
    # this machine and created without a lock: runs of other checkouts on the same Python wait for each other.
    with machine_lock(f'sanity-{cell.python}'):
        code, output = run([str(venv / 'bin' / 'ansible-test'), 'sanity', '--venv', '--python', cell.python, '--color', 'no'],
                           cwd=root, env=base_env([venv / 'bin']))
    tests = sorted(set(re.findall(r'^Running sanity test ["\']([^"\']+)["\']', output, re.M)))
    if code != 0:
        failed = re.findall(r'^FATAL: The \d+ sanity test\(s\) listed below .*\n((?:\S+\n)+)', output, re.M)
        names = ', '.join(failed[0].split()) if failed else 'see the log'
        raise GateError(f'ansible-test sanity failed (exit code {code}): {names}')
    if not tests:
        raise GateError('ansible-test sanity ran no test')
    shellcheck = '' if shutil.which('shellcheck') else ' (shellcheck not installed: its test skipped)'
    return f'{len(tests)} sanity tests passed{shellcheck}'


def check_units(cell: Cell) -> str:
    """ansible-test units on one cell; zero tests run is a failure."""
    root = stage(f'units-{cell.core}')
    if not list((root / 'tests' / 'unit').rglob('test_*.py')):
        raise GateError('no unit tests found (tests/unit/**/test_*.py)')
    venv = cell_venv(cell)
    junit = root / 'tests' / 'output' / 'junit'
    shutil.rmtree(junit, ignore_errors=True)
    code = run([str(venv / 'bin' / 'ansible-test'), 'units', '--venv', '--python', cell.python, '--color', 'no'],
               cwd=root, env=base_env([venv / 'bin']))[0]
    ran, failed, detail = pytest_detail(junit_counts(junit.glob('*-units.xml')))
    if code != 0:
        raise GateError(f'ansible-test units failed (exit code {code}); {detail}')
    if ran == 0 or failed:
        raise GateError(f'no unit test ran; {detail}' if ran == 0 else detail)
    return detail


def check_emulator_tests() -> str:
    """The emulator's own pytest suite (plain pytest in a venv, not ansible-test)."""
    root = stage('emulator')
    suite = root / 'tests' / 'emulator'
    if not (set(suite.rglob('test_*.py')) | set(suite.rglob('*_test.py'))):
        raise SkipCheck('tests/emulator has no test files yet')
    python = emulator_venv() / 'bin' / 'python'
    report = LOGS / 'emulator-tests.junit.xml'
    with contextlib.suppress(FileNotFoundError):
        report.unlink()
    code = run([str(python), '-m', 'pytest', '-p', 'no:cacheprovider', '-q', f'--junitxml={report}', 'tests/emulator'],
               cwd=root, env=base_env())[0]
    ran, failed, detail = pytest_detail(junit_counts([report] if report.exists() else []))
    if code == 5:
        raise GateError(f'pytest collected no test in tests/emulator; {detail}')
    if code != 0:
        raise GateError(f'pytest failed (exit code {code}); {detail}')
    if ran == 0 or failed:
        raise GateError(f'no emulator test ran; {detail}' if ran == 0 else detail)
    return detail


def check_demo() -> str:
    """`make demo` as a user runs it: its own venv, the emulator, the example playbook twice (changes, then none)."""
    env = dict(base_env(), DEMO_VENV=str(REPO / '.venvs' / 'demo'))
    code = run(['bash', 'docs/examples/demo.sh'], cwd=stage('demo'), env=env)[0]
    if code != 0:
        raise GateError(f'docs/examples/demo.sh failed (exit code {code})')
    return 'the example playbook changed three sites, then ran again with changed=0'


@contextlib.contextmanager
def machine_lock(name: str) -> t.Iterator[None]:
    """A lock shared by every checkout on this machine, for what ansible-test keeps under ~/.ansible/test/."""
    path = Path.home() / '.ansible' / 'test' / f'.plausible-ci-{name}.lock'
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f'waiting for {path}: another checkout on this machine is using it')
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


SSH_KEY_LOCK = threading.Lock()


def ensure_ansible_test_ssh_key() -> None:
    """Create ansible-test's SSH key pair (~/.ansible/test/id_rsa) once, before parallel runs race to create it.

    ansible-test makes it on first use with `ssh-keygen -f`, which stops to ask before overwriting a key that a
    parallel run has just made; this does what ansible-test's SshKey.generate_key_pair does, under a lock.
    """
    with SSH_KEY_LOCK, machine_lock('ssh-key'):
        key = Path.home() / '.ansible' / 'test' / 'id_rsa'
        pub = key.with_name('id_rsa.pub')
        if key.is_file() and pub.is_file():
            return
        if not shutil.which('ssh-keygen'):
            return  # ansible-test will say what is missing
        key.parent.mkdir(parents=True, exist_ok=True)
        for path in (key, pub):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        run_ok(['ssh-keygen', '-m', 'PEM', '-q', '-t', 'rsa', '-N', '', '-f', str(key)], 'ssh-keygen for ansible-test', quiet=True)
        key.write_text(re.sub(r'(BEGIN|END) PRIVATE KEY', r'\1 RSA PRIVATE KEY', key.read_text(encoding='utf-8')), encoding='utf-8')


def integration_targets(root: Path) -> list[str]:
    """The integration targets that `ansible-test integration` runs by default, as its own rules select them."""
    names = []
    base = root / 'tests' / 'integration' / 'targets'
    for target in sorted(base.iterdir()) if base.is_dir() else []:
        if not target.is_dir() or target.name.startswith(('setup_', 'prepare_')):
            continue
        if not ((target / 'tasks').is_dir() or (target / 'runme.sh').exists() or (target / 'runme.py').exists()):
            continue
        aliases_file = target / 'aliases'
        text = aliases_file.read_text(encoding='utf-8') if aliases_file.exists() else ''
        aliases = {line.split('#', 1)[0].strip() for line in text.splitlines()} - {''}
        if any(a.split('/')[0] in ('hidden', 'disabled', 'unsupported', 'unstable') for a in aliases):
            continue
        names.append(target.name)
    return names


DURATIONS = LOGS / 'integration-durations.json'  # seconds per target, measured by earlier runs: for balancing shards
DURATIONS_LOCK = threading.Lock()


def shard_targets(targets: list[str], count: int) -> list[list[str]]:
    """Split targets into at most `count` groups of about equal expected duration (longest first, into the lightest group)."""
    try:
        known = json.loads(DURATIONS.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        known = {}
    shards: list[tuple[float, list[str]]] = [(0.0, [])] * max(1, min(count, len(targets)))
    for name in sorted(targets, key=lambda n: -float(known.get(n, 60))):
        index = min(range(len(shards)), key=lambda i: shards[i][0])
        shards[index] = (shards[index][0] + float(known.get(name, 60)), shards[index][1] + [name])
    return [sorted(names) for _total, names in shards if names]


def check_integration(cell: Cell, targets: list[str], shard: str) -> str:
    """ansible-test integration of some targets on one cell, against an emulator started for this run alone."""
    key = f'integration-{cell.core}' + (f'-{shard.split("/")[0]}' if shard else '')
    root = stage(key)
    venv = cell_venv(cell)
    ensure_ansible_test_ssh_key()
    config = root / 'tests' / 'integration' / 'integration_config.yml'
    started: list[tuple[str, float]] = []

    def on_line(line: str) -> None:
        match = re.match(r'^Running (\S+) integration test (?:role|script)$', line)
        if match:
            started.append((match.group(1), time.monotonic()))
    try:
        with Emulator(root, VENVS / 'run' / key) as emulator:
            write_integration_config(root, emulator)
            code, output = run([str(venv / 'bin' / 'ansible-test'), 'integration', '--venv', '--python', cell.python, '--color', 'no',
                                '--continue-on-error'] + targets, cwd=root, env=base_env([venv / 'bin']), on_line=on_line)
            finished = time.monotonic()
    finally:
        with contextlib.suppress(FileNotFoundError):
            config.unlink()
    ran = [name for name, _when in started]
    times = {name: round((started[i + 1][1] if i + 1 < len(started) else finished) - when, 1) for i, (name, when) in enumerate(started)}
    if code < 0 and started:
        times.pop(started[-1][0])  # cut short: not a measurement
    with DURATIONS_LOCK:
        try:
            known = json.loads(DURATIONS.read_text(encoding='utf-8'))
        except (OSError, ValueError):
            known = {}
        known.update(times)
        DURATIONS.write_text(json.dumps(known, indent=1, sort_keys=True), encoding='utf-8')
    match = re.search(r'integration test\(s\) listed below \(out of \d+\) failed\. See error output above for details:\n((?:[\w.-]+\n)+)',
                      output)
    failed = match.group(1).split() if match else []
    timing = ', '.join(f'{name} {seconds:.0f}s' for name, seconds in times.items())
    if code != 0:
        raise GateError(f'ansible-test integration failed (exit code {code}); {len(ran)} target(s) run, '
                        f'{len(failed)} failed: {", ".join(failed) or "see the log"} ({timing})')
    if not ran:
        raise GateError('ansible-test integration ran no target')
    missing = sorted(set(targets) - set(ran)) if targets and all(re.match(r'^[\w-]+$', n) for n in targets) else []
    if missing:
        raise GateError(f'planned target(s) did not run: {", ".join(missing)} (disabled or unsupported?); ran: {timing}')
    return f'{len(ran)} targets passed: {timing}'


def check_lint() -> str:
    """ansible-lint with the production profile, as .ansible-lint says."""
    root = stage('lint')
    venv = tools_venv()
    code, output = run([str(venv / 'bin' / 'ansible-lint')], cwd=root, env=base_env([venv / 'bin']))
    shutil.rmtree(root / '.ansible', ignore_errors=True)
    if code != 0:
        match = re.search(r'^Failed: .*$', output, re.M)
        raise GateError(f'ansible-lint failed (exit code {code}){": " + match.group(0) if match else ""}')
    match = re.search(r'^Passed: .*$', output, re.M)
    return match.group(0) if match else 'passed'


# ansible-core 2.20 and 2.21 warn about their own internal collection on every `ansible-doc -t role` run
# (ansible/ansible#85689, fixed upstream by ansible/ansible#86815). It says nothing about this collection,
# so this one message, and only it, does not fail a check.
KNOWN_CORE_WARNING = re.compile(r"Collection at '[^']*/ansible/_internal/ansible_collections/ansible/_protomatter' does not have a "
                                r"MANIFEST\.json file")


def ansible_doc(venv: Path, env: dict[str, str], plugin_type: str, name: str, cwd: Path) -> str:
    """Render one plugin's or role's documentation; any error or warning fails. Returns the text."""
    code, output = run([str(venv / 'bin' / 'ansible-doc'), '-t', plugin_type, name], env=env, cwd=cwd, quiet=True)
    problems = [line for line in output.splitlines()
                if re.match(r'^\s*\[(WARNING|ERROR|DEPRECATION WARNING)\]', line) and not KNOWN_CORE_WARNING.search(line)]
    if code != 0 or problems or name.upper() not in output.upper():
        emit(tail(output, 40))
        raise GateError(f'ansible-doc -t {plugin_type} {name} failed (exit code {code}){": " + problems[0] if problems else ""}')
    say(f'ansible-doc -t {plugin_type} {name}: {len(output.splitlines())} lines')
    return output


def check_doc_modules(cell: Cell) -> str:
    """ansible-doc renders every module of plugins/modules."""
    root = stage('docs')
    modules = module_names(root)
    if not modules:
        raise GateError('plugins/modules holds no module')
    venv = cell_venv(cell)
    for module in modules:
        ansible_doc(venv, collection_env(root, [venv / 'bin']), 'module', f'{FQCN}.{module}', root)
    return f'{len(modules)} modules render: {", ".join(modules)}'


def check_doc_role(cell: Cell) -> str:
    """ansible-doc renders the role's argument spec."""
    root = stage('docs')
    if not (root / 'roles' / 'onboard').exists():
        raise SkipCheck('roles/onboard does not exist yet')
    venv = cell_venv(cell)
    ansible_doc(venv, collection_env(root, [venv / 'bin']), 'role', f'{FQCN}.onboard', root)
    return 'the onboard argument spec renders'


def check_antsibull_lint() -> str:
    """antsibull-docs lint-collection-docs --plugin-docs: schema, markup and references of every plugin and role."""
    root = stage('docs')
    venv = tools_venv()
    run_ok([str(venv / 'bin' / 'antsibull-docs'), 'lint-collection-docs', '--plugin-docs', '--validate-collection-refs', 'all',
            '--disallow-unknown-collection-refs', str(root)], 'antsibull-docs lint-collection-docs', cwd=root,
           env=collection_env(root, [venv / 'bin']))
    return 'lint-collection-docs --plugin-docs: clean'


def check_changelog() -> str:
    """antsibull-changelog lint of the fragments and of changelogs/changelog.yaml."""
    root = stage('changelog')
    config = root / 'changelogs' / 'config.yaml'
    if not config.exists() or not (root / 'changelogs' / 'changelog.yaml').exists():
        raise GateError('changelogs/config.yaml or changelogs/changelog.yaml is missing')
    if not re.search(r'^keep_fragments:\s*false\s*$', config.read_text(encoding='utf-8'), re.M):
        raise GateError('changelogs/config.yaml must say keep_fragments: false')
    venv = tools_venv()
    tool = str(venv / 'bin' / 'antsibull-changelog')
    env = base_env([venv / 'bin'])
    run_ok([tool, 'lint'], 'antsibull-changelog lint', cwd=root, env=env)
    run_ok([tool, 'lint-changelog-yaml', 'changelogs/changelog.yaml'], 'antsibull-changelog lint-changelog-yaml', cwd=root, env=env)
    fragments = [p for p in (root / 'changelogs' / 'fragments').glob('*') if p.is_file() and p.name != '.keep']
    return f'{len(fragments)} fragment(s) and changelog.yaml: clean'


# What the built tarball must never contain: (what, regular expression on the member path).
FORBIDDEN_IN_TARBALL = (
    ('virtual environment', r'(^|/)\.venvs?(/|$)'),
    ('ansible-test output', r'^tests/output(/|$)'),
    ('ansible-test inventory or generated config', r'^tests/integration/(inventory|integration_config\.yml)$'),
    ('Ansible or ansible-lint cache', r'(^|/)\.ansible(/|$)|(^|/)\.cache(/|$)|^collections(/|$)'),
    ('linter or test cache', r'(^|/)(\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox)(/|$)|^changelogs/\.plugin-cache\.yaml$'),
    ('git metadata', r'(^|/)\.git(/|$)'),
    ('CI files', r'^\.ci(/|$)|^\.github(/|$)'),
    ('byte code', r'(^|/)__pycache__(/|$)|\.py[co]$'),
    ('tarball', r'\.tar\.gz$'),
    ('generated docs', r'^docs/build(/|$)'),
)


def tarball_problems(members: t.Iterable[str]) -> list[str]:
    """Every member of a collection tarball that must not be there, with the reason."""
    problems = []
    for member in members:
        path = member[2:] if member.startswith('./') else member
        for what, pattern in FORBIDDEN_IN_TARBALL:
            if re.search(pattern, path):
                problems.append(f'{path} ({what})')
                break
    return problems


def self_test_tarball_check() -> None:
    """Prove that the content check fails on each kind of unwanted file (a check that cannot fail proves nothing)."""
    bad = ['.venvs/tools/bin/python', 'tests/output/junit/x.xml', '.ansible/collections/x', '.git/config', '.ci/run',
           '.github/workflows/ci.yml', 'plugins/modules/__pycache__/x.cpython-311.pyc', 'plausible-analytics-0.1.0.tar.gz',
           'tests/integration/integration_config.yml', 'changelogs/.plugin-cache.yaml', 'tests/emulator/.pytest_cache/v/x',
           'docs/build/html/index.html', 'roles/onboard/.ansible/x']
    good = ['plugins/modules/plausible_site.py', 'meta/runtime.yml', 'tests/unit/plugins/modules/test_x.py', 'docs/guide.md',
            'tests/integration/targets/emulator_smoke/tasks/main.yml', 'changelogs/changelog.yaml', 'roles/onboard/README.md']
    flagged, wrong = tarball_problems(bad), tarball_problems(good)
    if len(flagged) != len(bad) or wrong:
        raise GateError(f'the tarball content check itself is broken: it flagged {flagged} and {wrong}')


def build_tarball(cell: Cell, out_dir: Path) -> tuple[Path, list[str]]:
    """ansible-galaxy collection build from the working tree itself (as a release would be); returns (tarball, members)."""
    venv = cell_venv(cell)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    env = base_env([venv / 'bin'])
    env['ANSIBLE_HOME'] = str(VENVS / 'ansible-home')
    run_ok([str(venv / 'bin' / 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out_dir), str(REPO)],
           'ansible-galaxy collection build', env=env, cwd=out_dir)
    tarballs = sorted(out_dir.glob(f'{NAMESPACE}-{NAME}-*.tar.gz'))
    if len(tarballs) != 1:
        raise GateError(f'expected one tarball in {out_dir}, found {len(tarballs)}')
    with tarfile.open(tarballs[0]) as tar:
        members = [m.name for m in tar.getmembers()]
    return tarballs[0], members


def check_build(cell: Cell) -> str:
    """Build the tarball, check its file list, install it into a fresh path and run a module from there."""
    self_test_tarball_check()
    tarball, members = build_tarball(cell, VENVS / 'build')
    problems = tarball_problems(members)
    if problems:
        raise GateError(f'the tarball holds {len(problems)} unwanted file(s): ' + '; '.join(problems[:20]))
    names = {m[2:] if m.startswith('./') else m for m in members}
    required = ['MANIFEST.json', 'FILES.json', 'meta/runtime.yml', 'README.md', 'LICENSE']
    required += [f'plugins/modules/{m}.py' for m in module_names(REPO)]
    missing = [p for p in required if p not in names]
    if missing:
        raise GateError(f'the tarball lacks {", ".join(missing)}')
    say(f'{tarball.name}: {len(members)} members, nothing unwanted (checked against {len(FORBIDDEN_IN_TARBALL)} rules)')

    venv = cell_venv(cell)
    root = VENVS / 'run' / 'installed'
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    installed = root / 'ansible_collections' / NAMESPACE / NAME
    env = collection_env(installed, [venv / 'bin'])
    run_ok([str(venv / 'bin' / 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', str(root), str(tarball)],
           'ansible-galaxy collection install', env=env, cwd=root)
    if not (installed / 'MANIFEST.json').exists():
        raise GateError(f'the install left no {installed}/MANIFEST.json')
    modules = module_names(installed)
    if not modules:
        raise GateError('the installed collection holds no module')
    doc = ansible_doc(venv, env, 'module', f'{FQCN}.{modules[0]}', root)
    if str(installed) not in doc:
        raise GateError(f'ansible-doc did not find {FQCN}.{modules[0]} in {installed}')
    if 'plausible_site' not in modules:
        return f'{tarball.name}: {len(members)} members, clean; installed; ansible-doc reads it (no plausible_site to run yet)'

    domain = 'build-check.example.com'
    with Emulator(stage('build'), VENVS / 'run' / 'build') as emulator:
        env['PLAUSIBLE_API_URL'] = emulator.url
        env['PLAUSIBLE_API_KEY'] = emulator.api_key
        code, output = run([str(venv / 'bin' / 'ansible'), 'localhost', '-m', f'{FQCN}.plausible_site', '-a', f'domain={domain}'],
                           env=env, cwd=root)
        if code != 0:
            raise GateError(f'running {FQCN}.plausible_site from the installed copy failed (exit code {code})')
        state = emulator.control('GET', '/_emulator/state')
    if domain not in [site.get('domain') for site in state.get('sites', [])]:
        raise GateError(f'the module said it succeeded, but the emulator holds no site {domain}')
    if not re.search(r'^localhost \| CHANGED', output, re.M):
        raise GateError('the first run of plausible_site against an empty emulator did not report a change')
    return f'{tarball.name}: {len(members)} members, clean; installed copy created {domain} on the emulator'


def check_importer(cell: Cell) -> str:
    """galaxy-importer on a freshly built tarball, its Docker-based ansible-test step off; any warning or error fails."""
    tarball = build_tarball(cell, VENVS / 'build-importer')[0]
    venv = importer_venv()
    workdir = VENVS / 'run' / 'importer'
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / 'tmp').mkdir(parents=True)
    env = base_env([venv / 'bin'])
    env['GALAXY_IMPORTER_CONFIG'] = str(CI_DIR / 'galaxy-importer.cfg')
    env['ANSIBLE_HOME'] = str(workdir / 'ansible-home')
    env['GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP'] = str(workdir / 'tmp')
    env['GALAXY_IMPORTER_TMP_ROOT_DIR'] = str(workdir / 'tmp')
    code, output = run([str(venv / 'bin' / 'python'), '-m', 'galaxy_importer.main', str(tarball)], env=env, cwd=workdir)
    problems = [line.strip() for line in output.splitlines() if re.search(r'\b(WARNING|ERROR|CRITICAL|Traceback)\b', line)]
    if code != 0:
        raise GateError(f'galaxy-importer failed (exit code {code}){": " + problems[-1] if problems else ""}')
    if problems:
        raise GateError(f'galaxy-importer reported {len(problems)} warning(s) or error(s), the first: {problems[0]}')
    if not re.search(r'^Importer processing completed successfully$', output, re.M):
        raise GateError('galaxy-importer did not say that it completed')
    return 'imported without a warning or error'


def check_docs_build() -> str:
    """Render the plugin reference into docs/build/: RST by antsibull-docs, HTML by Sphinx (offline, see docs/sphinx/conf.py)."""
    root = stage('docs')
    venv = docs_venv()
    dest = REPO / 'docs' / 'build'
    rst = dest / 'rst'
    shutil.rmtree(dest, ignore_errors=True)
    rst.mkdir(parents=True)
    rst.chmod(0o755)  # antsibull-docs wants its destination writable by its owner only
    env = collection_env(root, [venv / 'bin'])
    run_ok([str(venv / 'bin' / 'antsibull-docs'), 'collection', '--use-current', '--fail-on-error', '--dest-dir', str(rst), FQCN],
           'antsibull-docs collection', env=env, cwd=root)
    shutil.copy(REPO / 'docs' / 'sphinx' / 'index.rst', rst / 'index.rst')
    run_ok([str(venv / 'bin' / 'sphinx-build'), '-M', 'html', str(rst), str(dest), '-c', str(REPO / 'docs' / 'sphinx'), '-q',
            '--keep-going'], 'sphinx-build', env=env, cwd=dest)
    shutil.rmtree(dest / 'doctrees', ignore_errors=True)
    pages = sorted((dest / 'html' / 'collections').rglob('*.html'))
    if not pages:
        raise GateError('Sphinx wrote no page')
    return f'{len(pages)} pages: docs/build/html/index.html (RST sources in docs/build/rst/)'


def check_fragment(base: str) -> str:
    """A change to what users get (plugins/, roles/, meta/runtime.yml) since `base` comes with a new changelog fragment."""
    if not base:
        raise GateError('say what to compare with, e.g. make fragment-check BASE=origin/main')

    def git(*args: str) -> list[str]:
        out = run_ok(['git', '-C', str(REPO)] + list(args), 'git ' + ' '.join(args), quiet=True)
        return [line for line in out.splitlines() if line]
    merge_base = git('merge-base', base, 'HEAD')[0]
    # The working tree against the merge base, plus untracked files: covers a PR's commits and local work alike.
    changes = [line.split('\t') for line in git('diff', '--name-status', '--no-renames', merge_base)]
    changes += [['A', path] for path in git('ls-files', '--others', '--exclude-standard')]
    visible = sorted({c[-1] for c in changes if re.match(r'^(plugins|roles)/|^meta/runtime\.yml$', c[-1])})
    fragments = sorted({c[-1] for c in changes if c[0] == 'A' and re.match(r'^changelogs/fragments/[^/]+\.ya?ml$', c[-1])})
    if visible and not fragments:
        raise GateError(f'{len(visible)} user-visible file(s) changed since {base} ({", ".join(visible[:5])}) but no changelog '
                        'fragment was added under changelogs/fragments/ (see CONTRIBUTING.md)')
    return f'{len(visible)} user-visible file(s) changed, {len(fragments)} fragment(s) added: {", ".join(fragments) or "none needed"}'


# ---------------------------------------------------------------------------------------------
# Jobs


@dataclasses.dataclass
class Job:
    """One check to run: a gate on a cell ('-' for none)."""

    gate: str
    cell: str
    func: t.Callable[[], str]
    weight: int  # rough seconds, so the longest jobs start first
    order: int = 0
    skip: str = ''  # set when the job cannot run here (recorded as SKIP without running)


def plan(command: str, cells: list[Cell], targets: list[str], explicit_cells: bool, base: str = '', workers: int = 1) -> list[Job]:
    """The jobs of a command, in summary order."""
    edge = [c for c in cells if find_python(c.python)] if explicit_cells else edge_cells(cells)
    newest = [c for c in cells if find_python(c.python)][-1:]
    jobs: list[Job] = []

    def per_cell(gate: str, chosen: list[Cell], func: t.Callable[[Cell], str], weight: int) -> None:
        for cell in cells:
            if cell not in chosen and find_python(cell.python):
                continue  # runs elsewhere in the matrix (units and integration: oldest and newest cells)
            job = Job(gate, cell.label, functools.partial(func, cell), weight)
            if not find_python(cell.python):
                job.skip = f'no Python {cell.python} interpreter here (looked on PATH and in pyenv)'
            jobs.append(job)

    if command in ('test', 'sanity'):
        jobs.append(Job('requires_ansible', '-', check_requires_ansible, 0))
        per_cell('sanity', cells, check_sanity, 60)
    if command in ('test', 'units'):
        per_cell('units', edge, check_units, 20)
    if command in ('test', 'emulator-tests'):
        jobs.append(Job('emulator-tests', '-', check_emulator_tests, 10))
    if command in ('test', 'demo'):
        jobs.append(Job('demo', '-', check_demo, 30))
    if command in ('test', 'integration'):
        if targets:
            per_cell('integration', edge, lambda cell: check_integration(cell, targets, ''), 150)
        else:
            shards = shard_targets(integration_targets(REPO), max(1, workers // max(1, len(edge))))
            for number, names in enumerate(shards, 1):
                label = f'{number}/{len(shards)}' if len(shards) > 1 else ''
                gate = f'integration {label}'.strip()
                per_cell(gate, edge, functools.partial(check_integration, targets=names, shard=label), 150)
    if command in ('test', 'lint'):
        jobs.append(Job('ansible-lint', '-', check_lint, 25))
    if command in ('test', 'docs-lint'):
        per_cell('ansible-doc modules', cells, check_doc_modules, 5)
        per_cell('ansible-doc role', cells, check_doc_role, 2)
        jobs.append(Job('antsibull-docs lint', '-', check_antsibull_lint, 20))
    if command in ('test', 'changelog'):
        jobs.append(Job('changelog lint', '-', check_changelog, 3))
    if command in ('test', 'build'):
        per_cell('build+install+run', newest or cells[-1:], check_build, 15)
        per_cell('galaxy-importer', newest or cells[-1:], check_importer, 30)
    if command == 'docs':
        jobs.append(Job('docs', '-', check_docs_build, 30))
    if command == 'fragment-check':
        jobs.append(Job('changelog fragment', '-', lambda: check_fragment(base), 1))
    for index, job in enumerate(jobs):
        job.order = index
    return jobs


def slug(job: Job) -> str:
    """File-name form of a job's name."""
    return re.sub(r'[^A-Za-z0-9.]+', '-', f'{job.gate}-{job.cell}' if job.cell != '-' else job.gate).strip('-')


def run_job(job: Job, live: bool) -> Result | None:
    """Run one job with its output in its log; record and print its result."""
    if INTERRUPTED.is_set():
        return None
    if job.skip:
        result = Result(job.gate, job.cell, 'SKIP', job.skip, 0.0, job.order)
        with PRINT_LOCK:
            RESULTS.append(result)
            print(f'[ci] SKIP: {job.gate} [{job.cell}]: {job.skip}', flush=True)
        return result
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f'{slug(job)}.log'
    where = f' [{job.cell}]' if job.cell != '-' else ''
    start = time.monotonic()
    with open(log, 'w', encoding='utf-8') as handle:
        LOCAL.sink = Sink(handle, live)
        try:
            if live:
                say(f'===== {job.gate}{where} =====')
            else:
                with PRINT_LOCK:
                    print(f'[ci] started: {job.gate}{where} (log: {log.relative_to(REPO)})', flush=True)
            status, detail = 'PASS', job.func()
        except SkipCheck as ex:
            status, detail = 'SKIP', str(ex)
        except GateError as ex:
            status, detail = 'FAIL', str(ex)
        except Exception as ex:  # pylint: disable=broad-exception-caught  # a bug in this driver must fail the check, loudly
            emit(traceback.format_exc())
            status, detail = 'FAIL', f'the CI driver itself failed: {type(ex).__name__}: {ex}'
        finally:
            LOCAL.sink = None
    if INTERRUPTED.is_set() and status != 'PASS':
        status, detail = 'FAIL', 'interrupted before it finished'
    result = Result(job.gate, job.cell, status, redact(detail), time.monotonic() - start, job.order)
    with PRINT_LOCK:
        RESULTS.append(result)
        if not live and status == 'FAIL' and not INTERRUPTED.is_set():
            lines = log.read_text(encoding='utf-8', errors='replace').splitlines(keepends=True)
            cut = len(lines) - 400
            print(f'\n[ci] ----- log of {job.gate}{where} ({log.relative_to(REPO)}'
                  f'{f"; its first {cut} lines left out" if cut > 0 else ""}) -----', flush=True)
            sys.stdout.write(redact(''.join(lines[max(cut, 0):])))
            print(f'[ci] ----- end of the log of {job.gate}{where} -----', flush=True)
        print(f'[ci] {status}: {job.gate}{where} ({result.seconds:.0f} s){": " + result.detail if result.detail else ""}', flush=True)
    return result


def execute(jobs: list[Job], workers: int) -> None:
    """Run the jobs, `workers` at a time, the heaviest first; on interrupt, kill everything started."""
    if workers <= 1:
        for job in jobs:
            run_job(job, live=True)
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(run_job, job, False) for job in sorted(jobs, key=lambda j: -j.weight)]
        for future in futures:
            future.result()
    except BaseException:
        INTERRUPTED.set()  # from here on no job starts and no process is started
        pool.shutdown(wait=False, cancel_futures=True)
        kill_all()
        raise
    finally:
        pool.shutdown(wait=True)


def summary(started: float) -> int:
    """Print the table of results and the closing line; return the exit code."""
    results = sorted(RESULTS, key=lambda r: r.order)
    print('\n[ci] ===== summary =====', flush=True)
    gate_w = max([len(r.gate) for r in results] + [4])
    cell_w = max([len(r.cell) for r in results] + [4])
    for r in results:
        print(redact(f'{r.gate:<{gate_w}}  {r.cell:<{cell_w}}  {r.status:<4}  {r.seconds:5.0f}s  {r.detail}'))
    passed = sum(r.status == 'PASS' for r in results)
    failed = sum(r.status == 'FAIL' for r in results)
    skipped = sum(r.status == 'SKIP' for r in results)
    cells_run = sorted({r.cell for r in results if r.cell != '-' and r.status != 'SKIP'})
    cells_skipped = sorted({r.cell for r in results if r.cell != '-'} - set(cells_run))
    print(f'matrix cells run: {", ".join(cells_run) or "none"}; cells skipped: {", ".join(cells_skipped) or "none"}')
    print(f'wall time: {time.monotonic() - started:.0f} s; logs in {LOGS.relative_to(REPO)}/')
    if passed == 0:
        print('nothing passed, so nothing was shown to work: counting that as a failure')
        failed = max(failed, 1)
    print(f'checks: {passed} passed, {failed} failed, {skipped} skipped', flush=True)
    return 1 if failed else 0


@contextlib.contextmanager
def lock() -> t.Iterator[None]:
    """One run at a time per working tree: runs share .venvs and the stages."""
    VENVS.mkdir(exist_ok=True)
    with open(VENVS / '.lock', 'w', encoding='utf-8') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print('[ci] another run of .ci/ci.py in this working tree holds .venvs/.lock; waiting for it', flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


COMMANDS = ('test', 'sanity', 'units', 'emulator-tests', 'demo', 'integration', 'lint', 'docs-lint', 'changelog', 'build', 'docs',
            'fragment-check', 'venvs', 'matrix', 'stage')


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('command', choices=COMMANDS)
    parser.add_argument('--cells', default=os.environ.get('CELLS', ''),
                        help='matrix cells by ansible-core series, e.g. "2.19 2.21" (env CELLS). Default: every cell for sanity and '
                             'docs, the oldest and newest for units and integration, the newest for build')
    parser.add_argument('--targets', default=os.environ.get('TARGETS', ''), help='integration targets (env TARGETS; default: all)')
    parser.add_argument('--base', default=os.environ.get('BASE', ''), help='fragment-check: the git revision to compare with (env BASE)')
    parser.add_argument('--jobs', type=int, default=int(os.environ.get('JOBS') or min(2 * (os.cpu_count() or 1), 8)),
                        help='checks run at the same time (env JOBS; default: twice the CPUs, at most 8; 1 streams output live)')
    args = parser.parse_args()

    def _terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    cells = select_cells(args.cells)
    if args.command == 'matrix':
        for cell in MATRIX:
            print(f'{cell.label}: {cell.requirement} on {find_python(cell.python) or "MISSING: this cell is skipped"}')
        return 0

    started = time.monotonic()
    become_subreaper()
    with lock():
        link_pythons()
        print(f'[ci] matrix: {", ".join(c.label + ("" if find_python(c.python) else " (SKIPPED: no interpreter)") for c in cells)}; '
              f'{args.jobs} job(s) at a time; stages under {STAGE_BASE}', flush=True)
        for cell in cells:
            if not find_python(cell.python):
                print(f'[ci] SKIP: matrix cell {cell.label}: no Python {cell.python} here (looked on PATH and in pyenv)', flush=True)
        if args.command in ('test', 'sanity', 'units', 'integration'):
            ensure_ansible_test_ssh_key()
        if args.command == 'stage':
            print(stage('manual'))
            return 0
        if args.command == 'venvs':
            jobs = [Job('venv', c.label, functools.partial(lambda c: str(cell_venv(c)), c), 60) for c in cells if find_python(c.python)]
            jobs += [Job('venv', name, lambda f=f: str(f()), 30) for name, f in
                     (('tools', tools_venv), ('importer', importer_venv), ('emulator', emulator_venv))]
        else:
            jobs = plan(args.command, cells, args.targets.split(), bool(args.cells.strip()), args.base, args.jobs)
        try:
            execute(jobs, args.jobs)
            leftovers = descendants()
            if leftovers:
                print(f'[ci] WARNING: {len(leftovers)} process(es) still ran after every check had ended (a test left them behind); '
                      'stopping them:', flush=True)
                for pid, cmdline in leftovers:
                    print(redact(f'[ci]   {pid} {cmdline[:200]}'), flush=True)
                kill_all()
        except (KeyboardInterrupt, SystemExit) as ex:
            kill_all()
            print('\n[ci] interrupted: every process this run started has been stopped', flush=True)
            summary(started)
            return ex.code if isinstance(ex, SystemExit) and isinstance(ex.code, int) else 130
        return summary(started)


if __name__ == '__main__':
    sys.exit(main())
