//! `H2Model::actions` lists only what a state may enable (for the
//! checker's speed), so this checks it leaves out nothing `step` enables:
//! every action the model has, tried on every state of the smallest
//! configuration and on the first states of every other one, probes
//! included.

use std::collections::{HashSet, VecDeque};

use stateright::Model;
use tracewright_model::configs::h2_checks;
use tracewright_model::h2::{Action, H2Config, H2Model, World, SERVER, STREAM_IDS};
use tracewright_model::h2gen::generation_models;

/// Every action of the model, whatever the state.
fn every_action(m: &H2Model) -> Vec<Action> {
    let mut v = vec![
        Action::NetDeliver { from: 0 },
        Action::NetDeliver { from: 1 },
    ];
    for end in [0, 1] {
        for stream in STREAM_IDS {
            for end_stream in [false, true] {
                for split in [false, true] {
                    v.push(Action::AppRequest {
                        end,
                        stream,
                        end_stream,
                        split,
                    });
                }
                v.push(Action::AppRespond {
                    end,
                    stream,
                    end_stream,
                });
                v.push(Action::AppData {
                    end,
                    stream,
                    end_stream,
                });
            }
            v.push(Action::AppEnd { end, stream });
            v.push(Action::AppReset { end, stream });
            v.push(Action::AppPush { end, stream });
        }
        for stream in [0, 1, 3, 5, 2] {
            v.push(Action::HarnessWindowUpdate { end, stream });
        }
        v.push(Action::AppGoaway { end });
        for frame in m.probes().into_iter().chain(H2Model::preface_probes()) {
            v.push(Action::HarnessProbe { end, frame });
        }
    }
    v
}

/// Walks `limit` states of `m` breadth first and checks each.
fn check(m: &H2Model, limit: usize) -> usize {
    let all = every_action(m);
    let mut seen: HashSet<World> = HashSet::new();
    let mut queue: VecDeque<World> = m.init_states().into();
    let mut listed = Vec::new();
    let mut checked = 0;
    while let Some(w) = queue.pop_front() {
        if checked == limit {
            break;
        }
        checked += 1;
        listed.clear();
        m.actions(&w, &mut listed);
        for &a in &all {
            let Some(next) = m.next_state(&w, a) else {
                continue;
            };
            // Probes are listed as before (the preface's never: they are
            // the generator's excursions); they are here for the states
            // they lead to.
            assert!(
                matches!(a, Action::HarnessProbe { .. }) || listed.contains(&a),
                "{a:?} is enabled but not listed in {w:?}"
            );
            assert_eq!(m.step(&w, a).map(|(n, _)| n), Some(next));
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    checked
}

#[test]
fn actions_leave_out_no_enabled_action() {
    // The smallest generation model, whole.
    let small = generation_models()
        .into_iter()
        .min_by_key(|m| (m.cfg.iut, m.cfg.client_streams))
        .unwrap();
    let n = check(&small, usize::MAX);
    assert!(n > 10_000, "only {n} states walked");
    for m in generation_models() {
        check(&m, 5_000);
    }
    for c in h2_checks() {
        check(&c.model, 5_000);
    }
    // The harness's probes, on both roles.
    for iut in [SERVER, 1 - SERVER] {
        check(&H2Model::new(H2Config::new(iut)), 5_000);
    }
}
