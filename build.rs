//! Builds the script sandbox guest (`sandbox/`, boa_engine) for `wasm32-wasip1`; the `runtime`
//! module embeds the resulting bytes. Rebuilt only when the guest's sources change.
//!
//! The guest needs the Rust standard library for `wasm32-wasip1`. rustup does not add the
//! `targets` of `rust-toolchain.toml` to a toolchain that is already installed, so the build checks
//! for it first: when it is missing it is installed with rustup (a `cargo:warning` says so), and
//! where that is impossible the build fails at once with the command to run.

use std::env;
use std::path::{Path, PathBuf};
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
    let toolchain = Toolchain::of(&manifest_dir);
    if let Err(message) = toolchain.ensure_wasm_target() {
        // The message is the whole report: no panic, so no backtrace around it.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
    let mut command = toolchain.command("cargo");
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
    assert!(status.success(), "building the sandbox guest (sandbox/) for {WASM_TARGET} failed");

    let wasm = target_dir.join("wasm32-wasip1").join("release").join("hookmap_sandbox_guest.wasm");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("sandbox-guest.wasm");
    std::fs::copy(&wasm, &out).expect("cannot copy the sandbox guest into OUT_DIR");
}

/// The target the guest is built for.
const WASM_TARGET: &str = "wasm32-wasip1";

/// The toolchain that builds the guest.
enum Toolchain {
    /// Under rustup: the project's pinned toolchain (the `channel` of `rust-toolchain.toml`),
    /// whatever toolchain builds the host. `cargo +nightly fuzz` builds the host with nightly,
    /// which may lack `wasm32-wasip1`.
    Rustup {
        /// The pinned channel, e.g. `1.95.0`.
        channel: String,
    },
    /// Without rustup: the cargo and rustc that build the host.
    Host,
}

impl Toolchain {
    /// The toolchain for this build: rustup's pinned one when cargo runs under rustup.
    fn of(manifest_dir: &Path) -> Toolchain {
        println!("cargo:rerun-if-changed=rust-toolchain.toml");
        let pinned = std::fs::read_to_string(manifest_dir.join("rust-toolchain.toml")).ok().and_then(|text| {
            text.lines()
                .filter_map(|line| line.trim().strip_prefix("channel"))
                .find_map(|rest| rest.trim().strip_prefix('=').map(|v| v.trim().trim_matches('"').to_owned()))
        });
        match pinned {
            Some(channel) if env::var_os("RUSTUP_TOOLCHAIN").is_some() => Toolchain::Rustup { channel },
            _ => Toolchain::Host,
        }
    }

    /// A command running `tool` (`cargo`, `rustc`) of this toolchain.
    fn command(&self, tool: &str) -> Command {
        match self {
            Toolchain::Rustup { channel } => {
                let mut command = Command::new("rustup");
                command.args(["run", channel, tool]);
                command
            }
            Toolchain::Host => {
                let var = if tool == "cargo" { "CARGO" } else { "RUSTC" };
                Command::new(env::var_os(var).unwrap_or_else(|| tool.into()))
            }
        }
    }

    /// Checks that the standard library for [`WASM_TARGET`] is installed, and installs it with
    /// rustup when it is not. The error is the report for the person building.
    fn ensure_wasm_target(&self) -> Result<(), String> {
        if self.has_wasm_target() {
            return Ok(());
        }
        let Toolchain::Rustup { channel } = self else {
            return Err(format!(
                "the Rust standard library for {WASM_TARGET} is missing from the toolchain building hookmap \
                 (the script sandbox is built for it). With rustup: `rustup target add {WASM_TARGET} \
                 --toolchain <your toolchain>`; otherwise install your distribution's {WASM_TARGET} standard library."
            ));
        };
        let fix = format!("rustup target add {WASM_TARGET} --toolchain {channel}");
        println!("cargo:warning=the {WASM_TARGET} target was missing from toolchain {channel}: running `{fix}`");
        let installed = Command::new("rustup")
            .args(["target", "add", WASM_TARGET, "--toolchain", channel])
            .env_remove("RUST_BACKTRACE")
            .status()
            .is_ok_and(|status| status.success());
        if installed && self.has_wasm_target() {
            return Ok(());
        }
        Err(format!(
            "the Rust standard library for {WASM_TARGET} is missing from toolchain {channel} and `{fix}` \
             failed (see its output above). Run it by hand when the network allows, then build again."
        ))
    }

    /// Whether this toolchain's target library directory for [`WASM_TARGET`] holds `libcore`.
    fn has_wasm_target(&self) -> bool {
        let output = self.command("rustc").args(["--print", "target-libdir", "--target", WASM_TARGET]).output();
        let Ok(output) = output.map(|o| o.stdout) else {
            return false;
        };
        let dir = PathBuf::from(String::from_utf8_lossy(&output).trim());
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| entry.file_name().to_str().is_some_and(|name| name.starts_with("libcore-")))
        })
    }
}
