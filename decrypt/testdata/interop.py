#!/usr/bin/env python3
"""An independent .intunewin implementation for imepipe's interop test.

Uses only Python's zipfile, hmac and hashlib and the openssl command line:
  interop.py decode PACKAGE OUTDIR        verify HMAC + FileDigest, decrypt, extract
  interop.py encode SRCDIR SETUPFILE OUT  pack SRCDIR the way Microsoft's tool does
"""
import base64, hashlib, hmac, os, re, subprocess, sys, tempfile, zipfile

CONTENTS = "IntuneWinPackage/Contents/IntunePackage.intunewin"
DETECTION = "IntuneWinPackage/Metadata/Detection.xml"


def field(xml, name):
    m = re.search(r"<%s>(.*?)</%s>" % (name, name), xml, re.S)
    if not m:
        raise SystemExit("missing " + name)
    return m.group(1).strip()


def decode(pkg, out):
    with zipfile.ZipFile(pkg) as z:
        names = z.namelist()
        if names != [CONTENTS, DETECTION]:
            raise SystemExit("outer entries %r" % names)
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise SystemExit("outer entry not stored: " + info.filename)
        xml = z.read(DETECTION).decode("utf-8")
        blob = z.read(CONTENTS)  # zipfile checks the CRC-32 here
    if "\r\n" not in xml or "\n  <Name>" not in xml.replace("\r\n", "\n"):
        raise SystemExit("Detection.xml is not CRLF with two-space indent")
    key = base64.b64decode(field(xml, "EncryptionKey"))
    mac_key = base64.b64decode(field(xml, "MacKey"))
    iv = base64.b64decode(field(xml, "InitializationVector"))
    mac = base64.b64decode(field(xml, "Mac"))
    digest = base64.b64decode(field(xml, "FileDigest"))
    if blob[:32] != mac or blob[32:48] != iv:
        raise SystemExit("MAC or IV in the file differ from Detection.xml")
    if not hmac.compare_digest(hmac.new(mac_key, blob[32:], hashlib.sha256).digest(), mac):
        raise SystemExit("HMAC mismatch")
    plain = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
                           input=blob[48:], capture_output=True, check=True).stdout
    if hashlib.sha256(plain).digest() != digest:
        raise SystemExit("FileDigest mismatch")
    if len(plain) != int(field(xml, "UnencryptedContentSize")):
        raise SystemExit("size mismatch")
    with tempfile.TemporaryFile() as tmp:
        tmp.write(plain)
        tmp.seek(0)
        with zipfile.ZipFile(tmp) as inner:
            for info in inner.infolist():
                if info.compress_type != zipfile.ZIP_DEFLATED and info.file_size:
                    raise SystemExit("inner entry not deflated: " + info.filename)
                if "/" in info.filename.rstrip("/"):
                    raise SystemExit("inner name uses / not \\: " + info.filename)
                rel = info.filename.replace("\\", "/")
                dest = os.path.join(out, rel)
                if rel.endswith("/"):
                    os.makedirs(dest, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "wb") as f:
                    f.write(inner.read(info))
    print(field(xml, "SetupFile"))


def encode(src, setup, out):
    inner_buf = tempfile.TemporaryFile()
    with zipfile.ZipFile(inner_buf, "w", zipfile.ZIP_DEFLATED) as z:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            rel_root = os.path.relpath(root, src)
            if rel_root != "." and not files and not dirs:
                z.writestr(rel_root.replace("/", "\\") + "\\", b"")
            for name in sorted(files):
                rel = os.path.normpath(os.path.join(rel_root, name)).replace("/", "\\")
                with open(os.path.join(root, name), "rb") as f:
                    z.writestr(zipfile.ZipInfo(rel, (2020, 1, 1, 0, 0, 0)), f.read(), zipfile.ZIP_DEFLATED)
    inner_buf.seek(0)
    plain = inner_buf.read()
    key, mac_key, iv = os.urandom(32), os.urandom(32), os.urandom(16)
    ct = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
                        input=plain, capture_output=True, check=True).stdout
    mac = hmac.new(mac_key, iv + ct, hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    xml = "\r\n".join([
        '<ApplicationInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ToolVersion="1.8.6.0">',
        "  <Name>%s</Name>" % setup,
        "  <UnencryptedContentSize>%d</UnencryptedContentSize>" % len(plain),
        "  <FileName>IntunePackage.intunewin</FileName>",
        "  <SetupFile>%s</SetupFile>" % setup,
        "  <EncryptionInfo>",
        "    <EncryptionKey>%s</EncryptionKey>" % b64(key),
        "    <MacKey>%s</MacKey>" % b64(mac_key),
        "    <InitializationVector>%s</InitializationVector>" % b64(iv),
        "    <Mac>%s</Mac>" % b64(mac),
        "    <ProfileIdentifier>ProfileVersion1</ProfileIdentifier>",
        "    <FileDigest>%s</FileDigest>" % b64(hashlib.sha256(plain).digest()),
        "    <FileDigestAlgorithm>SHA256</FileDigestAlgorithm>",
        "  </EncryptionInfo>",
        "</ApplicationInfo>"])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(CONTENTS, mac + iv + ct)
        z.writestr(DETECTION, xml.encode("utf-8"))


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "encode":
        encode(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit("usage: interop.py decode|encode ...")
