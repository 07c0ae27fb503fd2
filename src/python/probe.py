# The interpreter probe (src/python/probe.rs says why it is written so). Python 2.7 and 3.
import sys, site
v = sys.version_info
out = []
def say(k, x):
    if x is not None:
        out.append("%s=%s\n" % (k, str(x).replace("\n", " ")))
def fsencode(p):
    if isinstance(p, bytes):
        return p
    try:
        return p.encode(sys.getfilesystemencoding(), "surrogateescape")
    except (LookupError, UnicodeError):
        return p.encode("utf-8", "replace")
def hexof(b):
    if hasattr(b, "hex"):
        return b.hex()
    return "".join(["%02x" % c for c in bytearray(b)])
def path(k, p):
    if p:
        out.append("%s_path=%s\n" % (k, hexof(fsencode(p))))
say("version", "%d.%d.%d" % (v[0], v[1], v[2]))
say("version_banner", sys.version)
path("executable", sys.executable)
path("prefix", sys.prefix)
path("base_prefix", getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix)))
try:
    sp = site.getsitepackages()
except Exception:
    sp = [p for p in sys.path if p.endswith("site-packages")]
for p in sp:
    path("site_packages", p)
try:
    path("user_site", site.getusersitepackages())
except Exception:
    pass
say("user_site_enabled", bool(site.ENABLE_USER_SITE))
for p in sys.path:
    path("sys_path", p)
import os
say("machine", os.uname()[4] if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE"))
# PEP 508's marker environment, as packaging's default_environment() computes it. On Unix
# `platform` answers these from os.uname(), so they are read there without importing it
# (about 3 ms with `re`); on Windows `platform` is asked.
impl = getattr(sys, "implementation", None)
if impl is not None:
    iv = impl.version
    full = "%d.%d.%d" % (iv[0], iv[1], iv[2])
    if iv[3] != "final":
        full += iv[3][0] + str(iv[4])
    say("marker_implementation_name", impl.name)
    say("marker_implementation_version", full)
else:
    say("marker_implementation_name", "")
    say("marker_implementation_version", "0")
say("marker_os_name", os.name)
say("marker_sys_platform", sys.platform)
say("marker_python_version", "%d.%d" % (v[0], v[1]))
say("marker_python_full_version", sys.version.split()[0])
names = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython", "jython": "Jython"}
say("marker_platform_python_implementation", names.get(impl and impl.name, "CPython"))
if hasattr(os, "uname"):
    u = os.uname()
    say("marker_platform_system", u[0])
    say("marker_platform_release", u[2])
    say("marker_platform_version", u[3])
    say("marker_platform_machine", u[4])
else:
    import platform
    say("marker_platform_system", platform.system())
    say("marker_platform_release", platform.release())
    say("marker_platform_version", platform.version())
    say("marker_platform_machine", platform.machine())
# What wheel tags this interpreter runs (src/python/tags.rs): its ABI flags, word size and C
# library, without importing sysconfig.
say("abiflags", getattr(sys, "abiflags", ""))
say("debug_build", hasattr(sys, "gettotalrefcount"))
say("pointer_bits", 64 if sys.maxsize > 2 ** 32 else 32)
try:
    say("libc", os.confstr("CS_GNU_LIBC_VERSION"))
except (AttributeError, ValueError, OSError):
    pass
if sys.platform == "darwin":
    try:
        import ssl
        paths = ssl.get_default_verify_paths()
        path("openssl_cafile", paths.openssl_cafile)
        say("openssl_cafile_exists", os.path.exists(paths.openssl_cafile))
        path("cafile", paths.cafile)
    except Exception:
        pass
sys.stdout.write("".join(out))
