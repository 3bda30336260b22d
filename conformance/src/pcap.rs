//! A pcap file of raw IP packets (`LINKTYPE_RAW`, 101), for targets whose
//! wire the harness sees whole and no library writes for it (the bundled
//! HTTP/2 connection, whose byte stream is written as the TCP segments of
//! one connection so that Wireshark's HTTP/2 dissector reads it), and the
//! wrappers that capture any target through the harness ([`CapturedTcp`],
//! [`CapturedH2`]): what it delivers and what comes back.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::h2::{H2App, H2Settings, H2Target, StreamState};
use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, TargetError, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, Flags, Role, TcpState, Wait};
use crate::wire::{encode_ipv4, HARNESS_ADDR, IUT_ADDR};

/// `LINKTYPE_RAW`: an IPv4 or IPv6 packet without a link header.
const LINKTYPE_RAW: u32 = 101;

pub struct PcapFile {
    out: BufWriter<File>,
}

impl PcapFile {
    /// A new file with pcap's global header (version 2.4, microseconds).
    pub fn create(path: &Path) -> io::Result<PcapFile> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65_535u32.to_le_bytes())?;
        out.write_all(&LINKTYPE_RAW.to_le_bytes())?;
        Ok(PcapFile { out })
    }

    /// One packet, stamped `at` from the start of the capture.
    pub fn packet(&mut self, at: Duration, data: &[u8]) -> io::Result<()> {
        self.out.write_all(&(at.as_secs() as u32).to_le_bytes())?;
        self.out.write_all(&at.subsec_micros().to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.flush()
    }
}

/// A byte stream both ways (harness and IUT) written as the data segments
/// of one TCP connection between the harness's and the IUT's ports, with
/// sequence numbers counting the bytes.
pub struct StreamCapture {
    file: PcapFile,
    /// The next sequence number of the harness and of the IUT.
    seq: [u32; 2],
    /// Packets written, one microsecond apart to keep their order.
    count: u64,
}

impl StreamCapture {
    pub fn create(path: &Path) -> io::Result<StreamCapture> {
        Ok(StreamCapture {
            file: PcapFile::create(path)?,
            seq: [1, 1],
            count: 0,
        })
    }

    /// `bytes` sent by the harness (`from_harness`) or by the IUT.
    pub fn bytes(&mut self, from_harness: bool, bytes: &[u8]) -> io::Result<()> {
        // Below a 65 535-byte IP packet with its 40 bytes of headers.
        for chunk in bytes.chunks(60_000) {
            let (me, peer) = if from_harness { (0, 1) } else { (1, 0) };
            let (src_port, dst_port) = if from_harness {
                (HARNESS_PORT, IUT_PORT)
            } else {
                (IUT_PORT, HARNESS_PORT)
            };
            let seg = Segment {
                src_port,
                dst_port,
                seq: self.seq[me],
                ack: self.seq[peer],
                flags: Flags {
                    psh: true,
                    ack: true,
                    ..Flags::default()
                },
                window: u16::MAX,
                payload: chunk.to_vec(),
            };
            let (src, dst) = if from_harness {
                (HARNESS_ADDR, IUT_ADDR)
            } else {
                (IUT_ADDR, HARNESS_ADDR)
            };
            self.seq[me] = self.seq[me].wrapping_add(chunk.len() as u32);
            self.file.packet(
                Duration::from_micros(self.count),
                &encode_ipv4(&seg, src, dst, None),
            )?;
            self.count += 1;
        }
        Ok(())
    }
}

/// Any TCP target, captured by the harness: every segment it delivers and
/// every one the IUT emits, as IPv4 packets (`LINKTYPE_RAW`), stamped with
/// the trace's time as the harness sees it (the waits it let pass on a
/// virtual clock, the time since `open` on a real one). For targets that
/// have no wire of their own to capture: the bundled stack, exec adapters.
pub struct CapturedTcp {
    inner: Box<dyn Target>,
    to: Option<PathBuf>,
    file: Option<PcapFile>,
    /// Virtual time: the waits let pass since `open`.
    waited: Duration,
    opened: Instant,
}

impl CapturedTcp {
    pub fn new(inner: Box<dyn Target>) -> CapturedTcp {
        CapturedTcp {
            inner,
            to: None,
            file: None,
            waited: Duration::ZERO,
            opened: Instant::now(),
        }
    }

    fn now(&self) -> Duration {
        match self.inner.clock() {
            Clock::Virtual => self.waited,
            Clock::Real { .. } => self.opened.elapsed(),
        }
    }

    fn record(&mut self, at: Duration, seg: &Segment) -> Result<(), TargetError> {
        let from_harness = seg.dst_port == IUT_PORT;
        let (src, dst) = if from_harness {
            (HARNESS_ADDR, IUT_ADDR)
        } else {
            (IUT_ADDR, HARNESS_ADDR)
        };
        if let Some(f) = &mut self.file {
            f.packet(at, &encode_ipv4(seg, src, dst, None))
                .map_err(|e| TargetError::Broken(format!("writing the capture: {e}")))?;
        }
        Ok(())
    }
}

impl Target for CapturedTcp {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn clock(&self) -> Clock {
        self.inner.clock()
    }
    fn resolve_wait(&self, w: Wait, profile: &Profile) -> Duration {
        self.inner.resolve_wait(w, profile)
    }
    fn timer_slack(&self, wait: Duration) -> Duration {
        self.inner.timer_slack(wait)
    }
    fn open(&mut self, role: Role, profile: &Profile) -> Result<(), TargetError> {
        self.file =
            match &self.to {
                Some(path) => Some(PcapFile::create(path).map_err(|e| {
                    TargetError::Broken(format!("creating {}: {e}", path.display()))
                })?),
                None => None,
            };
        self.waited = Duration::ZERO;
        self.opened = Instant::now();
        self.inner.open(role, profile)
    }
    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        self.inner.app(call)
    }
    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        self.inner.try_app(call)
    }
    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        self.record(self.now(), &seg)?;
        self.inner.deliver(seg)
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let start = self.now();
        let out = self.inner.advance(d)?;
        for (at, seg) in &out {
            self.record(start + *at, seg)?;
        }
        self.waited += d;
        Ok(out)
    }
    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        let out = self.inner.poll()?;
        let now = self.now();
        for seg in &out {
            self.record(now, seg)?;
        }
        Ok(out)
    }
    fn state(&mut self) -> Option<TcpState> {
        self.inner.state()
    }
    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        self.inner.delivered()
    }
    fn close(&mut self) {
        self.file = None;
        self.inner.close()
    }
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.to = path.map(Path::to_path_buf);
        Ok(())
    }
}

/// Any HTTP/2 target, captured by the harness: the connection's bytes both
/// ways as the data segments of one TCP connection ([`StreamCapture`];
/// Wireshark: Decode As… HTTP2). For targets whose connection the harness
/// holds no socket of (the h2 crate in-process, h2exec adapters, client
/// programs).
pub struct CapturedH2 {
    inner: Box<dyn H2Target>,
    to: Option<PathBuf>,
    stream: Option<StreamCapture>,
}

impl CapturedH2 {
    pub fn new(inner: Box<dyn H2Target>) -> CapturedH2 {
        CapturedH2 {
            inner,
            to: None,
            stream: None,
        }
    }

    fn record(&mut self, from_harness: bool, bytes: &[u8]) -> Result<(), TargetError> {
        match &mut self.stream {
            Some(s) if !bytes.is_empty() => s
                .bytes(from_harness, bytes)
                .map_err(|e| TargetError::Broken(format!("writing the capture: {e}"))),
            _ => Ok(()),
        }
    }
}

impl H2Target for CapturedH2 {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn clock(&self) -> Clock {
        self.inner.clock()
    }
    fn open(&mut self, role: Role, settings: &H2Settings) -> Result<(), TargetError> {
        self.stream =
            match &self.to {
                Some(path) => Some(StreamCapture::create(path).map_err(|e| {
                    TargetError::Broken(format!("creating {}: {e}", path.display()))
                })?),
                None => None,
            };
        self.inner.open(role, settings)
    }
    fn app(&mut self, call: &H2App) -> Result<(), TargetError> {
        self.inner.app(call)
    }
    fn deliver(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.record(true, bytes)?;
        self.inner.deliver(bytes)
    }
    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        let out = self.inner.poll()?;
        self.record(false, &out)?;
        Ok(out)
    }
    fn advance(&mut self, d: Duration) -> Result<Vec<u8>, TargetError> {
        let out = self.inner.advance(d)?;
        self.record(false, &out)?;
        Ok(out)
    }
    fn stream_state(&mut self, stream: u32) -> Result<Option<StreamState>, TargetError> {
        self.inner.stream_state(stream)
    }
    fn close(&mut self) {
        self.stream = None;
        self.inner.close()
    }
    fn closed(&self) -> bool {
        self.inner.closed()
    }
    fn autonomous(&self) -> bool {
        self.inner.autonomous()
    }
    fn push_requests(&mut self, streams: &[u32]) -> Option<String> {
        self.inner.push_requests(streams)
    }
    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.to = path.map(Path::to_path_buf);
        Ok(())
    }
}
