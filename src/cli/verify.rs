//! `hookmap verify`: check a signed request from the command line.
//!
//! Exit codes: 0 valid (prints `valid`), 1 invalid (prints the reason), 2 usage or configuration
//! error (bad scheme, unknown preset, unreadable file, malformed `-H`, bad secret).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookmap::security::{SignatureScheme, SignedRequest, presets};

/// Arguments of `hookmap verify`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scheme", "preset"])))]
pub struct VerifyArgs {
    /// Signature scheme JSON file.
    #[arg(long, value_name = "FILE")]
    pub scheme: Option<PathBuf>,
    /// Built-in scheme (e.g. stripe, github, slack, standard-webhooks).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Shared secret; repeat for several (rotation): any match passes.
    #[arg(long = "secret", value_name = "S", required = true)]
    pub secrets: Vec<String>,
    /// File holding the raw request body, read as bytes (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// A request header, `Name: value`; repeat for several.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Current time in unix seconds for the timestamp window (default: the system clock).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<u64>,
    /// The request URL, for schemes that sign it (`[url]`, e.g. square).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// Runs the command; see the module docs for the exit codes.
pub fn run(args: &VerifyArgs) -> ExitCode {
    match verify(args) {
        Ok(Ok(())) => {
            println!("valid");
            ExitCode::SUCCESS
        }
        Ok(Err(reason)) => {
            println!("invalid: {reason}");
            ExitCode::from(1)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// `Err` is a usage/configuration problem (exit 2); `Ok(Err)` is a failed verification (exit 1).
fn verify(args: &VerifyArgs) -> Result<Result<(), String>, String> {
    let scheme = load_scheme(args)?;
    let keys = scheme.decode_secrets(&args.secrets).map_err(|e| e.to_string())?;
    let body = read_body(&args.body)?;
    let headers = args.headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?;
    let header_refs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    let mut request = SignedRequest::new(&body, &header_refs);
    if let Some(url) = &args.url {
        request = request.with_url(url);
    }
    let now = match args.now {
        Some(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        None => SystemTime::now(),
    };
    Ok(scheme.verify(&request, &keys, now).map(|_| ()).map_err(|e| e.to_string()))
}

fn load_scheme(args: &VerifyArgs) -> Result<SignatureScheme, String> {
    match (&args.scheme, &args.preset) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read scheme file {}: {e}", path.display()))?;
            SignatureScheme::from_json(&text).map_err(|e| format!("bad scheme {}: {e}", path.display()))
        }
        (None, Some(name)) => {
            let preset = presets::get(name).ok_or_else(|| {
                let names: Vec<_> = presets::list().iter().map(|p| p.name).collect();
                format!("unknown preset {name:?} (known: {})", names.join(", "))
            })?;
            preset.scheme().map_err(|e| format!("preset {name}: {e}"))
        }
        (None, None) => Err("give --scheme FILE or --preset NAME".to_owned()),
    }
}

fn read_body(path: &PathBuf) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|e| format!("cannot read the body from standard input: {e}"))?;
        return Ok(body);
    }
    std::fs::read(path).map_err(|e| format!("cannot read body file {}: {e}", path.display()))
}

/// `Name: value` → (name, value); the value is trimmed of surrounding spaces and tabs.
fn parse_header(text: &str) -> Result<(&str, &str), String> {
    let (name, value) = text.split_once(':').ok_or_else(|| format!("malformed -H {text:?}: expected 'Name: value'"))?;
    let name = name.trim();
    let valid_name =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid_name {
        return Err(format!("malformed -H {text:?}: {name:?} is not a header name"));
    }
    Ok((name, value.trim_matches([' ', '\t'])))
}

#[cfg(test)]
mod tests {
    use super::parse_header;

    #[test]
    fn headers_parse_like_curl() {
        assert_eq!(parse_header("X-A: b c "), Ok(("X-A", "b c")));
        assert_eq!(parse_header("t:1"), Ok(("t", "1")));
        assert_eq!(parse_header("S: t=1,v1=a:b"), Ok(("S", "t=1,v1=a:b")));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": value").is_err());
        assert!(parse_header("bad name: value").is_err());
    }
}
