//! Builds the script sandbox guest (`sandbox/`, boa_engine) for `wasm32-wasip1`; the `runtime`
//! module embeds the resulting bytes. Rebuilt only when the guest's sources change.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let guest_dir = manifest_dir.join("sandbox");
    println!("cargo:rerun-if-changed=sandbox/src");
    println!("cargo:rerun-if-changed=sandbox/Cargo.toml");
    println!("cargo:rerun-if-changed=sandbox/Cargo.lock");

    // The guest has its own target directory, shared by every profile of the host, so switching
    // between `cargo build`, `test` and `bench` does not rebuild boa.
    let target_dir = manifest_dir.join("target").join("sandbox-guest");
    let mut command = guest_cargo(&manifest_dir);
    command
        .current_dir(&guest_dir)
        .args(["build", "--release", "--locked", "--target", "wasm32-wasip1", "--target-dir"])
        .arg(&target_dir);
    // What the outer cargo hands to build scripts must not leak into the nested build: flags meant
    // for the host target, its target directory, and the jobserver (the nested cargo has its own).
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
    ] {
        command.env_remove(var);
    }
    for (key, _) in env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_CFG_") || key.starts_with("CARGO_FEATURE_"))
        {
            command.env_remove(key);
        }
    }
    let status = command.status().expect("cannot run cargo to build the sandbox guest");
    assert!(status.success(), "building the sandbox guest (sandbox/) for wasm32-wasip1 failed");

    let wasm = target_dir.join("wasm32-wasip1").join("release").join("hookmap_sandbox_guest.wasm");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("sandbox-guest.wasm");
    std::fs::copy(&wasm, &out).expect("cannot copy the sandbox guest into OUT_DIR");
}

/// The cargo that builds the guest. Under rustup it is the project's pinned toolchain (from
/// `rust-toolchain.toml`, which also installs the wasm target), whatever toolchain builds the
/// host: `cargo +nightly fuzz` builds the host with nightly, which may lack `wasm32-wasip1`.
fn guest_cargo(manifest_dir: &std::path::Path) -> Command {
    println!("cargo:rerun-if-changed=rust-toolchain.toml");
    let pinned = std::fs::read_to_string(manifest_dir.join("rust-toolchain.toml")).ok().and_then(|text| {
        text.lines()
            .filter_map(|line| line.trim().strip_prefix("channel"))
            .find_map(|rest| rest.trim().strip_prefix('=').map(|v| v.trim().trim_matches('"').to_owned()))
    });
    match pinned {
        Some(channel) if env::var_os("RUSTUP_TOOLCHAIN").is_some() => {
            let mut command = Command::new("rustup");
            command.args(["run", &channel, "cargo"]);
            command
        }
        _ => Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
    }
}
