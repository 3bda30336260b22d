// replaced at merge by h2/net.rs
//
//! Stands in for the network HTTP/2 target (`h2c://HOST:PORT`, written in
//! parallel as `h2/net.rs`) so that the server entries of the registry
//! compile: the connection it returns refuses every trace as unsupported.
//! At merge, delete this file and its `mod` line, and make
//! [`crate::h2::servers::ServedH2::connect`] build the real target
//! (`NetH2::cleartext(&addr.to_string())`).

use std::net::SocketAddr;

use crate::h2::{H2App, H2Settings, H2Target, StreamState};
use crate::target::{Clock, TargetError};
use crate::trace::Role;

/// An HTTP/2 connection with prior knowledge to `addr`: not here yet.
pub fn connect_h2c(addr: SocketAddr) -> Box<dyn H2Target> {
    Box::new(NotMerged(format!("h2c://{addr}")))
}

struct NotMerged(String);

impl NotMerged {
    fn unsupported(&self) -> TargetError {
        TargetError::Unsupported(format!(
            "{}: the h2c network target is not in this build",
            self.0
        ))
    }
}

impl H2Target for NotMerged {
    fn name(&self) -> &str {
        &self.0
    }
    fn clock(&self) -> Clock {
        Clock::Real {
            tolerance: std::time::Duration::from_millis(500),
        }
    }
    fn open(&mut self, _: Role, _: &H2Settings) -> Result<(), TargetError> {
        Err(self.unsupported())
    }
    fn app(&mut self, _: &H2App) -> Result<(), TargetError> {
        Err(self.unsupported())
    }
    fn deliver(&mut self, _: &[u8]) -> Result<(), TargetError> {
        Err(self.unsupported())
    }
    fn poll(&mut self) -> Result<Vec<u8>, TargetError> {
        Err(self.unsupported())
    }
    fn stream_state(&mut self, _: u32) -> Result<Option<StreamState>, TargetError> {
        Ok(None)
    }
    fn close(&mut self) {}
}
