//! stub
use crate::h2::{H2App, H2Target};
use crate::target::TargetError;
use crate::trace::Role;
#[derive(Default)]
pub struct H2Crate;
impl H2Crate { pub fn new() -> Self { H2Crate } }
impl H2Target for H2Crate {
    fn name(&self) -> &str { "h2crate" }
    fn open(&mut self, _role: Role) -> Result<(), TargetError> { Err(TargetError::Unsupported("stub".into())) }
    fn app(&mut self, _call: &H2App) -> Result<(), TargetError> { Ok(()) }
    fn deliver(&mut self, _bytes: &[u8]) -> Result<(), TargetError> { Ok(()) }
    fn poll(&mut self) -> Result<Vec<u8>, TargetError> { Ok(vec![]) }
    fn stream_state(&mut self, _stream: u32) -> Option<String> { None }
    fn close(&mut self) {}
}
