"""Tests of .ci/dist.py's helpers that need no build: run by .ci/run with the dist-tools venv's
Python (`python .ci/test_dist.py`), where dist.py's imports are installed."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dist
from dist import CheckFailed, Platform


def elf(machine: int, data: int = 1) -> bytes:
    """The first bytes of a 64-bit ELF file: magic, class, byte order (`data`), e_machine."""
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, data
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header)


def pe(machine: int, signature: bytes = b"PE\0\0") -> bytes:
    """An MZ stub whose e_lfanew points at a PE signature and the COFF machine field."""
    header = bytearray(0x100)
    header[:2] = b"MZ"
    header[0x3C:0x40] = (0x80).to_bytes(4, "little")
    header[0x80:0x84] = signature
    header[0x84:0x86] = machine.to_bytes(2, "little")
    return bytes(header)


def macho(cputype: int) -> bytes:
    return b"\xcf\xfa\xed\xfe" + cputype.to_bytes(4, "little") + bytes(24)


class WheelTags(unittest.TestCase):
    def test_each_tag_the_build_makes_names_its_platform(self):
        cases = {
            "manylinux_2_17_x86_64": Platform("linux", "x86_64"),
            "manylinux2014_aarch64": Platform("linux", "aarch64"),
            "macosx_11_0_arm64": Platform("macos", "aarch64"),
            "macosx_10_12_x86_64": Platform("macos", "x86_64"),
            "win_amd64": Platform("windows", "x86_64"),
        }
        for tag, platform in cases.items():
            with self.subTest(tag=tag):
                self.assertEqual(dist.platform_of_wheel_tag(tag), platform)

    def test_tags_for_no_platform_preflight_is_built_for_fail(self):
        for tag in (
            "linux_x86_64",
            "musllinux_1_2_x86_64",
            "win32",
            "any",
            "macosx_11_0_universal2",
        ):
            with self.subTest(tag=tag), self.assertRaises(CheckFailed):
                dist.platform_of_wheel_tag(tag)


class Binaries(unittest.TestCase):
    def test_headers_name_the_os_and_cpu(self):
        cases = [
            (elf(62), Platform("linux", "x86_64")),
            (elf(183), Platform("linux", "aarch64")),
            (pe(0x8664), Platform("windows", "x86_64")),
            (macho(0x01000007), Platform("macos", "x86_64")),
            (macho(0x0100000C), Platform("macos", "aarch64")),
        ]
        for data, platform in cases:
            with self.subTest(platform=str(platform)):
                self.assertEqual(dist.platform_of_binary(data), platform)

    def test_other_binaries_and_other_files_fail(self):
        cases = {
            "big-endian ELF": elf(62, data=2),
            "ELF for another CPU": elf(40),
            "PE for 32-bit x86": pe(0x14C),
            "MZ without PE": pe(0x8664, signature=b"NE\0\0"),
            "Mach-O for another CPU": macho(0x12),
            "a script": b"#!/bin/sh\n",
        }
        for name, data in cases.items():
            with self.subTest(name), self.assertRaises(CheckFailed):
                dist.platform_of_binary(data)

    @unittest.skipUnless(sys.platform == "linux", "reads this Linux machine's interpreter")
    def test_this_machines_interpreter_is_for_this_machine(self):
        data = Path(sys.executable).resolve().read_bytes()
        self.assertEqual(dist.platform_of_binary(data), dist.host_platform())

    def test_linux_binaries_are_left_to_auditwheel(self):
        self.assertEqual(dist.libraries_not_in_the_os(Platform("linux", "x86_64"), elf(62)), [])


class Archives(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="test-dist-"))
        self.addCleanup(shutil.rmtree, self.tmp)
        self.version = dist.cargo_package()["version"]

    def built(self, target: str, binary: bytes) -> Path:
        """Archive `binary` as if cargo had built it for `target` into a target dir of ours."""
        release = self.tmp / "target" / target / "release"
        release.mkdir(parents=True)
        (release / dist.TARGETS[target].binary).write_bytes(binary)
        out = self.tmp / "dist"
        out.mkdir(exist_ok=True)
        with mock.patch.object(dist, "cargo_target_dir", return_value=self.tmp / "target"):
            return dist.make_archive(target, out)

    def test_names_follow_the_target(self):
        self.assertEqual(
            dist.archive_name("1.2.3", "x86_64-pc-windows-gnu"),
            "preflight-1.2.3-x86_64-pc-windows-gnu.zip",
        )
        self.assertEqual(
            dist.archive_name("1.2.3", "aarch64-apple-darwin"),
            "preflight-1.2.3-aarch64-apple-darwin.tar.gz",
        )

    def test_an_archive_holds_the_wheels_binary_readme_and_license(self):
        for target, binary in (
            ("x86_64-unknown-linux-gnu", elf(62)),
            ("x86_64-pc-windows-gnu", pe(0x8664)),
        ):
            with self.subTest(target=target):
                path = self.built(target, binary)
                self.assertEqual(path.name, dist.archive_name(self.version, target))
                wheel = dist.Wheel(path, dist.TARGETS[target], binary)
                dist.check_archive(path, target, self.version, wheel)
                other = dist.Wheel(path, dist.TARGETS[target], binary + b"\0")
                with self.assertRaisesRegex(CheckFailed, "binary differs"):
                    dist.check_archive(path, target, self.version, other)

    def test_an_archive_is_the_same_however_often_it_is_made(self):
        first = self.built("x86_64-unknown-linux-gnu", elf(62)).read_bytes()
        shutil.rmtree(self.tmp / "target")
        (self.tmp / "dist" / dist.archive_name(self.version, "x86_64-unknown-linux-gnu")).unlink()
        second = self.built("x86_64-unknown-linux-gnu", elf(62)).read_bytes()
        self.assertEqual(hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest())

    def test_a_tarball_binary_without_its_executable_bit_fails(self):
        target = "x86_64-unknown-linux-gnu"
        top = f"preflight-{self.version}-{target}"
        path = self.tmp / dist.archive_name(self.version, target)
        with tarfile.open(path, "w:gz") as tar:
            for name, data, mode in (
                ("preflight", elf(62), 0o644),
                ("README.md", (dist.ROOT / "README.md").read_bytes(), 0o644),
                ("LICENSE", (dist.ROOT / "LICENSE").read_bytes(), 0o644),
            ):
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size, info.mode = len(data), mode
                tar.addfile(info, io.BytesIO(data))
        wheel = dist.Wheel(path, dist.TARGETS[target], elf(62))
        with self.assertRaisesRegex(CheckFailed, "not executable"):
            dist.check_archive(path, target, self.version, wheel)

    def test_a_zip_with_a_stray_file_fails(self):
        target = "x86_64-pc-windows-gnu"
        path = self.built(target, pe(0x8664))
        with zipfile.ZipFile(path, "a") as z:
            z.writestr(f"preflight-{self.version}-{target}/notes.txt", "stray")
        wheel = dist.Wheel(path, dist.TARGETS[target], pe(0x8664))
        with self.assertRaisesRegex(CheckFailed, "expected"):
            dist.check_archive(path, target, self.version, wheel)


class Checksums(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="test-dist-"))
        self.addCleanup(shutil.rmtree, self.dir)
        (self.dir / "a.whl").write_bytes(b"wheel")
        (self.dir / "b.tar.gz").write_bytes(b"archive")

    def test_written_sums_check_out(self):
        dist.write_checksums(self.dir)
        dist.check_checksums(self.dir)

    @unittest.skipUnless(shutil.which("sha256sum"), "GNU coreutils' sha256sum is not installed")
    def test_sha256sum_accepts_the_written_file(self):
        dist.write_checksums(self.dir)
        done = subprocess.run(
            ["sha256sum", "--check", "--strict", "SHA256SUMS"],
            check=False,
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_a_changed_file_fails(self):
        dist.write_checksums(self.dir)
        (self.dir / "a.whl").write_bytes(b"other wheel")
        with self.assertRaisesRegex(CheckFailed, "a.whl"):
            dist.check_checksums(self.dir)

    def test_a_file_not_listed_fails(self):
        dist.write_checksums(self.dir)
        (self.dir / "c.zip").write_bytes(b"late")
        with self.assertRaisesRegex(CheckFailed, "c.zip"):
            dist.check_checksums(self.dir)

    def test_a_malformed_line_fails(self):
        (self.dir / "SHA256SUMS").write_text("not a sum  a.whl\n", encoding="utf-8")
        with self.assertRaisesRegex(CheckFailed, "is not"):
            dist.check_checksums(self.dir)

    def test_an_empty_folder_is_refused(self):
        empty = self.dir / "empty"
        empty.mkdir()
        with self.assertRaises(SystemExit):
            dist.write_checksums(empty)


class Environment(unittest.TestCase):
    def test_installers_get_no_index_no_config_and_a_home_of_their_own(self):
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp)
            outside = {"PATH": "/usr/bin", "HOME": "/root", "PIP_INDEX_URL": "http://127.0.0.1:9/"}
            with mock.patch.dict(os.environ, outside, clear=True):
                env = dist.isolated_env(scratch, EXTRA="1")
            self.assertEqual(env["PATH"], "/usr/bin")
            self.assertEqual(env["HOME"], str(scratch / "home"))
            self.assertTrue((scratch / "home").is_dir())
            self.assertEqual(env["PIP_NO_INDEX"], "1")
            self.assertEqual(env["PIP_CONFIG_FILE"], os.devnull)
            self.assertNotIn("PIP_INDEX_URL", env)
            self.assertEqual(env["EXTRA"], "1")


class CommandLine(unittest.TestCase):
    def test_unknown_targets_and_commands_are_usage_errors(self):
        with mock.patch("sys.stderr", new_callable=io.StringIO) as err:
            self.assertEqual(dist.main(["check", "target/dist", "riscv64gc-unknown-linux-gnu"]), 2)
            self.assertIn("unknown targets", err.getvalue())
            self.assertEqual(dist.main(["publish"]), 2)
            self.assertIn("dist.py archive TARGET DIST", err.getvalue())


if __name__ == "__main__":
    unittest.main()
