//! The model configurations the commands explore, in one place: the TCP
//! model a profile and the network budgets give (`check`, `explore`,
//! `generate`), and the HTTP/2 configurations `check h2` and `explore h2`
//! walk. The CLI only parses the flags into [`TcpOptions`] and prints.

use tracewright_vocab::profile::Profile;

use crate::h2::{H2Config, H2Model, CLIENT, SERVER};
use crate::tcp::{TcpConfig, TcpModel};

/// What a user may change of the TCP model on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Segments the network may lose; `None`: the command's default.
    pub loss: Option<u8>,
    /// Segments the network may duplicate.
    pub dup: u8,
    /// A second incarnation on the same address pair (RFC 9293 §3.4.1).
    pub incarnations: bool,
    /// The client's first SYN carries data (RFC 7413 §3, RFC 9293 §3.10.7.2).
    pub syn_data: bool,
}

/// The TCP model of `profile` with `opts`. With a second incarnation or
/// data on the SYN, the loss budget defaults to that scenario's own; else
/// to `default_loss` of the profile's configuration (2 for `check`, one
/// more than the largest retry limit for `generate`).
pub fn tcp_model(
    profile: &Profile,
    opts: &TcpOptions,
    default_loss: impl Fn(&TcpConfig) -> u8,
) -> Result<TcpModel, String> {
    let cfg = TcpConfig::from_profile(profile)?;
    let cfg = if opts.incarnations {
        cfg.with_incarnations()
    } else if opts.syn_data {
        cfg.with_syn_data()
    } else {
        let loss = opts.loss.unwrap_or_else(|| default_loss(&cfg));
        return Ok(TcpModel::new(cfg.with_budgets(loss, opts.dup)));
    };
    let loss = opts.loss.unwrap_or(cfg.loss_budget);
    Ok(TcpModel::new(cfg.with_budgets(loss, opts.dup)))
}

/// One configuration `check h2` explores.
#[derive(Clone)]
pub struct H2Check {
    pub model: H2Model,
    /// Which streams it has, for the line printed above its results.
    pub streams: &'static str,
}

/// The HTTP/2 configurations `check h2` explores: each role in turn holds
/// the one-unit stream window and the 3-unit connection window (the other
/// peer's windows never run out), frames cross both ways. All three streams
/// at once are beyond an exhaustive search; two configurations cover them:
/// streams 1 and 3 (multiplexing, concurrency, implicit close), stream 1
/// and a push.
pub fn h2_checks() -> Vec<H2Check> {
    [
        (SERVER, 2, false),
        (SERVER, 1, true),
        (CLIENT, 2, false),
        (CLIENT, 1, true),
    ]
    .into_iter()
    .map(|(iut, client_streams, push)| {
        let mut cfg = H2Config::new(iut);
        cfg.probes = false;
        cfg.client_streams = client_streams;
        cfg.push = push;
        H2Check {
            model: H2Model::new(cfg),
            streams: if push {
                "client stream 1 and pushed stream 2"
            } else {
                "client streams 1 and 3"
            },
        }
    })
    .collect()
}

/// The HTTP/2 model `explore h2` serves: the IUT as server, stream 1 and a
/// push, no probes (small enough to walk in a browser).
pub fn h2_explore() -> H2Model {
    let mut cfg = H2Config::new(SERVER);
    cfg.probes = false;
    cfg.client_streams = 1;
    H2Model::new(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_pick_the_budgets() {
        let p = Profile::rfc9293();
        let plain = tcp_model(
            &p,
            &TcpOptions {
                dup: 1,
                ..Default::default()
            },
            |_| 2,
        )
        .unwrap();
        assert_eq!((plain.cfg.loss_budget, plain.cfg.dup_budget), (2, 1));
        let lossy = TcpOptions {
            loss: Some(0),
            dup: 0,
            ..Default::default()
        };
        let m = tcp_model(&p, &lossy, |_| 2).unwrap();
        assert_eq!((m.cfg.loss_budget, m.cfg.dup_budget), (0, 0));
        // A scenario's own loss budget, not the command's default.
        let inc = TcpOptions {
            incarnations: true,
            dup: 1,
            ..Default::default()
        };
        let m = tcp_model(&p, &inc, |_| 7).unwrap();
        assert!(m.cfg.incarnations);
        assert_ne!(m.cfg.loss_budget, 7);
    }

    #[test]
    fn check_h2_covers_both_roles_with_and_without_a_push() {
        let checks = h2_checks();
        assert_eq!(checks.len(), 4);
        for iut in [SERVER, CLIENT] {
            for push in [false, true] {
                assert!(checks
                    .iter()
                    .any(|c| c.model.cfg.iut == iut && c.model.cfg.push == push));
            }
        }
        assert!(checks.iter().all(|c| !c.model.cfg.probes));
    }
}
