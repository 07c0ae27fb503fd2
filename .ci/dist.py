"""The release files of preflight: archives, checksums, and the checks CI runs on them.

    dist.py archive TARGET DIST   pack target/TARGET/release/preflight[.exe], README.md and LICENSE
    dist.py checksums DIST        write DIST/SHA256SUMS over every other file in DIST
    dist.py crate                 check the files `cargo package` put in target/package/*.crate
    dist.py check DIST TARGET...  check that DIST holds exactly these targets' files, sound

Runs in the venv that .ci/setup-dist makes (packaging, trove-classifiers, auditwheel, jsonschema,
pipx, uv). Exits 1 when a check fails, 2 on bad arguments.
"""

from __future__ import annotations

import base64
import csv
import email
import gzip
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pefile
import trove_classifiers
from macholib.MachO import MachO
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
WHEEL_NAME = "tf-preflight"
BINARY = "preflight"
# Each process the checks start gets this long; generous for a loaded 2-core machine.
PROCESS_DEADLINE_S = 300
# Fixed file times make archives reproducible (1980: the earliest date a zip can hold).
ARCHIVE_MTIME = 315532800


@dataclass(frozen=True)
class Platform:
    os: str  # "linux", "macos" or "windows"
    arch: str  # "x86_64" or "aarch64"

    @property
    def binary(self) -> str:
        return BINARY + ".exe" if self.os == "windows" else BINARY

    def __str__(self) -> str:
        return f"{self.os} {self.arch}"


TARGETS = {
    "x86_64-unknown-linux-gnu": Platform("linux", "x86_64"),
    "aarch64-unknown-linux-gnu": Platform("linux", "aarch64"),
    "x86_64-apple-darwin": Platform("macos", "x86_64"),
    "aarch64-apple-darwin": Platform("macos", "aarch64"),
    "x86_64-pc-windows-gnu": Platform("windows", "x86_64"),
    "x86_64-pc-windows-msvc": Platform("windows", "x86_64"),
}


class CheckFailed(Exception):
    pass


def cargo_package() -> dict:
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]


def cargo_target_dir() -> Path:
    """Where cargo builds (target/ unless CARGO_TARGET_DIR or a config says otherwise)."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PROCESS_DEADLINE_S,
        check=True,
    ).stdout
    return Path(json.loads(out)["target_directory"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def platform_of_wheel_tag(tag: str) -> Platform:
    """The OS and CPU a wheel platform tag names, e.g. `manylinux_2_17_aarch64`, `win_amd64`."""
    if m := re.fullmatch(r"manylinux(?:_\d+_\d+|2014)_(x86_64|aarch64)", tag):
        return Platform("linux", m[1])
    if m := re.fullmatch(r"macosx_\d+_\d+_(x86_64|arm64)", tag):
        return Platform("macos", "aarch64" if m[1] == "arm64" else "x86_64")
    if tag == "win_amd64":
        return Platform("windows", "x86_64")
    raise CheckFailed(f"platform tag {tag!r} names no platform preflight is built for")


def platform_of_binary(data: bytes) -> Platform:
    """The OS and CPU an executable was built for, from the header fields that say so."""
    if data[:4] == b"\x7fELF":
        # e_machine, little-endian (EI_DATA = 1 on both CPUs)
        machine = int.from_bytes(data[18:20], "little")
        arch = {62: "x86_64", 183: "aarch64"}.get(machine)
        if data[5] == 1 and arch:
            return Platform("linux", arch)
        raise CheckFailed(f"ELF binary for machine {machine}, not x86-64 or aarch64")
    if data[:2] == b"MZ":
        pe = int.from_bytes(data[0x3C:0x40], "little")
        if data[pe : pe + 4] != b"PE\0\0":
            raise CheckFailed("MZ header without a PE signature")
        machine = int.from_bytes(data[pe + 4 : pe + 6], "little")
        if machine == 0x8664:
            return Platform("windows", "x86_64")
        raise CheckFailed(f"PE binary for machine {machine:#x}, not x86-64")
    if data[:4] == b"\xcf\xfa\xed\xfe":  # 64-bit Mach-O, little-endian
        cputype = int.from_bytes(data[4:8], "little")
        arch = {0x01000007: "x86_64", 0x0100000C: "aarch64"}.get(cputype)
        if arch:
            return Platform("macos", arch)
        raise CheckFailed(f"Mach-O binary for CPU type {cputype:#x}")
    raise CheckFailed(f"not an executable this project builds (starts {data[:4]!r})")


# Runtimes a Windows machine need not have: MinGW's (libgcc_s_seh-1.dll, libwinpthread-1.dll,
# libstdc++-6.dll) and Visual C++'s (vcruntime140.dll, msvcp140.dll).
NOT_PART_OF_WINDOWS = re.compile(r"(lib.*|vcruntime.*|msvcp.*)\.dll", re.IGNORECASE)
# Where macOS keeps its own libraries; anything else (e.g. Homebrew's) is not on every Mac.
PART_OF_MACOS = ("/usr/lib/", "/System/Library/")


def libraries_not_in_the_os(plat: Platform, binary: bytes) -> list[str]:
    """Shared libraries the binary loads that a plain Windows or macOS install lacks
    (Linux binaries are judged by auditwheel instead)."""
    if plat.os == "windows":
        pe = pefile.PE(data=binary, fast_load=True)
        pe.parse_data_directories(
            directories=[
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"],
            ]
        )
        entries = [
            *getattr(pe, "DIRECTORY_ENTRY_IMPORT", []),
            *getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []),
        ]
        if not entries:
            raise CheckFailed("the binary imports no DLL at all: not a binary this build makes")
        names = {e.dll.decode("ascii", "replace") for e in entries}
        return sorted(n for n in names if NOT_PART_OF_WINDOWS.fullmatch(n))
    if plat.os == "macos":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / BINARY
            path.write_bytes(binary)
            loads = {p for h in MachO(str(path)).headers for _i, _n, p in h.walkRelocatables()}
        if not loads:
            raise CheckFailed("the binary loads no library at all: not a binary this build makes")
        return sorted(p for p in loads if not p.startswith(PART_OF_MACOS))
    return []


def host_platform() -> Platform | None:
    os_name = {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(platform.system())
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        platform.machine().lower()
    )
    return Platform(os_name, arch) if os_name and arch else None


def archive_name(version: str, target: str) -> str:
    suffix = ".zip" if TARGETS[target].os == "windows" else ".tar.gz"
    return f"{BINARY}-{version}-{target}{suffix}"


# ---------------------------------------------------------------- archive and checksums


def make_archive(target: str, dist: Path) -> Path:
    if target not in TARGETS:
        raise SystemExit(f"error: unknown target {target!r}; known: {', '.join(TARGETS)}")
    plat = TARGETS[target]
    version = cargo_package()["version"]
    binary = cargo_target_dir() / target / "release" / plat.binary
    if not binary.is_file():
        raise SystemExit(f"error: {binary} is missing: build {target} first (.ci/build-dist)")
    top = f"{BINARY}-{version}-{target}"
    members = [
        (plat.binary, binary.read_bytes(), 0o755),
        ("README.md", (ROOT / "README.md").read_bytes(), 0o644),
        ("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
    ]
    out = dist / archive_name(version, target)
    if plat.os == "windows":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data, mode in members:
                info = zipfile.ZipInfo(f"{top}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
    else:
        with (
            open(out, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for name, data, mode in members:
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size, info.mode, info.mtime = len(data), mode, ARCHIVE_MTIME
                tar.addfile(info, io.BytesIO(data))
    return out


def write_checksums(dist: Path) -> Path:
    lines = [
        f"{sha256(p.read_bytes())}  {p.name}\n"
        for p in sorted(dist.iterdir())
        if p.is_file() and p.name != "SHA256SUMS"
    ]
    if not lines:
        raise SystemExit(f"error: {dist} holds no files to sum")
    out = dist / "SHA256SUMS"
    out.write_text("".join(lines), encoding="utf-8", newline="\n")
    return out


# ---------------------------------------------------------------- checks


def check_crate() -> str:
    """What crates.io would get: the sources and built-in profiles, never the tests or CI."""
    version = cargo_package()["version"]
    path = cargo_target_dir() / "package" / f"{cargo_package()['name']}-{version}.crate"
    if not path.is_file():
        raise CheckFailed(f"{path} is missing: run `cargo package` first")
    with tarfile.open(path, "r:gz") as tar:
        prefix = f"{cargo_package()['name']}-{version}/"
        names = {m.name.removeprefix(prefix) for m in tar.getmembers() if m.isfile()}
    kept_out = ("tests/", "benches/", ".ci/", ".github/", "target/")
    if shipped := sorted(n for n in names if n.startswith(kept_out)):
        raise CheckFailed(f"the crate ships {shipped}")
    needed = {"Cargo.toml", "Cargo.lock", "README.md", "LICENSE", "src/main.rs", "src/lib.rs"}
    needed |= {f"checks/{p.name}" for p in (ROOT / "checks").glob("*.toml")}
    if missing := sorted(needed - names):
        raise CheckFailed(f"the crate lacks {missing}")
    return f"{path.name}: {len(names)} files, {path.stat().st_size / 2**10:.0f} KiB"


@dataclass
class Wheel:
    path: Path
    platform: Platform
    binary: bytes


def read_wheel(path: Path, version: str) -> Wheel:
    """Checks one wheel's name, tags, contents, RECORD and metadata; returns its binary."""
    name, wheel_version, _build, tags = parse_wheel_filename(path.name)
    if name != canonicalize_name(WHEEL_NAME) or str(wheel_version) != version:
        raise CheckFailed(f"named {name} {wheel_version}, expected {WHEEL_NAME} {version}")
    if {(t.interpreter, t.abi) for t in tags} != {("py3", "none")}:
        raise CheckFailed(f"tags {sorted(map(str, tags))}: expected py3-none (no Python code)")
    platforms = {platform_of_wheel_tag(t.platform) for t in tags}
    if len(platforms) != 1:
        raise CheckFailed(f"tags name several platforms: {sorted(map(str, platforms))}")
    plat = platforms.pop()
    if plat.os == "linux" and f"manylinux_2_17_{plat.arch}" not in {t.platform for t in tags}:
        raise CheckFailed("a Linux wheel must be tagged manylinux_2_17 (glibc 2.17)")

    stem = f"tf_preflight-{version}"
    info_dir, script = f"{stem}.dist-info", f"{stem}.data/scripts/{plat.binary}"
    with zipfile.ZipFile(path) as z:
        entries = {i.filename: i for i in z.infolist()}
        files = {n: z.read(n) for n in entries}
    required = {script, f"{info_dir}/METADATA", f"{info_dir}/WHEEL", f"{info_dir}/RECORD"}
    required.add(f"{info_dir}/licenses/LICENSE")
    if missing := required - files.keys():
        raise CheckFailed(f"missing {sorted(missing)}")
    # Only the binary and its metadata (maturin adds a software bill of materials).
    extra = {n for n in files if n not in required and not n.startswith(f"{info_dir}/sboms/")}
    if extra:
        raise CheckFailed(f"unexpected files {sorted(extra)}")
    if plat.os != "windows" and not (entries[script].external_attr >> 16) & 0o111:
        raise CheckFailed(f"{script} is not executable")

    # RECORD lists every other file with its hash and size (pip checks the same on install).
    recorded = set()
    for row in csv.reader(io.StringIO(files[f"{info_dir}/RECORD"].decode())):
        if not row:
            continue
        file, digest, size = row
        recorded.add(file)
        if file == f"{info_dir}/RECORD":
            continue
        algo, _, value = digest.partition("=")
        actual = base64.urlsafe_b64encode(hashlib.new(algo, files[file]).digest()).rstrip(b"=")
        if actual.decode() != value or int(size) != len(files[file]):
            raise CheckFailed(f"RECORD does not match {file}")
    if recorded != files.keys():
        raise CheckFailed(f"RECORD lists {sorted(recorded ^ files.keys())} wrongly")

    wheel_info = email.message_from_bytes(files[f"{info_dir}/WHEEL"])
    if wheel_info["Root-Is-Purelib"] != "false":
        raise CheckFailed("WHEEL says Root-Is-Purelib is not false for a platform wheel")
    if set(wheel_info.get_all("Tag")) != {str(t) for t in tags}:
        raise CheckFailed(f"WHEEL tags {wheel_info.get_all('Tag')} differ from the file name's")

    check_metadata(files[f"{info_dir}/METADATA"], version)
    if files[f"{info_dir}/licenses/LICENSE"] != (ROOT / "LICENSE").read_bytes():
        raise CheckFailed("the wheel's LICENSE differs from the repository's")

    binary = files[script]
    if (built_for := platform_of_binary(binary)) != plat:
        raise CheckFailed(f"tagged {plat} but the binary is for {built_for}")
    if foreign := libraries_not_in_the_os(plat, binary):
        raise CheckFailed(f"the binary needs libraries the OS does not ship: {foreign}")
    return Wheel(path, plat, binary)


def check_metadata(raw: bytes, version: str) -> None:
    try:
        meta = Metadata.from_email(raw, validate=True)
    except Exception as e:  # packaging raises an ExceptionGroup listing every invalid field
        raise CheckFailed(f"METADATA is not valid core metadata: {e!r}") from e
    cargo = cargo_package()
    expected = {
        "name": WHEEL_NAME,
        "version": version,
        "summary": cargo["description"],
        "license_expression": cargo["license"],
        "requires_python": None,  # any Python 3: the wheel holds no Python code
        # The README; the METADATA body may end in one more newline.
        "description": (ROOT / "README.md").read_text(encoding="utf-8").rstrip("\n"),
        "description_content_type": "text/markdown",
    }
    for field, want in expected.items():
        got = getattr(meta, field)
        got = str(got) if field in ("name", "version", "license_expression") and got else got
        got = got.rstrip("\n") if field == "description" and got else got
        if got != want:
            shown = "the README" if field == "description" else repr(want)
            raise CheckFailed(f"METADATA {field} is {str(got)[:80]!r}, expected {shown}")
    classifiers = set(meta.classifiers or [])
    if unknown := classifiers - trove_classifiers.classifiers:
        raise CheckFailed(f"classifiers that do not exist: {sorted(unknown)}")
    for needed in (
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
        "Operating System :: Microsoft :: Windows",
        "Programming Language :: Python :: 3",
    ):
        if needed not in classifiers:
            raise CheckFailed(f"classifier {needed!r} is missing")


def check_archive(path: Path, target: str, version: str, wheel: Wheel) -> None:
    plat = TARGETS[target]
    top = f"{BINARY}-{version}-{target}"
    expected_names = {f"{top}/{plat.binary}", f"{top}/README.md", f"{top}/LICENSE"}
    if plat.os == "windows":
        with zipfile.ZipFile(path) as z:
            contents = {n: z.read(n) for n in z.namelist()}
    else:
        contents = {}
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    raise CheckFailed(f"{member.name} is not a regular file")
                if member.name == f"{top}/{plat.binary}" and not member.mode & 0o111:
                    raise CheckFailed(f"{member.name} is not executable")
                contents[member.name] = tar.extractfile(member).read()
    if contents.keys() != expected_names:
        raise CheckFailed(f"holds {sorted(contents)}, expected {sorted(expected_names)}")
    if contents[f"{top}/{plat.binary}"] != wheel.binary:
        raise CheckFailed(f"its binary differs from the one in {wheel.path.name}")
    if contents[f"{top}/LICENSE"] != (ROOT / "LICENSE").read_bytes():
        raise CheckFailed("its LICENSE differs from the repository's")


def check_checksums(dist: Path) -> None:
    sums = dist / "SHA256SUMS"
    if not sums.is_file():
        raise CheckFailed("SHA256SUMS is missing")
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise CheckFailed(f"line {line!r} is not `SHA256  NAME`")
        listed[name] = digest
    present = {p.name for p in dist.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    if listed.keys() != present:
        raise CheckFailed(f"lists {sorted(listed)} but the folder holds {sorted(present)}")
    for name, digest in listed.items():
        if sha256((dist / name).read_bytes()) != digest:
            raise CheckFailed(f"the sum of {name} does not match")


def auditwheel_tag(path: Path) -> str:
    """The manylinux tag auditwheel derives from the symbols the binary really uses."""
    out = run([tool("auditwheel"), "show", str(path)]).stdout
    m = re.search(r'consistent with the following platform tag:\s*"([^"]+)"', out)
    if not m:
        raise CheckFailed(f"auditwheel gave no platform tag:\n{out}")
    return m[1]


# ---------------------------------------------------------------- installing and running


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise CheckFailed(f"{name} is not in {Path(sys.executable).parent}: run .ci/setup-dist")
    return found


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=PROCESS_DEADLINE_S, **kwargs
        )
    except subprocess.TimeoutExpired:
        command = " ".join(map(str, argv))
        raise CheckFailed(f"`{command}` did not finish in {PROCESS_DEADLINE_S} s") from None


def run_ok(argv: list, **kwargs) -> subprocess.CompletedProcess:
    done = run(argv, **kwargs)
    if done.returncode != 0:
        raise CheckFailed(
            f"`{' '.join(map(str, argv))}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


def test_pythons() -> list[Path]:
    """Interpreters to install the wheel with: $DIST_TEST_PYTHONS (os.pathsep-separated), else
    the oldest and newest of pyenv's Python 3.7+ (3.6's own pip, 18.1, predates manylinux2014
    tags; the README asks for pip 19.3 or newer)."""
    if given := os.environ.get("DIST_TEST_PYTHONS"):
        return [Path(p) for p in given.split(os.pathsep) if p]
    pyenv = shutil.which("pyenv")
    if not pyenv:
        raise CheckFailed(
            "no Python to install the wheel with: set DIST_TEST_PYTHONS or install pyenv"
        )
    root = Path(run_ok([pyenv, "root"]).stdout.strip())
    found = []
    for d in (root / "versions").iterdir():
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", d.name)
        if m and int(m[1]) >= 7 and (d / "bin" / "python").is_file():
            found.append(((int(m[1]), int(m[2])), d / "bin" / "python"))
    if not found:
        raise CheckFailed(f"pyenv ({root}) has no Python 3.7 or newer")
    found.sort()
    return [found[0][1]] if len(found) == 1 else [found[0][1], found[-1][1]]


def isolated_env(scratch: Path, **extra: str) -> dict:
    """An environment that keeps installers off the network and away from the real home."""
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    kept = ("PATH", "PATHEXT", "SYSTEMROOT", "WINDIR", "COMSPEC", "TEMP", "TMP")
    env = {k: v for k, v in os.environ.items() if k.upper() in kept}
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        APPDATA=str(home / "AppData" / "Roaming"),
        LOCALAPPDATA=str(home / "AppData" / "Local"),
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INPUT="1",
    )
    env.update(extra)
    return env


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def check_version_output(binary: Path, version: str, env: dict) -> None:
    out = run_ok([str(binary), "--version"], env=env).stdout.strip()
    if out != f"{BINARY} {version}":
        raise CheckFailed(f"`{binary} --version` printed {out!r}, expected '{BINARY} {version}'")


def pip_install(wheel: Wheel, python: Path, scratch: Path, version: str) -> Path:
    """A fresh venv made with `python`, the wheel installed by its pip; returns `preflight`."""
    venv = Path(tempfile.mkdtemp(prefix="venv-", dir=scratch))
    env = isolated_env(scratch)
    run_ok([str(python), "-m", "venv", str(venv)], env=env)
    venv_python = venv_bin(venv) / ("python.exe" if os.name == "nt" else "python")
    run_ok([str(venv_python), "-m", "pip", "install", str(wheel.path)], env=env)
    binary = venv_bin(venv) / wheel.platform.binary
    check_version_output(binary, version, env)
    return binary


def pipx_install(wheel: Wheel, python: Path, scratch: Path, version: str) -> None:
    base = scratch / "pipx"
    env = isolated_env(
        scratch,
        PIPX_HOME=str(base / "home"),
        PIPX_BIN_DIR=str(base / "bin"),
        PIPX_MAN_DIR=str(base / "man"),
    )
    run_ok([tool("pipx"), "install", "--python", str(python), str(wheel.path)], env=env)
    check_version_output(base / "bin" / wheel.platform.binary, version, env)


def uv_tool_install(wheel: Wheel, python: Path, scratch: Path, version: str) -> None:
    base = scratch / "uv"
    env = isolated_env(
        scratch,
        UV_TOOL_DIR=str(base / "tools"),
        UV_TOOL_BIN_DIR=str(base / "bin"),
        UV_CACHE_DIR=str(base / "cache"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
    )
    argv = [tool("uv"), "tool", "install", "--offline", "--python", str(python), str(wheel.path)]
    run_ok(argv, env=env)
    check_version_output(base / "bin" / wheel.platform.binary, version, env)


def run_installed_on_this_machine(binary: Path, scratch: Path, version: str) -> str:
    """`preflight --offline --json` from the install: it looks at this machine as a candidate's
    run would (its /proc, /dev and /opt; HOME is a fresh folder), opens no socket."""
    work = scratch / "work"
    work.mkdir()
    done = run([str(binary), "--offline", "--json"], env=isolated_env(scratch), cwd=work)
    # 0 ready, 1 not ready: both are verdicts. 2 (usage error) and crashes are not.
    if done.returncode not in (0, 1):
        raise CheckFailed(f"exited {done.returncode}:\n{done.stdout}{done.stderr}")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as e:
        raise CheckFailed(f"stdout is not JSON ({e}):\n{done.stdout[:2000]}") from e
    schema = json.loads((ROOT / "schema" / "report.schema.json").read_text(encoding="utf-8"))
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        raise CheckFailed(
            f"the report does not match schema/report.schema.json: {e.message}"
        ) from e
    if report["tool"]["version"] != version:
        raise CheckFailed(f"the report says version {report['tool']['version']}, not {version}")
    if not report["checks"]:
        raise CheckFailed("the report holds no checks")
    ran_online = {
        c["id"] for c in report["checks"] if c["category"] == "network" and c["status"] != "skip"
    }
    if ran_online:
        raise CheckFailed(f"--offline, yet network checks ran: {sorted(ran_online)}")
    s = report["summary"]
    return (
        f"exit {done.returncode}, {len(report['checks'])} checks: {s['pass']} pass, "
        f"{s['warn']} warn, {s['fail']} fail, {s['skip']} skip"
    )


# ---------------------------------------------------------------- the check command


def check(dist: Path, targets: list[str]) -> int:
    version = cargo_package()["version"]
    passed, failed = 0, 0

    def step(label: str, fn, *args):
        nonlocal passed, failed
        try:
            note = fn(*args)
        except CheckFailed as e:
            failed += 1
            print(f"FAIL {label}: {e}", flush=True)
            return None
        passed += 1
        print(f"ok   {label}" + (f": {note}" if isinstance(note, str) else ""), flush=True)
        return note if note is not None else True

    expected = {TARGETS[t] for t in targets}
    if len(expected) != len(targets):
        print(f"error: two of {targets} build for the same platform", file=sys.stderr)
        return 2

    wheels: dict[Platform, Wheel] = {}
    for path in sorted(dist.glob("*.whl")):

        def one_wheel(path=path):
            wheel = read_wheel(path, version)
            if wheel.platform in wheels:
                raise CheckFailed(f"a second wheel for {wheel.platform}")
            wheels[wheel.platform] = wheel
            if wheel.platform.os == "linux":
                derived = auditwheel_tag(path)
                if derived != f"manylinux_2_17_{wheel.platform.arch}":
                    raise CheckFailed(f"auditwheel says the binary needs {derived}")
            return f"{wheel.platform}, {len(wheel.binary) / 2**20:.1f} MiB binary"

        step(f"wheel {path.name}", one_wheel)

    def wheel_set():
        if set(wheels) != expected:
            raise CheckFailed(
                f"wheels for {sorted(map(str, wheels))}, expected {sorted(map(str, expected))}"
            )

    step("one wheel for each target", wheel_set)

    archives = {p.name for p in dist.iterdir() if p.name.endswith((".tar.gz", ".zip"))}
    for target in targets:
        name = archive_name(version, target)

        def one_archive(target=target, name=name):
            if name not in archives:
                raise CheckFailed("missing")
            wheel = wheels.get(TARGETS[target])
            if wheel is None:
                raise CheckFailed("no wheel to compare its binary with")
            check_archive(dist / name, target, version, wheel)
            return f"same binary as {wheel.path.name}"

        step(f"archive {name}", one_archive)
        archives.discard(name)

    def no_stray_archives():
        if archives:
            raise CheckFailed(f"archives for no target asked for: {sorted(archives)}")

    step("no other archives", no_stray_archives)
    step("SHA256SUMS", check_checksums, dist)

    host = host_platform()
    wheel = wheels.get(host) if host else None
    if wheel is None:
        # The install test is the point of running this on each OS: never skip it quietly.
        failed += 1
        print(f"FAIL install: no wheel for this machine ({host}) among {sorted(map(str, wheels))}")
    else:
        pythons: list[Path] = []

        def find_pythons():
            pythons.extend(test_pythons())
            return ", ".join(map(str, pythons))

        step("Pythons to install with", find_pythons)
        with tempfile.TemporaryDirectory(prefix="preflight-dist-") as tmp:
            scratch = Path(tmp)
            installed = None
            for python in pythons:
                label = (
                    f"pip install {wheel.path.name} into a venv of {python}; preflight --version"
                )
                installed = step(label, pip_install, wheel, python, scratch, version) or installed
            if installed:
                step(
                    "installed preflight --offline --json (reads this machine's /proc, /dev, /opt)",
                    run_installed_on_this_machine,
                    installed,
                    scratch,
                    version,
                )
            if pythons:
                newest = pythons[-1]
                for label, install in (
                    (f"pipx install --python {newest}", pipx_install),
                    (f"uv tool install --offline --python {newest}", uv_tool_install),
                ):
                    step(f"{label}; preflight --version", install, wheel, newest, scratch, version)

    print(f"release files: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "archive":
        print(f"wrote {make_archive(argv[1], Path(argv[2]))}")
        return 0
    if len(argv) == 2 and argv[0] == "checksums":
        print(f"wrote {write_checksums(Path(argv[1]))}")
        return 0
    if argv == ["crate"]:
        try:
            print(f"crate {check_crate()}")
        except CheckFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    if len(argv) >= 3 and argv[0] == "check":
        unknown = [t for t in argv[2:] if t not in TARGETS]
        if unknown:
            print(f"error: unknown targets {unknown}; known: {', '.join(TARGETS)}", file=sys.stderr)
            return 2
        return check(Path(argv[1]), argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
