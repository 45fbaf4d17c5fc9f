//! Signature schemes of well-known senders, embedded from `presets/security/*.json`.

use super::scheme::{SchemeError, SignatureScheme};

/// A named scheme shipped with hookmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name used with `--preset` (e.g. `stripe`).
    pub name: &'static str,
    /// The scheme's JSON text.
    pub json: &'static str,
}

impl Preset {
    /// Parses the preset's JSON into a scheme (every preset is tested to parse).
    pub fn scheme(&self) -> Result<SignatureScheme, SchemeError> {
        SignatureScheme::from_json(self.json)
    }
}

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        &[$(Preset { name: $name, json: include_str!(concat!("../../presets/security/", $name, ".json")) }),*]
    };
}

static PRESETS: &[Preset] = presets![
    "github",
    "github-sha1",
    "intercom",
    "paddle",
    "shopify",
    "slack",
    "square",
    "standard-webhooks",
    "stripe",
    "svix",
    "typeform",
    "zendesk",
];

/// Every preset, sorted by name.
pub fn list() -> &'static [Preset] {
    PRESETS
}

/// The preset called `name`, if there is one.
pub fn get(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_names_are_sorted_and_unique() {
        for p in list() {
            if let Err(e) = p.scheme() {
                panic!("preset {}: {e}", p.name);
            }
        }
        let names: Vec<_> = list().iter().map(|p| p.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_preset_file_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/presets/security");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_owned())
            .collect();
        files.sort();
        let names: Vec<_> = list().iter().map(|p| p.name.to_owned()).collect();
        assert_eq!(files, names);
    }

    #[test]
    fn get_finds_by_exact_name() {
        assert_eq!(get("stripe").map(|p| p.name), Some("stripe"));
        assert!(get("Stripe").is_none());
        assert!(get("twilio").is_none());
    }
}
