//! tracewright's models: stateright references of the TCP connection
//! lifecycle and of a listener under a SYN flood, their properties, and
//! trace generation (path → trace).
pub mod configs;
pub mod generate;
pub mod h2;
pub mod h2gen;
pub mod ladder;
pub mod listener;
pub mod listener_gen;
pub mod tcp;
