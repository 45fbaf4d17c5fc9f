//! The presets of the admin API: script presets (a starting point for a script mapping)
//! and signature presets (the schemes of well-known senders), as `crate::presets` and
//! `crate::security::presets` embed them.

use serde_json::{Value, json};

use crate::server::error::ApiError;

/// `GET /api/presets`: every script preset with its summary, every signature preset's name.
pub fn list() -> Value {
    let scripts: Vec<Value> =
        crate::presets::list().iter().map(|p| json!({"name": p.name, "summary": p.summary()})).collect();
    let signatures: Vec<Value> = crate::security::presets::list().iter().map(|p| json!({"name": p.name})).collect();
    json!({"scripts": scripts, "signatures": signatures})
}

/// `GET /api/presets/scripts/{name}`: the script, its summary and the sample it maps.
pub fn script(name: &str) -> Result<Value, ApiError> {
    let preset = crate::presets::get(name).ok_or_else(|| ApiError::not_found("script preset", name))?;
    Ok(json!({
        "name": preset.name,
        "summary": preset.summary(),
        "script": preset.script,
        "sample": parse(preset.sample)?,
        "request": parse(preset.request)?,
    }))
}

/// `GET /api/presets/signatures/{name}`: the signature scheme, as a trigger's
/// `security.signature.scheme` takes it.
pub fn signature(name: &str) -> Result<Value, ApiError> {
    let preset = crate::security::presets::get(name).ok_or_else(|| ApiError::not_found("signature preset", name))?;
    Ok(json!({"name": preset.name, "scheme": parse(preset.json)?}))
}

fn parse(text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(ApiError::internal)
}
