//! The IUT's RFC state from `/proc/thread-self/net/tcp`: the TCP sockets of
//! the calling thread's network namespace, including the kernel's mini
//! sockets that have no fd (a listener's half-open requests, TIME-WAIT), which
//! `TCP_INFO` on an fd cannot show.

use crate::target::{HARNESS_PORT, IUT_PORT};
use crate::trace::TcpState;

/// The kernel's `TCP_*` state numbers (include/net/tcp_states.h).
fn rfc_state(st: u8) -> Option<TcpState> {
    Some(match st {
        0x01 => TcpState::Established,
        0x02 => TcpState::SynSent,
        // 0x0C, TCP_NEW_SYN_RECV, is shown as SYN_RECV.
        0x03 | 0x0C => TcpState::SynReceived,
        0x04 => TcpState::FinWait1,
        0x05 => TcpState::FinWait2,
        0x06 => TcpState::TimeWait,
        0x07 => TcpState::Closed,
        0x08 => TcpState::CloseWait,
        0x09 => TcpState::LastAck,
        0x0A => TcpState::Listen,
        0x0B => TcpState::Closing,
        _ => return None,
    })
}

/// The state of the IUT's side: the connection between `IUT_PORT` and
/// `HARNESS_PORT` if the kernel has one, else a listener on `IUT_PORT`,
/// else CLOSED. `None` for a table that cannot be read.
pub fn iut_state(table: &str) -> Option<TcpState> {
    let mut listener = false;
    for line in table.lines().skip(1) {
        let mut f = line.split_whitespace();
        let (Some(_sl), Some(local), Some(remote), Some(st)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return None;
        };
        let port = |a: &str| {
            a.rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok())
        };
        let st = u8::from_str_radix(st, 16).ok()?;
        if port(local)? != IUT_PORT {
            continue;
        }
        if port(remote)? == HARNESS_PORT {
            return rfc_state(st);
        }
        if st == 0x0A {
            listener = true;
        }
    }
    Some(if listener {
        TcpState::Listen
    } else {
        TcpState::Closed
    })
}

/// The state of a listener on `IUT_PORT`, whatever connections it holds in
/// its queues: LISTEN while the listening socket is open, else CLOSED. The
/// listener corpus checks the listener, whose half-open and accepted
/// connections are its queues' business (RFC 9293 §3.10.7.2, RFC 4987).
pub fn listener_state(table: &str) -> Option<TcpState> {
    let mut listening = false;
    for line in table.lines().skip(1) {
        let mut f = line.split_whitespace();
        let (Some(_sl), Some(local), Some(_remote), Some(st)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return None;
        };
        let port = local
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())?;
        listening |= port == IUT_PORT && u8::from_str_radix(st, 16).ok()? == 0x0A;
    }
    Some(if listening {
        TcpState::Listen
    } else {
        TcpState::Closed
    })
}

/// The table of the calling thread's namespace.
fn table() -> Option<String> {
    std::fs::read_to_string("/proc/thread-self/net/tcp").ok()
}

/// The IUT's state, as [`iut_state`] reads it off this namespace's table.
pub fn read() -> Option<TcpState> {
    iut_state(&table()?)
}

/// The listener's state, as [`listener_state`] reads it off this
/// namespace's table.
pub fn read_listener() -> Option<TcpState> {
    listener_state(&table()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    #[test]
    fn the_connection_wins_over_the_listener() {
        let t = format!(
            "{HEAD}   0: 020200C0:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   1: 020200C0:1388 010200C0:9C40 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 0\n"
        );
        assert_eq!(iut_state(&t), Some(TcpState::TimeWait));
    }

    #[test]
    fn a_listener_alone_is_listen_and_nothing_is_closed() {
        let t = format!(
            "{HEAD}   0: 020200C0:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        );
        assert_eq!(iut_state(&t), Some(TcpState::Listen));
        assert_eq!(iut_state(HEAD), Some(TcpState::Closed));
        assert_eq!(iut_state(&format!("{HEAD}garbage\n")), None);
    }

    #[test]
    fn a_listener_with_queued_connections_is_listen() {
        let t = format!(
            "{HEAD}   0: 020200C0:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   1: 020200C0:1388 010200C0:9C40 01 00000000:00000000 00:00000000 00000000     0        0 0 3 0\n"
        );
        assert_eq!(listener_state(&t), Some(TcpState::Listen));
        assert_eq!(iut_state(&t), Some(TcpState::Established));
        let queued_only = format!(
            "{HEAD}   1: 020200C0:1388 010200C0:9C40 01 00000000:00000000 00:00000000 00000000     0        0 0 3 0\n"
        );
        assert_eq!(listener_state(&queued_only), Some(TcpState::Closed));
    }
}
