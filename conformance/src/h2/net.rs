//! HTTP/2 servers reached over a real socket: `h2c://HOST:PORT` speaks
//! HTTP/2 over cleartext TCP with prior knowledge (RFC 9113 §3.3), and
//! `h2://HOST:PORT` over TLS with ALPN `h2` (RFC 9113 §3.2, through
//! rustls). One TCP connection per trace; the harness plays the client, so
//! traces of a client IUT are unsupported here.
//!
//! The connection is the byte pipe [`H2Target`] describes. What a server
//! does that no trace tells it (its own SETTINGS, answering requests) is
//! what [`H2Target::autonomous`] says; the replay deals with it. Every read
//! is bounded by the time the replay gives it (the clock's tolerance), so a
//! server that hangs costs that much, never the run. An EOF or a reset from
//! the server is the connection closing, which the trace sees as nothing
//! more coming ([`H2Target::closed`]); bytes written after it are lost, as
//! on the wire.
//!
//! With `--capture`, the pcap holds the HTTP/2 bytes both ways as the data
//! segments of one TCP connection (for `h2://`, the bytes inside TLS), so
//! that Wireshark's HTTP/2 dissector reads them.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

pub mod answers;

pub use answers::{Push, ServerApp};

use answers::Answers;

use super::target::{H2Settings, H2Target, StreamState};
use crate::h2::H2App;
use crate::pcap::StreamCapture;
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// How long an expected frame may take on a real socket, and how long a
/// connect, a TLS handshake or a write may block before the target gives
/// the trace up as broken.
pub const TOLERANCE: Duration = Duration::from_millis(500);

/// What the user wrote after the scheme could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("`{0}` is not HOST:PORT")]
    NotHostPort(String),
    #[error("`{0}`: {1}")]
    Resolve(String, String),
}

/// An IUT that runs in this process behind a real socket (the h2 crate,
/// [`crate::h2crate::H2CrateIut`]): its application is ours, so the trace's
/// `app` steps are made when the trace says, as for an in-process target,
/// and it announces the settings it is opened with.
pub trait InProcessIut: Send {
    /// The IUT's end of one trace's connection, in `role`, announcing
    /// `settings`: a server accepts the connection the harness just made;
    /// a client connects to the harness at `harness`.
    fn open(
        &mut self,
        role: Role,
        settings: &H2Settings,
        harness: Option<SocketAddr>,
    ) -> Result<(), TargetError>;
    /// An application call, when the trace makes it.
    fn app(&mut self, call: &H2App) -> Result<(), TargetError>;
    /// Ends the trace's connection.
    fn close(&mut self);
}

/// An HTTP/2 server over TCP (`h2c://`) or TLS (`h2://`).
pub struct NetH2 {
    name: String,
    addr: SocketAddr,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    conn: Option<Conn>,
    closed: bool,
    capture_to: Option<PathBuf>,
    capture: Option<StreamCapture>,
    /// What the suite knows of the server's application, if it runs it:
    /// then the trace's `app` steps map onto its answers ([`answers`]).
    app: Option<ServerApp>,
    answers: Option<Answers>,
    /// The server runs in this process and takes the trace's calls.
    iut: Option<Box<dyn InProcessIut>>,
}

/// How long each read blocks while the harness waits for an answer to
/// settle.
const SLICE: Duration = Duration::from_millis(5);

struct Conn {
    sock: TcpStream,
    tls: Option<ClientConnection>,
    nonblocking: bool,
}

/// `HOST:PORT` (after `h2c://` or `h2://`), resolved to its first address.
fn parse(hostport: &str) -> Result<(String, SocketAddr), AddressError> {
    let hp = hostport.trim_start_matches("//").trim_end_matches('/');
    let (host, port) = hp
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        .ok_or_else(|| AddressError::NotHostPort(hp.to_string()))?;
    let addr = hp
        .to_socket_addrs()
        .map_err(|e| AddressError::Resolve(hp.to_string(), e.to_string()))?
        .next()
        .ok_or_else(|| AddressError::Resolve(hp.to_string(), "no address".into()))?;
    let _ = port;
    Ok((host.trim_matches(['[', ']']).to_string(), addr))
}

impl NetH2 {
    /// `h2c://HOST:PORT`: prior knowledge over cleartext TCP.
    pub fn cleartext(hostport: &str) -> Result<NetH2, AddressError> {
        let (_, addr) = parse(hostport)?;
        Ok(NetH2::with(format!("h2c://{addr}"), addr, None))
    }

    /// `h2://HOST:PORT`: TLS with ALPN `h2`; the server's certificate is
    /// checked against the Mozilla roots for HOST, unless `insecure`
    /// (a test certificate).
    pub fn tls(hostport: &str, insecure: bool) -> Result<NetH2, AddressError> {
        let (host, addr) = parse(hostport)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions");
        let mut config = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        // RFC 9113 §3.2: "h2" by ALPN, nothing else.
        config.alpn_protocols = vec![b"h2".to_vec()];
        let name = ServerName::try_from(host.clone())
            .map_err(|e| AddressError::Resolve(host.clone(), e.to_string()))?;
        Ok(NetH2::with(
            format!("h2://{addr}"),
            addr,
            Some((Arc::new(config), name)),
        ))
    }

    fn with(
        name: String,
        addr: SocketAddr,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    ) -> NetH2 {
        NetH2 {
            name,
            addr,
            tls,
            conn: None,
            closed: false,
            capture_to: None,
            capture: None,
            app: None,
            answers: None,
            iut: None,
        }
    }

    /// The same target for a server that runs in this process
    /// ([`InProcessIut`]): the trace's settings and application calls go
    /// to it, and it is not autonomous.
    pub fn with_iut(mut self, iut: Box<dyn InProcessIut>) -> NetH2 {
        self.iut = Some(iut);
        self
    }

    /// The same target for a server whose application the suite knows:
    /// the trace's `app` steps map onto its answers to requests.
    pub fn with_app(mut self, app: ServerApp) -> NetH2 {
        self.app = Some(app);
        self
    }

    /// The same target under another name in reports (a server the suite
    /// runs on a port that changes every run).
    pub fn named(mut self, name: &str) -> NetH2 {
        self.name = name.to_string();
        self
    }

    /// What the replay gets: the server's bytes, with what answers hold
    /// back held.
    fn take(&mut self, wait: Option<Duration>) -> Result<Vec<u8>, TargetError> {
        let raw = self.read(wait)?;
        match &mut self.answers {
            Some(a) => {
                a.from_server(&raw);
                Ok(std::mem::take(&mut a.out))
            }
            None => Ok(raw),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        let conn = self.conn()?;
        conn.blocking(true)?;
        match conn.write_all(bytes) {
            Ok(()) => Ok(()),
            // The server closed: what the harness writes now is lost.
            Err(e) if is_reset(&e) => {
                self.closed = true;
                Ok(())
            }
            Err(e) if is_timeout(&e) => Err(TargetError::Broken(format!(
                "the server read nothing for {TOLERANCE:?}: a write did not complete"
            ))),
            Err(e) => Err(TargetError::Broken(format!("writing: {e}"))),
        }
    }

    /// Reads until every answer due is settled (ended, reset, or held by
    /// a window), the connection closed, or the tolerance passed.
    fn settle(&mut self) -> Result<(), TargetError> {
        let deadline = Instant::now() + TOLERANCE;
        while self.answers.as_ref().is_some_and(Answers::unsettled) && !self.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let raw = self.read(Some(left.min(SLICE)))?;
            if let Some(a) = &mut self.answers {
                a.from_server(&raw);
            }
        }
        Ok(())
    }

    fn conn(&mut self) -> Result<&mut Conn, TargetError> {
        self.conn
            .as_mut()
            .ok_or_else(|| TargetError::Broken("not open".into()))
    }

    fn record(&mut self, from_harness: bool, bytes: &[u8]) -> Result<(), TargetError> {
        match &mut self.capture {
            Some(c) if !bytes.is_empty() => c
                .bytes(from_harness, bytes)
                .map_err(|e| TargetError::Broken(format!("writing the capture: {e}"))),
            _ => Ok(()),
        }
    }

    /// What the server sent, waiting up to `wait` for the first bytes
    /// (`None`: only what is there already).
    fn read(&mut self, wait: Option<Duration>) -> Result<Vec<u8>, TargetError> {
        if self.closed {
            if let Some(d) = wait {
                // Nothing will come: the wait is the caller's pacing only.
                std::thread::sleep(d.min(Duration::from_millis(1)));
            }
            return Ok(Vec::new());
        }
        let conn = self.conn()?;
        let mut out = Vec::new();
        let mut eof = false;
        let mut first = wait;
        loop {
            let r = match first.take() {
                Some(d) => {
                    conn.blocking(true)?;
                    conn.sock
                        .set_read_timeout(Some(d.max(Duration::from_millis(1))))
                        .map_err(broken("setting a read timeout"))?;
                    conn.read_some(&mut out)
                }
                None => {
                    conn.blocking(false)?;
                    conn.read_some(&mut out)
                }
            };
            match r {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(_) => continue,
                Err(e) if is_timeout(&e) => break,
                Err(e) if is_reset(&e) => {
                    eof = true;
                    break;
                }
                Err(e) => return Err(TargetError::Broken(format!("reading: {e}"))),
            }
        }
        self.closed |= eof;
        self.record(false, &out)?;
        Ok(out)
    }
}

fn broken(what: &'static str) -> impl Fn(io::Error) -> TargetError {
    move |e| TargetError::Broken(format!("{what}: {e}"))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

impl Conn {
    fn blocking(&mut self, yes: bool) -> Result<(), TargetError> {
        if self.nonblocking == yes {
            self.sock
                .set_nonblocking(!yes)
                .map_err(broken("switching the socket's mode"))?;
            self.nonblocking = !yes;
        }
        Ok(())
    }

    /// Reads once from the socket into `out`: `Ok(0)` is the end of the
    /// stream, an error of kind `WouldBlock`/`TimedOut` nothing yet.
    fn read_some(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let mut buf = [0u8; 16 * 1024];
        match &mut self.tls {
            None => {
                let n = self.sock.read(&mut buf)?;
                out.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Some(tls) => {
                let n = tls.read_tls(&mut self.sock)?;
                tls.process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let before = out.len();
                loop {
                    match tls.reader().read(&mut buf) {
                        Ok(0) => return Ok(0),
                        Ok(k) => out.extend_from_slice(&buf[..k]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                if n == 0 {
                    return Ok(0);
                }
                // A partial record is no plaintext yet, but not the end.
                Ok((out.len() - before).max(1))
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.tls {
            None => self.sock.write_all(bytes),
            Some(tls) => {
                tls.writer().write_all(bytes)?;
                while tls.wants_write() {
                    tls.write_tls(&mut self.sock)?;
                }
                Ok(())
            }
        }
    }
}

impl H2Target for NetH2 {
    fn name(&self) -> &str {
        &self.name
    }

    fn clock(&self) -> Clock {
        Clock::Real {
            tolerance: TOLERANCE,
        }
    }

    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        self.close();
        if role != Role::Server {
            return Err(TargetError::Unsupported(format!(
                "{} is a server: the harness plays the client, and the trace needs a {role} IUT",
                self.name
            )));
        }
        let sock = TcpStream::connect_timeout(&self.addr, TOLERANCE)
            .map_err(|e| TargetError::Broken(format!("connecting to {}: {e}", self.addr)))?;
        sock.set_nodelay(true).map_err(broken("TCP_NODELAY"))?;
        sock.set_write_timeout(Some(TOLERANCE))
            .map_err(broken("setting a write timeout"))?;
        let mut conn = Conn {
            sock,
            tls: None,
            nonblocking: false,
        };
        if let Some((config, name)) = &self.tls {
            let mut tls = ClientConnection::new(config.clone(), name.clone())
                .map_err(|e| TargetError::Broken(format!("TLS: {e}")))?;
            conn.sock
                .set_read_timeout(Some(TOLERANCE))
                .map_err(broken("setting a read timeout"))?;
            let deadline = Instant::now() + TOLERANCE;
            while tls.is_handshaking() {
                if Instant::now() > deadline {
                    return Err(TargetError::Broken("the TLS handshake did not end".into()));
                }
                tls.complete_io(&mut conn.sock)
                    .map_err(|e| TargetError::Broken(format!("TLS handshake: {e}")))?;
            }
            if tls.alpn_protocol() != Some(b"h2") {
                return Err(TargetError::Broken(format!(
                    "{} did not select h2 by ALPN (RFC 9113 §3.2)",
                    self.name
                )));
            }
            conn.tls = Some(tls);
        }
        self.capture =
            match &self.capture_to {
                Some(path) => Some(StreamCapture::create(path).map_err(|e| {
                    TargetError::Broken(format!("creating {}: {e}", path.display()))
                })?),
                None => None,
            };
        self.conn = Some(conn);
        self.closed = false;
        self.answers = self.app.map(Answers::new);
        if let Some(iut) = &mut self.iut {
            iut.open(role, settings, None)?;
        }
        Ok(())
    }

    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        if let Some(iut) = &mut self.iut {
            return iut.app(call);
        }
        let name = self.name.clone();
        match &mut self.answers {
            Some(a) => a.app(call, &name).map_err(TargetError::Unsupported),
            None => Err(TargetError::Unsupported(format!(
                "{name} answers requests by itself; its application cannot be told `{call}`"
            ))),
        }
    }

    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        if let Some(why) = self
            .answers
            .as_ref()
            .and_then(|a| a.refuses(bytes, &self.name))
        {
            return Err(TargetError::Unsupported(why));
        }
        self.record(true, bytes)?;
        if let Some(a) = &mut self.answers {
            a.from_harness(bytes);
        }
        if self.closed {
            return Ok(());
        }
        self.write(bytes)?;
        self.settle()
    }

    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        self.take(None)
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        self.take(Some(d))
    }

    /// A server over the network does not say.
    fn stream_state(&mut self, _stream: u32) -> Result<Option<StreamState>, TargetError> {
        Ok(None)
    }

    fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = c.blocking(true);
            if let Some(tls) = &mut c.tls {
                tls.send_close_notify();
                let _ = tls.write_tls(&mut c.sock);
            }
            let _ = c.sock.shutdown(std::net::Shutdown::Both);
        }
        self.capture = None;
        self.answers = None;
        if let Some(iut) = &mut self.iut {
            iut.close();
        }
    }

    fn closed(&self) -> bool {
        self.closed
    }

    /// A server the suite does not run in this process.
    fn autonomous(&self) -> bool {
        self.iut.is_none()
    }

    /// A server the suite configured to push: the path it pushes for.
    fn push_requests(&mut self, streams: &[u32]) -> Option<String> {
        self.answers
            .as_mut()
            .and_then(|a| a.plan_push(streams))
            .map(str::to_string)
    }

    /// The HTTP/2 bytes both ways, as the data segments of one TCP
    /// connection (`LINKTYPE_RAW`; Wireshark: Decode As… HTTP2).
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.capture_to = path.map(Path::to_path_buf);
        Ok(())
    }
}

/// `--insecure`: any certificate is taken (a test server's own), its
/// signatures still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_host_and_port() {
        assert_eq!(
            NetH2::cleartext("//127.0.0.1:8080").unwrap().name(),
            "h2c://127.0.0.1:8080"
        );
        assert_eq!(
            NetH2::tls("//127.0.0.1:8443", true).unwrap().name(),
            "h2://127.0.0.1:8443"
        );
        assert!(matches!(
            NetH2::cleartext("//127.0.0.1"),
            Err(AddressError::NotHostPort(_))
        ));
        assert!(matches!(
            NetH2::cleartext("//:80"),
            Err(AddressError::NotHostPort(_))
        ));
    }

    #[test]
    fn a_client_iut_is_unsupported() {
        let mut t = NetH2::cleartext("//127.0.0.1:9").unwrap();
        assert!(matches!(
            t.open(Role::Client, &H2Settings::MODEL),
            Err(TargetError::Unsupported(_))
        ));
    }
}
