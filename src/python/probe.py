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
