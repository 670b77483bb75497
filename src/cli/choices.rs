//! The values a flag can take that are the core's own enums.
//!
//! The core's types carry no clap derive (clap stays in `cli`, as in fd and
//! xh), so each one's names and help for the command line are given here, in
//! one table per type.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::journal::job::{Action, State};
use crate::report::Cutoff;
use crate::serve::forward::ForwardMethod;
use crate::upload::{ProtocolChoice, PutMethod};

/// `impl ValueEnum` from a table of variant, name and help.
macro_rules! choices {
    ($type:ty { $($variant:expr => $name:literal, $help:literal;)* }) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($variant),*]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                let (name, help) = match self {
                    $(value if *value == $variant => ($name, $help),)*
                    _ => return None,
                };
                Some(PossibleValue::new(name).help(help))
            }
        }
    };
}

choices!(ProtocolChoice {
    ProtocolChoice::Auto => "auto", "IETF resumable uploads if the server announces it, else tus, else PUT";
    ProtocolChoice::Ietf => "ietf", "The IETF resumable uploads draft (see --ietf-version)";
    ProtocolChoice::Tus => "tus", "tus 1.0";
    ProtocolChoice::Put => "put", "One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}";
    ProtocolChoice::Bits => "bits", "BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it";
});

choices!(State {
    State::Pending => "pending", "Queued, not started";
    State::Registered => "registered", "The server holds an upload session; bytes may be partly sent";
    State::Succeeded => "succeeded", "Uploaded and confirmed";
    State::Failed => "failed", "Gave up; stays on the failures list until retried or acknowledged";
    State::Cancelled => "cancelled", "Stopped on request";
});

choices!(Action {
    Action::Process => "process", "Jobs to upload: pending or registered";
    Action::Retry => "retry", "Jobs that can be retried: failed and not acknowledged";
    Action::Acknowledge => "acknowledge", "Jobs that can be acknowledged: succeeded or failed, not yet acknowledged";
});

choices!(PutMethod {
    PutMethod::Put => "put", "PUT the file to the URL";
    PutMethod::Post => "post", "POST the file to the URL";
});

choices!(Cutoff {
    Cutoff::Hard => "hard", "Stop the uploads in flight; they resume on the next run";
    Cutoff::Soft => "soft", "Let the uploads in flight finish; start no new one";
});

choices!(ForwardMethod {
    ForwardMethod::Put => "put", "PUT the file to the backend";
    ForwardMethod::Post => "post", "POST the file to the backend";
});

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant has a name, and the names are the ones the journal and
    /// the config file use, so `--state failed` means the recorded `failed`.
    #[test]
    fn every_variant_is_named_as_elsewhere() {
        for state in State::value_variants() {
            let value = state.to_possible_value().unwrap();
            assert_eq!(value.get_name(), state.name());
        }
        for choice in ProtocolChoice::value_variants() {
            let name = choice.to_possible_value().unwrap().get_name().to_owned();
            let parsed: ProtocolChoice = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, *choice);
        }
        assert_eq!(Action::value_variants().len(), 3);
        assert!(
            Cutoff::value_variants()
                .iter()
                .all(|c| c.to_possible_value().is_some())
        );
    }
}
