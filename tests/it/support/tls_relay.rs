//! A TLS front for a loopback HTTP server (moto, the Telegram stand-in): `openssl` makes a
//! test CA and a certificate for `127.0.0.1` it signs, and a small Python relay terminates TLS
//! with it and forwards the bytes. The binary then talks HTTPS through its real TLS stack, and a test
//! chooses whether the certificate is trusted (`SSL_CERT_FILE`, which both the SDK's
//! rustls-native-certs and reqwest's rustls-platform-verifier read) or not (the system's roots,
//! which do not hold it).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const RELAY: &str = r#"
import select, socket, ssl, sys, threading
cert, key, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)

def serve(conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()  # the client refused the certificate
        return
    upstream = socket.create_connection(("127.0.0.1", target))
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, upstream], [], [])[0]
            for src, dst in ((tls, upstream), (upstream, tls)):
                if src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    dst.sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        tls.close()
        upstream.close()

while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

/// The relay's process and certificate; stopped when dropped.
pub struct TlsRelay {
    pub port: u16,
    /// The test CA's certificate, PEM: the trust store a test hands the binary.
    pub ca: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TlsRelay {
    /// A TLS front on a free loopback port for the HTTP server on `target_port`.
    pub fn start(target_port: u16) -> TlsRelay {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = certificates(dir.path());
        let mut child = Command::new("python3")
            .args(["-c", RELAY])
            .arg(&cert)
            .arg(&key)
            .arg(target_port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (the TLS relay) must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the TLS relay did not start: {line:?}"));
        TlsRelay {
            port,
            ca,
            child,
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-day test CA and a server certificate it signs for the IP 127.0.0.1 (P-256 keys) in
/// `dir`: `(ca, cert, key)`. webpki takes a leaf, not a CA, as the server's certificate.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let [ca, ca_key, cert, key, csr, ext] = [
        "ca.pem", "ca.key", "cert.pem", "key.pem", "cert.csr", "ext.cnf",
    ]
    .map(|f| dir.join(f));
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(|c| {
        c.args([
            "req",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=freshness-monitor test CA",
        ])
        .args(p256)
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca)
    });
    openssl(|c| {
        c.args(["req", "-new", "-subj", "/CN=127.0.0.1"])
            .args(p256)
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr)
    });
    openssl(|c| {
        c.args(["x509", "-req", "-days", "1", "-set_serial", "1", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert)
    });
    (ca, cert, key)
}

fn openssl(args: impl FnOnce(&mut Command) -> &mut Command) {
    let mut command = Command::new("openssl");
    let out = args(&mut command)
        .output()
        .expect("openssl (scripts/test.sh installs it) must be installed");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
