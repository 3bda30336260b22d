//! The `smoltcp` target: smoltcp's TCP socket, driven in-process on a
//! virtual clock through a `phy::Device` of ours.
//!
//! The device is two queues: IPv4 packets from the harness waiting to be
//! received, and packets the stack transmitted. Segments cross it as real
//! IPv4 packets (`crate::wire`), so smoltcp parses and checksums them as it
//! would on a wire. The interface is `Medium::Ip` with address
//! [`IUT_ADDR`]/24, and the harness is [`HARNESS_ADDR`] on the same subnet.
//! Each `open()` makes a fresh `Interface`, `SocketSet` and TCP socket.
//!
//! Time is smoltcp's `Instant`, which we set: `advance(d)` jumps from one
//! `Interface::poll_at` deadline to the next until `d` has passed, so a
//! TIME-WAIT costs no wall time and a retransmission's timing is exact.
//!
//! One setting departs from smoltcp's defaults, and it is the harness's
//! choice, not smoltcp's behaviour: the delayed ACK (10 ms by default,
//! `ACK_DELAY_DEFAULT` in `src/socket/tcp.rs`) is off
//! (`Socket::set_ack_delay(None)`), as a Linux test would set TCP_QUICKACK.
//! RFC 9293 §3.8.6.3 allows delaying an ACK; the model does not describe
//! it, and a trace cannot say "an ACK within 500 ms".

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium, PcapMode, PcapWriter};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use crate::profile::Profile;
use crate::target::{Clock, Segment, Target, TargetError, HARNESS_PORT, IUT_PORT};
use crate::trace::{AppCall, Role, TcpState};
use crate::wire::{decode_ipv4, encode_ipv4, HARNESS_ADDR, IUT_ADDR};

/// The interface's random seed: smoltcp draws its ISN from it, so a fixed
/// seed makes every replay (and the report) the same.
const RANDOM_SEED: u64 = 0x7472_6163_6577_7269;
/// Socket buffers, each way: larger than any trace's data.
const BUFFER: usize = 65_535;
/// A timer that fires this often at one instant without moving on is a
/// broken target, not a long wait.
const MAX_STEPS: usize = 100_000;

/// The in-process wire: packets for the stack, packets from it.
#[derive(Default)]
pub struct Wire {
    to_stack: std::collections::VecDeque<Vec<u8>>,
    from_stack: Vec<Vec<u8>>,
}

pub struct WireRx(Vec<u8>);
pub struct WireTx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for WireRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for WireTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl Device for Wire {
    type RxToken<'a> = WireRx;
    type TxToken<'a> = WireTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(WireRx, WireTx<'_>)> {
        let p = self.to_stack.pop_front()?;
        Some((WireRx(p), WireTx(&mut self.from_stack)))
    }

    fn transmit(&mut self, _: Instant) -> Option<WireTx<'_>> {
        Some(WireTx(&mut self.from_stack))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

/// Where smoltcp's `PcapWriter` writes: a file when capturing, nowhere
/// otherwise (so the device has one type either way).
pub struct Sink(Option<BufWriter<File>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(f) => f.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

type Dev = PcapWriter<Wire, Sink>;

struct Iut {
    device: Dev,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
}

pub struct SmoltcpTarget {
    iut: Option<Iut>,
    now: Instant,
    capture: Option<PathBuf>,
    role: Role,
    /// Bytes the application has read on the current connection.
    delivered: u64,
}

impl Default for SmoltcpTarget {
    fn default() -> Self {
        Self::new()
    }
}

pub fn state_of(s: tcp::State) -> TcpState {
    use tcp::State as S;
    match s {
        S::Closed => TcpState::Closed,
        S::Listen => TcpState::Listen,
        S::SynSent => TcpState::SynSent,
        S::SynReceived => TcpState::SynReceived,
        S::Established => TcpState::Established,
        S::FinWait1 => TcpState::FinWait1,
        S::FinWait2 => TcpState::FinWait2,
        S::CloseWait => TcpState::CloseWait,
        S::Closing => TcpState::Closing,
        S::LastAck => TcpState::LastAck,
        S::TimeWait => TcpState::TimeWait,
    }
}

impl SmoltcpTarget {
    pub fn new() -> Self {
        SmoltcpTarget {
            iut: None,
            now: Instant::ZERO,
            capture: None,
            role: Role::Server,
            delivered: 0,
        }
    }

    /// Reads what the socket received into the count, as an application
    /// that reads promptly would. (A 1-byte read never doubles the window,
    /// which is when smoltcp sends a window update.)
    fn read(&mut self) {
        let Some(iut) = self.iut.as_mut() else { return };
        let socket = iut.sockets.get_mut::<tcp::Socket>(iut.handle);
        let mut buf = [0u8; 4096];
        while socket.can_recv() {
            match socket.recv_slice(&mut buf) {
                Ok(n) if n > 0 => self.delivered += n as u64,
                _ => break,
            }
        }
    }

    fn iut(&mut self) -> Result<&mut Iut, TargetError> {
        self.iut
            .as_mut()
            .ok_or_else(|| TargetError::Broken("no interface: open() was not called".into()))
    }

    /// Polls the interface at `now` until it has nothing more to do, and
    /// returns what it transmitted.
    fn poll_now(&mut self) -> Result<Vec<Segment>, TargetError> {
        let now = self.now;
        // What arrived before the segments this poll processes is read
        // first, as the bundled target reads before each segment.
        self.read();
        let iut = self.iut()?;
        let before = iut.sockets.get::<tcp::Socket>(iut.handle).state();
        iut.iface.poll(now, &mut iut.device, &mut iut.sockets);
        let after = iut.sockets.get::<tcp::Socket>(iut.handle).state();
        let packets = std::mem::take(&mut iut.device.get_mut().from_stack);
        if before == tcp::State::TimeWait && after == tcp::State::SynReceived {
            // A SYN reopened TIME-WAIT: a new connection (as the bundled
            // target counts it, should smoltcp ever do so).
            self.delivered = 0;
        }
        let mut out = Vec::new();
        for packet in packets {
            let d = decode_ipv4(&packet).map_err(|e| {
                TargetError::Broken(format!("smoltcp transmitted a packet we cannot read: {e}"))
            })?;
            out.push(d.segment);
        }
        Ok(out)
    }
}

impl Target for SmoltcpTarget {
    fn name(&self) -> &str {
        "smoltcp"
    }

    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn open(&mut self, role: Role, _profile: &Profile) -> Result<(), TargetError> {
        // smoltcp has no knob for the profile's parameters (RTO, MSL, retry
        // counts are constants in src/socket/tcp.rs): profiles/smoltcp.yaml
        // describes them instead.
        self.now = Instant::ZERO;
        self.role = role;
        self.delivered = 0;
        let sink = match &self.capture {
            None => Sink(None),
            Some(path) => Sink(Some(BufWriter::new(File::create(path).map_err(|e| {
                TargetError::Broken(format!("capture {}: {e}", path.display()))
            })?))),
        };
        let mut device = PcapWriter::new(Wire::default(), sink, PcapMode::Both);
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = RANDOM_SEED;
        let mut iface = Interface::new(config, &mut device, self.now);
        let [a, b, c, d] = IUT_ADDR.octets();
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::v4(a, b, c, d), 24))
                .expect("one address fits");
        });
        let [a, b, c, d] = HARNESS_ADDR.octets();
        // The harness is on the interface's subnet; a default route to it
        // covers any address a trace might use.
        iface
            .routes_mut()
            .add_default_ipv4_route(Ipv4Address::new(a, b, c, d))
            .map_err(|e| TargetError::Broken(format!("route: {e:?}")))?;
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUFFER]),
            tcp::SocketBuffer::new(vec![0; BUFFER]),
        );
        socket.set_ack_delay(None);
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(socket);
        self.iut = Some(Iut {
            device,
            iface,
            sockets,
            handle,
        });
        Ok(())
    }

    fn app(&mut self, call: &AppCall) -> Result<(), TargetError> {
        if matches!(call, AppCall::Listen | AppCall::Connect) {
            // A new connection: what the application reads starts afresh.
            self.read();
            self.delivered = 0;
        }
        let iut = self.iut()?;
        let socket = iut.sockets.get_mut::<tcp::Socket>(iut.handle);
        // A call smoltcp refuses in this state (`InvalidState`) is the IUT's
        // answer, as for the bundled target: the trace then sees what it
        // emits, or that it emits nothing.
        match call {
            AppCall::Accept => {
                return Err(TargetError::Unsupported(
                    "accept(): the listener corpus (several peers) is not wired to this target yet"
                        .into(),
                ))
            }
            AppCall::Listen => {
                let _ = socket.listen(IUT_PORT);
            }
            AppCall::Connect => {
                let [a, b, c, d] = HARNESS_ADDR.octets();
                let remote = (IpAddress::v4(a, b, c, d), HARNESS_PORT);
                let _ = socket.connect(iut.iface.context(), remote, IUT_PORT);
            }
            AppCall::Send(n) => {
                let data: Vec<u8> = (0..*n).map(|k| b'A' + (k % 26) as u8).collect();
                match socket.send_slice(&data) {
                    Ok(sent) if sent < data.len() => {
                        return Err(TargetError::Broken(format!(
                            "smoltcp took {sent} of {} bytes: the send buffer is too small",
                            data.len()
                        )))
                    }
                    _ => {}
                }
            }
            AppCall::Close => socket.close(),
            AppCall::Abort => socket.abort(),
            // smoltcp's close() is full-duplex (the application may still
            // receive), the only CLOSE it has: what it sends is its answer.
            AppCall::CloseUnread => socket.close(),
            AppCall::ShutdownRead => {
                return Err(TargetError::Unsupported(
                    "smoltcp's TCP socket has no call to shut down reading".into(),
                ))
            }
        }
        Ok(())
    }

    fn try_app(&mut self, call: &AppCall) -> Result<Option<String>, TargetError> {
        let iut = self.iut()?;
        let socket = iut.sockets.get_mut::<tcp::Socket>(iut.handle);
        // `InvalidState` is smoltcp's "connection already exists".
        let answer = match call {
            AppCall::Listen => socket.listen(IUT_PORT).err().map(|e| format!("{e:?}")),
            AppCall::Connect => {
                let [a, b, c, d] = HARNESS_ADDR.octets();
                let remote = (IpAddress::v4(a, b, c, d), HARNESS_PORT);
                socket
                    .connect(iut.iface.context(), remote, IUT_PORT)
                    .err()
                    .map(|e| format!("{e:?}"))
            }
            other => return self.app(other).map(|()| None),
        };
        Ok(answer)
    }

    fn deliver(&mut self, seg: Segment) -> Result<(), TargetError> {
        let packet = encode_ipv4(&seg, HARNESS_ADDR, IUT_ADDR, None);
        self.iut()?.device.get_mut().to_stack.push_back(packet);
        Ok(())
    }

    fn advance(&mut self, d: Duration) -> Result<Vec<(Duration, Segment)>, TargetError> {
        let start = self.now;
        let end = start + smoltcp::time::Duration::from_micros(d.as_micros() as u64);
        let offset = |t: Instant| Duration::from_micros((t - start).total_micros());
        let mut out = Vec::new();
        // What is due now goes out at offset 0 (`poll` would have taken it).
        for s in self.poll_now()? {
            out.push((Duration::ZERO, s));
        }
        let mut steps = 0;
        loop {
            let now = self.now;
            let iut = self.iut()?;
            match iut.iface.poll_at(now, &iut.sockets) {
                Some(t) if t <= end => {
                    steps += 1;
                    if steps > MAX_STEPS {
                        return Err(TargetError::Broken(format!(
                            "a timer keeps firing at {} ms without moving on",
                            self.now.total_millis()
                        )));
                    }
                    self.now = t.max(self.now);
                    for s in self.poll_now()? {
                        out.push((offset(self.now), s));
                    }
                }
                _ => break,
            }
        }
        self.now = end;
        Ok(out)
    }

    fn poll(&mut self) -> Result<Vec<Segment>, TargetError> {
        self.poll_now()
    }

    fn state(&mut self) -> Option<TcpState> {
        let iut = self.iut.as_mut()?;
        Some(state_of(iut.sockets.get::<tcp::Socket>(iut.handle).state()))
    }

    fn delivered(&mut self) -> Result<Option<u64>, TargetError> {
        if self.role == Role::Listener {
            return Ok(None);
        }
        self.iut()?;
        self.read();
        Ok(Some(self.delivered))
    }

    fn close(&mut self) {
        // Dropping the device flushes and closes the capture file, if any.
        self.iut = None;
    }

    fn capture(&mut self, path: Option<&Path>) -> Result<(), TargetError> {
        self.capture = path.map(Path::to_path_buf);
        Ok(())
    }
}
