#!/usr/bin/env python3
"""Packs the forwarder for a release, byte for byte the same from the same inputs.

  pack.py zip BOOTSTRAP OUT.zip
      the forwarder's deployment package: one entry `bootstrap`, mode 755, dated 1980-01-01
  pack.py embed DEPLOYER OUT ARCH=ZIP...
      OUT = the deployer executable with the forwarder zips appended (ARCH: x86_64 or arm64),
      as src/embedded.rs reads them: [executable][payload zip][payload length u64 LE][MAGIC]
"""
import os
import shutil
import struct
import sys
import zipfile

MAGIC = b"FLOWLOGS-FWD-01\n"  # src/embedded.rs: MAGIC
EPOCH = (1980, 1, 1, 0, 0, 0)
ARCHS = ("x86_64", "arm64")


def forwarder_zip(bootstrap, out):
    entry = zipfile.ZipInfo("bootstrap", date_time=EPOCH)
    entry.external_attr = 0o100755 << 16
    entry.create_system = 3  # unix, whatever the host
    entry.compress_type = zipfile.ZIP_DEFLATED
    with open(bootstrap, "rb") as f, zipfile.ZipFile(out, "w") as z:
        z.writestr(entry, f.read(), compresslevel=9)


def embed(deployer, out, pairs):
    payload_path = out + ".payload"
    with zipfile.ZipFile(payload_path, "w", zipfile.ZIP_STORED) as z:
        for pair in pairs:
            arch, _, path = pair.partition("=")
            if arch not in ARCHS or not path:
                sys.exit(f"pack.py embed: expected ARCH=ZIP with ARCH in {ARCHS}, got {pair!r}")
            entry = zipfile.ZipInfo(f"{arch}.zip", date_time=EPOCH)
            entry.create_system = 3
            with open(path, "rb") as f:
                z.writestr(entry, f.read())
    with open(payload_path, "rb") as f:
        payload = f.read()
    os.remove(payload_path)
    tmp = out + ".tmp"
    shutil.copyfile(deployer, tmp)
    with open(tmp, "ab") as f:
        f.write(payload)
        f.write(struct.pack("<Q", len(payload)))
        f.write(MAGIC)
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)


def main(argv):
    if len(argv) == 3 and argv[0] == "zip":
        forwarder_zip(argv[1], argv[2])
    elif len(argv) >= 4 and argv[0] == "embed":
        embed(argv[1], argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
