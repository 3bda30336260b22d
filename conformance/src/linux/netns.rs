//! A network namespace of the calling thread's own, with a TUN device in it.
//!
//! Network namespaces are per thread: `unshare(CLONE_NEWNET)` moves only the
//! calling thread, and sockets, `/proc/sys/net` and `/proc/thread-self/net`
//! opened from that thread afterwards belong to the new namespace. Nothing is
//! named (no `ip netns add`, no bind mount): the namespace lives as long as
//! the thread is in it or an fd of it is open, so it disappears when the
//! thread moves on, exits, or the process dies (panic, Ctrl-C, SIGKILL).
//!
//! Everything is done with plain syscalls through `libc` rather than the
//! `tun` / `rtnetlink` crates: it is one `TUNSETIFF` ioctl, three interface
//! ioctls and one netlink message, all synchronous on this thread, and those
//! crates would bring an async runtime (or a second copy of these calls) into
//! a suite that otherwise has none.

use std::ffi::CStr;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The TUN device's name inside the namespace.
pub const TUN_NAME: &CStr = c"tw0";

/// A namespace step that failed, saying which and why.
#[derive(Debug)]
pub struct SetupError {
    pub what: String,
    pub err: io::Error,
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.err)
    }
}

impl SetupError {
    /// Whether the step failed for lack of privilege rather than breakage.
    pub fn is_permission(&self) -> bool {
        matches!(self.err.raw_os_error(), Some(libc::EPERM | libc::EACCES))
    }
}

fn os(what: impl Into<String>) -> SetupError {
    SetupError {
        what: what.into(),
        err: io::Error::last_os_error(),
    }
}

fn check(rc: libc::c_int, what: impl FnOnce() -> String) -> Result<libc::c_int, SetupError> {
    if rc < 0 {
        Err(os(what()))
    } else {
        Ok(rc)
    }
}

/// Moves the calling thread into a fresh, empty network namespace. The one
/// it leaves goes away once nothing else holds it.
pub fn enter_new_netns() -> Result<(), SetupError> {
    // SAFETY: unshare takes flags only; CLONE_NEWNET affects this thread.
    check(unsafe { libc::unshare(libc::CLONE_NEWNET) }, || {
        "unshare(CLONE_NEWNET)".into()
    })?;
    Ok(())
}

/// Writes a sysctl of the calling thread's network namespace
/// (`/proc/sys/net/...` resolves against the opening thread's namespace).
/// `optional` sysctls that this kernel lacks are skipped.
pub fn sysctl(path: &str, value: &str, optional: bool) -> Result<(), SetupError> {
    let full = format!("/proc/sys/{path}");
    match std::fs::write(&full, value) {
        Ok(()) => Ok(()),
        Err(e) if optional && e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(SetupError {
            what: format!("writing {value} to {full}"),
            err,
        }),
    }
}

/// Reads a sysctl of the calling thread's network namespace.
#[cfg(test)]
pub fn read_sysctl(path: &str) -> io::Result<String> {
    Ok(std::fs::read_to_string(format!("/proc/sys/{path}"))?
        .trim()
        .to_string())
}

/// `struct ifreq` as the interface ioctls use it: a name and a 24-byte
/// union, of which we use the flags, the index or a `sockaddr_in`.
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &CStr) -> IfReq {
        let mut r = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        let bytes = name.to_bytes();
        r.name[..bytes.len()].copy_from_slice(bytes);
        r
    }

    fn set_short(&mut self, v: i16) {
        self.data[..2].copy_from_slice(&v.to_ne_bytes());
    }

    fn short(&self) -> i16 {
        i16::from_ne_bytes([self.data[0], self.data[1]])
    }

    fn int(&self) -> i32 {
        i32::from_ne_bytes([self.data[0], self.data[1], self.data[2], self.data[3]])
    }

    fn set_addr(&mut self, a: Ipv4Addr) {
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(a.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: sockaddr_in is 16 plain bytes; data has room for them.
        let raw: [u8; 16] = unsafe { std::mem::transmute(sin) };
        self.data[..16].copy_from_slice(&raw);
    }
}

fn ioctl(fd: &OwnedFd, req: libc::c_ulong, ifr: &mut IfReq, what: &str) -> Result<(), SetupError> {
    // SAFETY: every request used here reads or writes one `struct ifreq`.
    check(
        unsafe { libc::ioctl(fd.as_raw_fd(), req as _, ifr as *mut IfReq) },
        || what.to_string(),
    )?;
    Ok(())
}

/// A socket of the calling thread's namespace, closed on drop.
pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; on success we own the new fd.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens `/dev/net/tun` and makes `TUN_NAME` (IFF_TUN | IFF_NO_PI: raw IP
/// packets, no packet-information header), nonblocking.
pub fn open_tun() -> Result<OwnedFd, SetupError> {
    // SAFETY: a constant C path; on success we own the new fd.
    let fd = check(
        unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        },
        || "opening /dev/net/tun".into(),
    )?;
    // SAFETY: fd is fresh and ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut ifr = IfReq::new(TUN_NAME);
    ifr.set_short((libc::IFF_TUN | libc::IFF_NO_PI) as i16);
    // SAFETY: TUNSETIFF reads one struct ifreq.
    check(
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &mut ifr as *mut IfReq) },
        || "ioctl(TUNSETIFF)".into(),
    )?;
    Ok(fd)
}

/// Brings `name` up, with `addr/prefix` when given; returns its index.
pub fn configure_if(name: &CStr, addr: Option<(Ipv4Addr, u8)>) -> Result<u32, SetupError> {
    let ctl = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).map_err(|err| SetupError {
        what: "socket(AF_INET, SOCK_DGRAM)".into(),
        err,
    })?;
    let dev = name.to_string_lossy();
    if let Some((a, prefix)) = addr {
        let mut ifr = IfReq::new(name);
        ifr.set_addr(a);
        ioctl(
            &ctl,
            libc::SIOCSIFADDR,
            &mut ifr,
            &format!("SIOCSIFADDR {dev}"),
        )?;
        let mask = Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0));
        let mut ifr = IfReq::new(name);
        ifr.set_addr(mask);
        ioctl(
            &ctl,
            libc::SIOCSIFNETMASK,
            &mut ifr,
            &format!("SIOCSIFNETMASK {dev}"),
        )?;
    }
    let mut ifr = IfReq::new(name);
    ioctl(
        &ctl,
        libc::SIOCGIFFLAGS,
        &mut ifr,
        &format!("SIOCGIFFLAGS {dev}"),
    )?;
    let flags = ifr.short() | libc::IFF_UP as i16;
    ifr.set_short(flags);
    ioctl(
        &ctl,
        libc::SIOCSIFFLAGS,
        &mut ifr,
        &format!("SIOCSIFFLAGS {dev}"),
    )?;
    let mut ifr = IfReq::new(name);
    ioctl(
        &ctl,
        libc::SIOCGIFINDEX,
        &mut ifr,
        &format!("SIOCGIFINDEX {dev}"),
    )?;
    Ok(ifr.int() as u32)
}

// Route metrics (linux/rtnetlink.h, `enum RTAX_*`).
const RTAX_LOCK: u16 = 1;
const RTAX_RTO_MIN: u16 = 13;
const RTAX_QUICKACK: u16 = 15;

fn push_attr(buf: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(payload);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// Adds a host route to `dst` through interface `oif` with two metrics
/// (the `ip route add DST/32 dev IF quickack 1 rto_min lock MS` of
/// iproute2): `quickack` so the kernel acknowledges at once instead of
/// delaying ACKs by up to 200 ms, and a locked `rto_min` so that the
/// retransmission timeout after an RTT sample is the profile's.
pub fn add_host_route(dst: Ipv4Addr, oif: u32, rto_min_ms: u32) -> Result<(), SetupError> {
    let nl = socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE).map_err(|err| {
        SetupError {
            what: "socket(AF_NETLINK)".into(),
            err,
        }
    })?;
    let mut metrics = Vec::new();
    push_attr(
        &mut metrics,
        RTAX_LOCK,
        &(1u32 << RTAX_RTO_MIN).to_ne_bytes(),
    );
    push_attr(&mut metrics, RTAX_RTO_MIN, &rto_min_ms.to_ne_bytes());
    push_attr(&mut metrics, RTAX_QUICKACK, &1u32.to_ne_bytes());
    let mut body = vec![
        libc::AF_INET as u8, // rtm_family
        32,                  // rtm_dst_len
        0,                   // rtm_src_len
        0,                   // rtm_tos
        libc::RT_TABLE_MAIN,
        libc::RTPROT_STATIC,
        libc::RT_SCOPE_LINK,
        libc::RTN_UNICAST,
    ];
    body.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    push_attr(&mut body, libc::RTA_DST, &dst.octets());
    push_attr(&mut body, libc::RTA_OIF, &oif.to_ne_bytes());
    push_attr(&mut body, libc::RTA_METRICS, &metrics);
    let mut msg = Vec::with_capacity(16 + body.len());
    msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&libc::RTM_NEWROUTE.to_ne_bytes());
    let flags = libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL;
    msg.extend_from_slice(&(flags as u16).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
    msg.extend_from_slice(&body);
    // SAFETY: msg is a valid buffer of msg.len() bytes.
    let sent = unsafe { libc::send(nl.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
    check(sent as libc::c_int, || "sending RTM_NEWROUTE".into())?;
    let mut reply = [0u8; 1024];
    // SAFETY: reply is a valid writable buffer.
    let n = unsafe { libc::recv(nl.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0) };
    check(n as libc::c_int, || {
        "reading the RTM_NEWROUTE answer".into()
    })?;
    let ty = u16::from_ne_bytes([reply[4], reply[5]]);
    if n < 20 || i32::from(ty) != libc::NLMSG_ERROR {
        return Err(SetupError {
            what: "RTM_NEWROUTE".into(),
            err: io::Error::other(format!("unexpected netlink answer of type {ty}")),
        });
    }
    let errno = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
    if errno != 0 {
        return Err(SetupError {
            what: format!("RTM_NEWROUTE {dst}/32 quickack 1 rto_min lock {rto_min_ms}ms"),
            err: io::Error::from_raw_os_error(-errno),
        });
    }
    Ok(())
}
