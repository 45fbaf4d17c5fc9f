//! The setup screen: the files of `web/`, embedded in the binary and served by the admin
//! listener at `/` without the admin token. The page asks for the token and sends it with
//! every call to the admin API, which stays protected.

use hyper::header::{CACHE_CONTROL, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};

use super::error::ApiError;
use super::http::{self, HttpResponse};

/// One embedded file of the page.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! assets {
    ($(($path:literal, $file:literal, $type:expr)),* $(,)?) => {
        &[$(Asset { path: $path, content_type: $type, body: include_str!(concat!("../../web/", $file)) }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: &[Asset] = assets![
    ("/", "index.html", HTML),
    ("/style.css", "style.css", CSS),
    ("/app.js", "app.js", JS),
    ("/api.js", "api.js", JS),
    ("/dom.js", "dom.js", JS),
    ("/json.js", "json.js", JS),
    ("/triggers.js", "triggers.js", JS),
    ("/setup.js", "setup.js", JS),
    ("/structured.js", "structured.js", JS),
    ("/editor.js", "editor.js", JS),
    ("/security.js", "security.js", JS),
    ("/activity.js", "activity.js", JS),
];

/// The page loads only its own files and talks only to its own origin; nothing inline runs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Whether `path` is a file of the page (`/`, `/index.html`, `/app.js`, …).
pub fn is_page(path: &str) -> bool {
    find(path).is_some()
}

fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

/// Answers a request for a file of the page: the file for `GET`, 405 otherwise.
pub fn serve(method: &Method, path: &str) -> HttpResponse {
    let Some(asset) = find(path) else {
        return ApiError::new(super::error::ErrorKind::RouteNotFound, "no such route").into_response();
    };
    if method != Method::GET {
        return ApiError::method_not_allowed("GET").into_response();
    }
    let mut response = http::text_response(StatusCode::OK, asset.content_type, asset.body.to_owned());
    let headers = response.headers_mut();
    // The files change with the binary: the browser revalidates instead of keeping a stale copy.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
        .insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer"));
    headers.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_web_folder_is_served() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
        let mut on_disk: Vec<String> =
            std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        on_disk.sort();
        let mut served: Vec<String> = ASSETS
            .iter()
            .map(|a| if a.path == "/" { "index.html".to_owned() } else { a.path[1..].to_owned() })
            .collect();
        served.sort();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn only_page_files_are_pages() {
        assert!(is_page("/") && is_page("/index.html") && is_page("/app.js"));
        assert!(!is_page("/api/triggers") && !is_page("/metrics") && !is_page("/nope.js"));
    }
}
