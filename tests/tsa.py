"""A time-stamping authority on 127.0.0.1 for the tests: ``openssl ts -reply`` behind a
small HTTP server, with a throwaway CA and a TSA certificate made here (timeStamping
purpose, critical). ``mode`` makes it misbehave: ``http500``,
``other_digest`` (stamps another imprint)."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = {dir}/serial
signer_cert = {dir}/tsa.pem
certs = {dir}/ca.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
crypto_device = builtin
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_authority(folder: Path, *, eku: bool = True) -> Path:
    """CA + TSA certificate and key, and openssl's configuration; returns its path."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Comptoir Test CA"))
        .issuer_name(_name("Comptoir Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("Comptoir Test TSA"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
    )
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "tsa.pem").write_bytes(_pem(cert))
    (folder / "tsa.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "serial").write_text("01\n")
    config = folder / "ts.cnf"
    config.write_text(CONFIG.format(dir=folder))
    return config


def reply(config: Path, query: bytes) -> bytes:
    """``openssl ts -reply`` for one TimeStampReq."""
    with tempfile.TemporaryDirectory() as work:
        query_file, answer_file = Path(work, "q.tsq"), Path(work, "a.tsr")
        query_file.write_bytes(query)
        subprocess.run(
            [
                "openssl",
                "ts",
                "-reply",
                "-config",
                str(config),
                "-queryfile",
                str(query_file),
                "-out",
                str(answer_file),
            ],
            check=True,
            capture_output=True,
        )
        return answer_file.read_bytes()


def other_digest(query: bytes) -> bytes:
    req = tsp.TimeStampReq.load(query)
    imprint = req["message_imprint"]
    changed = bytes(b ^ 0xFF for b in imprint["hashed_message"].native)
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": changed,
            },
            "nonce": req["nonce"].native,
            "cert_req": True,
        }
    ).dump()


class LocalTsa:
    """The authority, served on 127.0.0.1 (``url``) until ``stop()``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config = make_authority(folder)
        self.mode = "ok"
        self.requests = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                tsa.requests += 1
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if tsa.mode == "http500":
                    self.send_error(500)
                    return
                if tsa.mode == "other_digest":
                    query = other_digest(query)
                answer = reply(tsa.config, query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsr"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def resign(answer: bytes, folder: Path, *, eku: bool, certs: bool = True) -> bytes:
    """The token of ``answer`` signed again by a new authority made in ``folder`` (with or
    without the timeStamping purpose; ``certs=False``: carrying no certificate), through
    ``openssl cms -sign``, which, unlike ``openssl ts``, signs with any certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    make_authority(folder, eku=eku)
    info = tsp.TimeStampResp.load(answer)["time_stamp_token"]["content"]["encap_content_info"]
    (folder / "tst.der").write_bytes(info["content"].contents)
    command = ["openssl", "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-cades"]
    command += ["-econtent_type", "1.2.840.113549.1.9.16.1.4", "-md", "sha256"]
    command += ["-signer", str(folder / "tsa.pem"), "-inkey", str(folder / "tsa.key")]
    command += ["-certfile", str(folder / "ca.pem")] if certs else ["-nocerts"]
    command += ["-in", str(folder / "tst.der"), "-out", str(folder / "token.der")]
    subprocess.run(command, check=True, capture_output=True)
    token = cms.ContentInfo.load((folder / "token.der").read_bytes())
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
