//! Link ScaLAPACK (with BLACS) for OpenMPI, and ELPA with the `elpa` feature, found through pkg-config; a
//! missing library stops the build with the package that provides it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    probe(
        "scalapack-openmpi",
        "ScaLAPACK for OpenMPI (Debian: apt-get install libscalapack-openmpi-dev openmpi-bin libopenmpi-dev pkg-config)",
    );
    if std::env::var_os("CARGO_FEATURE_ELPA").is_some() {
        probe(
            "elpa",
            "ELPA for OpenMPI (Debian: apt-get install libelpa-dev), or a build without the `elpa` feature",
        );
    }
}

fn probe(name: &str, install: &str) {
    if let Err(e) = pkg_config::Config::new().probe(name) {
        panic!("\n\ndeq-distributed needs {install}.\npkg-config could not find `{name}`: {e}\n");
    }
}
