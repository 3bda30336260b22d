//! tracewright's models: stateright references of the TCP connection
//! lifecycle, their properties, and trace generation (path → trace).
pub mod generate;
pub mod h2;
pub mod h2gen;
pub mod ladder;
pub mod tcp;
