//! YAML files a user writes by hand (profiles, deviation lists): reading
//! and deserializing them with errors that name the file, the line and the
//! field, as `file:line:col: field: message`.

use std::path::Path;

use serde::de::DeserializeOwned;

/// A YAML file that could not be read, naming file, line and field.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {field}{message}", location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct YamlFileError {
    pub file: String,
    pub location: Option<(usize, usize)>,
    /// The field path, followed by ": ", or empty.
    pub field: String,
    pub message: String,
}

/// The file's name as errors show it, and its text.
pub fn read(path: &Path) -> Result<(String, String), YamlFileError> {
    let file = path.display().to_string();
    let text = crate::load::read_bounded(path).map_err(|message| YamlFileError {
        file: file.clone(),
        location: None,
        field: String::new(),
        message,
    })?;
    Ok((file, text))
}

/// `text` (the contents of `file`) as a `T`.
pub fn deserialize<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, YamlFileError> {
    if let Some((line, message)) = crate::load::too_deep(text) {
        return Err(YamlFileError {
            file: file.to_string(),
            location: Some((line, 1)),
            field: String::new(),
            message,
        });
    }
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_yaml appends the location, which the error shows first.
        let mut message = inner.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        // serde_yaml may name the field itself; it is named once, in front.
        if let Some(rest) = message.strip_prefix(&format!("{path}: ")) {
            message = rest.to_string();
        }
        YamlFileError {
            file: file.to_string(),
            location: inner.location().map(|l| (l.line(), l.column())),
            field: if path == "." {
                String::new()
            } else {
                format!("{path}: ")
            },
            message,
        }
    })
}
