//! The trace vocabulary: the one contract between the models that write
//! traces and the replay that reads them (`tracewright/1`).
//!
//! - [`trace`]: TCP traces: steps, segments, states, flags, waits, and
//!   the coverage a trace names;
//! - [`h2`]: HTTP/2 traces: frames, application calls, stream checks;
//! - [`profile`]: a stack's parameters (retries, timers, switches);
//! - [`load`]: corpora from disk, with errors naming file, line and field;
//! - [`yaml`]: the YAML reader under both.
//!
//! It depends on no target and no stack: the model links this crate, never
//! the implementation it judges.
pub mod h2;
pub mod load;
pub mod profile;
pub mod trace;
pub mod yaml;
