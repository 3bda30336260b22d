//! tracewright's models: stateright references of the TCP connection
//! lifecycle, of a listener under a SYN flood and of HTTP/2 streams, their
//! properties, and trace generation (path → trace, [`gen`]).
pub mod configs;
pub mod gen;
pub mod h2;
pub mod ladder;
pub mod listener;
pub mod tcp;

/// TCP generation under the paths the CLI, the tests and the benches use.
pub mod generate {
    pub use crate::gen::tcp::{
        generate, generation_model, label_of, project, role_of, trace_id, Tcp,
    };
    pub use crate::gen::{
        bfs, coverage_yaml, shortest_path_to, write_corpus, write_files, Label, WriteError,
        Written, COVERAGE_FILE,
    };
    /// A TCP corpus.
    pub type Corpus = crate::gen::Corpus<tracewright_vocab::trace::Trace>;
}

/// Listener generation under the paths the CLI and the tests use.
pub mod listener_gen {
    pub use crate::gen::listener::{
        coverage_text, generate, generation_model, label_of, project, write_corpus, Listener,
    };
}

/// HTTP/2 generation under the paths the CLI and the tests use.
pub mod h2gen {
    pub use crate::gen::h2::{
        generate_h2, generation_models, label_of, pair_coverage, pattern, project, send_spec,
        trace_id, write_h2_corpus, H2Corpus, H2,
    };
    pub use crate::gen::Label;
}
