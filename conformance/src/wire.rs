//! Segments as IPv4 packets, for targets that take raw IP (smoltcp through a
//! `phy::Device`, the kernel through a TUN device). Building and parsing go
//! through `etherparse`; only the mapping to our [`Segment`] is ours.
//!
//! Addresses come from RFC 5737's TEST-NET-1 and are only ever used inside
//! a stack the suite made itself (an in-process interface, or a network
//! namespace of its own).

use std::net::Ipv4Addr;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};

use crate::target::Segment;
use crate::trace::Flags;

/// The harness's address (RFC 5737 TEST-NET-1).
pub const HARNESS_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The IUT's address (RFC 5737 TEST-NET-1).
pub const IUT_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// The IPv4 TTL of harness packets.
const TTL: u8 = 64;

/// A packet that is not a TCP segment over IPv4, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("malformed packet: {0}")]
    Malformed(String),
    #[error("not TCP over IPv4 ({0})")]
    NotTcp(&'static str),
}

/// A TCP segment read off the wire, with what `Segment` leaves out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub segment: Segment,
    /// The MSS option, if the segment carries one (RFC 9293 §3.7.1).
    pub mss: Option<u16>,
}

/// An IPv4 packet carrying `seg` from `src` to `dst`, checksums filled in.
/// `mss`, if given, is sent as the MSS option (on a SYN, RFC 9293 §3.7.1).
pub fn encode_ipv4(seg: &Segment, src: Ipv4Addr, dst: Ipv4Addr, mss: Option<u16>) -> Vec<u8> {
    let mut b = PacketBuilder::ipv4(src.octets(), dst.octets(), TTL).tcp(
        seg.src_port,
        seg.dst_port,
        seg.seq,
        seg.window,
    );
    if seg.flags.syn {
        b = b.syn();
    }
    if seg.flags.fin {
        b = b.fin();
    }
    if seg.flags.rst {
        b = b.rst();
    }
    if seg.flags.psh {
        b = b.psh();
    }
    if seg.flags.ack {
        b = b.ack(seg.ack);
    }
    if let Some(mss) = mss {
        b = b
            .options(&[etherparse::TcpOptionElement::MaximumSegmentSize(mss)])
            .expect("one MSS option fits the TCP header");
    }
    let mut out = Vec::with_capacity(b.size(seg.payload.len()));
    b.write(&mut out, &seg.payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// The TCP segment in an IPv4 packet.
pub fn decode_ipv4(packet: &[u8]) -> Result<Decoded, WireError> {
    let sliced = SlicedPacket::from_ip(packet).map_err(|e| WireError::Malformed(e.to_string()))?;
    let (src, dst) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => (ip.header().source_addr(), ip.header().destination_addr()),
        Some(NetSlice::Ipv6(_)) => return Err(WireError::NotTcp("IPv6")),
        _ => return Err(WireError::NotTcp("no IP header")),
    };
    let tcp = match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => t,
        Some(TransportSlice::Udp(_)) => return Err(WireError::NotTcp("UDP")),
        Some(TransportSlice::Icmpv4(_)) => return Err(WireError::NotTcp("ICMP")),
        _ => return Err(WireError::NotTcp("other transport")),
    };
    let mss = tcp.options_iterator().find_map(|o| match o {
        Ok(etherparse::TcpOptionElement::MaximumSegmentSize(m)) => Some(m),
        _ => None,
    });
    Ok(Decoded {
        src,
        dst,
        mss,
        segment: Segment {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: Flags {
                syn: tcp.syn(),
                fin: tcp.fin(),
                rst: tcp.rst(),
                psh: tcp.psh(),
                ack: tcp.ack(),
            },
            window: tcp.window_size(),
            payload: tcp.payload().to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_survives_the_round_trip() {
        let seg = Segment {
            src_port: 40000,
            dst_port: 5000,
            seq: 0x0100_0000,
            ack: 77,
            flags: Flags {
                syn: false,
                fin: true,
                rst: false,
                psh: true,
                ack: true,
            },
            window: 1234,
            payload: b"hello".to_vec(),
        };
        let bytes = encode_ipv4(&seg, HARNESS_ADDR, IUT_ADDR, None);
        let d = decode_ipv4(&bytes).unwrap();
        assert_eq!((d.src, d.dst, d.mss), (HARNESS_ADDR, IUT_ADDR, None));
        assert_eq!(d.segment, seg);
        let syn = Segment {
            flags: Flags {
                syn: true,
                ..Flags::default()
            },
            ack: 0,
            payload: vec![],
            ..seg
        };
        let d = decode_ipv4(&encode_ipv4(&syn, IUT_ADDR, HARNESS_ADDR, Some(1460))).unwrap();
        assert_eq!(d.mss, Some(1460));
        assert_eq!(d.segment, syn);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_ipv4(&[0x45, 0, 0]),
            Err(WireError::Malformed(_))
        ));
        assert!(decode_ipv4(&[]).is_err());
    }
}
