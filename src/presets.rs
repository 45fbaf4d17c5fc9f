//! Script-mapping presets, embedded from `presets/scripts/`: a Default script an
//! author starts from and one per common provider, each with a realistic sample,
//! the request it came with and the expected output (every preset runs as a test).

/// A script preset shipped with hookmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptPreset {
    /// The name used with `hookmap presets show` (e.g. `stripe`).
    pub name: &'static str,
    /// The JavaScript source, defining `function map(payload, request)`.
    pub script: &'static str,
    /// A realistic body from the provider, built from its public documentation.
    pub sample: &'static str,
    /// The `request` object (method, headers, query, receivedAt) the sample came with.
    pub request: &'static str,
    /// The output of the script on the sample.
    pub expected: &'static str,
}

impl ScriptPreset {
    /// What the preset maps: the `Preset:` paragraph of its header comment, on one line.
    pub fn summary(&self) -> String {
        let comment = self.script.lines().map(|line| line.trim_start_matches('/').trim());
        let paragraph: Vec<&str> = comment
            .skip_while(|line| !line.starts_with("Preset:"))
            .take_while(|line| !line.is_empty() && !line.starts_with("Docs:") && !line.starts_with("=="))
            .collect();
        paragraph.join(" ").trim_start_matches("Preset:").split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

macro_rules! script_presets {
    ($($name:literal),* $(,)?) => {
        &[$(ScriptPreset {
            name: $name,
            script: include_str!(concat!("../presets/scripts/", $name, ".js")),
            sample: include_str!(concat!("../presets/scripts/", $name, ".sample.json")),
            request: include_str!(concat!("../presets/scripts/", $name, ".request.json")),
            expected: include_str!(concat!("../presets/scripts/", $name, ".expected.json")),
        }),*]
    };
}

static PRESETS: &[ScriptPreset] = script_presets![
    "default",
    "github",
    "hubspot",
    "intercom",
    "jira",
    "salesforce",
    "segment",
    "servicenow",
    "shopify",
    "stripe",
    "twilio-sendgrid",
    "zendesk",
];

/// Every script preset, `default` first, then by name.
pub fn list() -> &'static [ScriptPreset] {
    PRESETS
}

/// The script preset called `name`.
pub fn get(name: &str) -> Option<&'static ScriptPreset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_presets_folder_is_embedded() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/presets/scripts");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".js").map(str::to_owned))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<&str> = list().iter().map(|p| p.name).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn presets_have_a_summary_and_json_fixtures() {
        for preset in list() {
            assert!(!preset.summary().is_empty(), "{} has no 'Preset:' line", preset.name);
            for (what, text) in [("sample", preset.sample), ("request", preset.request), ("expected", preset.expected)]
            {
                assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{}.{what}.json", preset.name);
            }
        }
        assert_eq!(get("stripe").map(|p| p.name), Some("stripe"));
        assert!(get("nope").is_none());
    }
}
