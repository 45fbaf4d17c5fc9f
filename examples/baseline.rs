//! The load benchmark's baseline (`benches/load.sh`): a bare hyper 1 server on the same
//! runtime settings as `hookmap serve`, answering every request `202 {"eventId":"x"}`
//! after reading the body. No parsing, no signature, no storage.
//!
//! `cargo run --release --example baseline -- 127.0.0.1:18090`
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(br#"{"eventId":"x","mode":"live"}"#)));
    *response.status_mut() = StatusCode::ACCEPTED;
    Ok(response)
}

fn main() {
    let addr: SocketAddr =
        std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".into()).parse().expect("address");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        println!("baseline: http://{}", listener.local_addr().expect("address"));
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}
