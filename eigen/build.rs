//! Set `deq_avx512` when the compiler has stable AVX-512 intrinsics (rustc 1.89 and later; older compilers, down
//! to the declared rust-version, build the AVX2 and portable paths). With the `openblas` feature, check that the
//! system OpenBLAS is there before anything tries to link it, and say how to install it when it is not.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(deq_avx512)");
    if autocfg::new().probe_rustc_version(1, 89) {
        println!("cargo:rustc-cfg=deq_avx512");
    }
    if std::env::var_os("CARGO_FEATURE_OPENBLAS").is_none() {
        return;
    }
    let via_pkg_config = Command::new("pkg-config")
        .args(["--exists", "openblas"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib",
        "/opt/homebrew/opt/openblas/lib",
    ];
    let on_disk = dirs.iter().any(|d| {
        Path::new(d).join("libopenblas.so").exists()
            || Path::new(d).join("libopenblas.dylib").exists()
    });
    if !(via_pkg_config || on_disk) {
        panic!(
            "\n\nthe `openblas` feature links the system OpenBLAS, which was not found (no pkg-config entry \
             `openblas`, no libopenblas.so). On Debian/Ubuntu install it with:\n\n    \
             apt-get install -y libopenblas-dev pkg-config\n\nor build without `--features openblas` to use \
             the pure-Rust backend.\n"
        );
    }
}
